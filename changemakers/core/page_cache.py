"""Costly parts of pages that are the same for everyone allowed to see them, cached until the
program's data changes.

Every change of the program's data goes through a service and is audited (core/audit.py);
the audit bumps one *data version* when its transaction commits. A cached part's key holds that
version, so a committed change retires every cached part at once, in every web process, and a
change rolled back retires nothing. `PAGE_CACHE_TIMEOUT` bounds how long a part lives anyway.

Only what does not depend on who asks is cached here (a public list's results, staff's counts
and charts, which only staff pages show); the views decide who sees the page, as before.

The "pages" cache is Redis when the app has one, shared by the web processes and the workers
whose payments bump the version. Without Redis (the embedded defaults, where the worker is
another process) and in tests it is Django's dummy cache: nothing is cached and every page is
computed afresh.
"""

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable

from asgiref.local import Local
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.utils import timezone, translation

VERSION_KEY = "data-version"
logger = logging.getLogger(__name__)


# Within a request the version is read once: every cached part of one page belongs to the same
# version, and a page of several parts asks the cache once for it. A change the request commits
# sets the new version here too. Outside a request (a task, a command) it is read each time.
_request = Local()


def _request_started(**kwargs) -> None:
    _request.active, _request.version = True, None


def _request_finished(**kwargs) -> None:
    _request.active, _request.version = False, None


request_started.connect(_request_started, dispatch_uid="page_cache.request_started")
request_finished.connect(_request_finished, dispatch_uid="page_cache.request_finished")


def _pages():
    return caches["pages"]


def data_version() -> str:
    """The current data version (a fresh one when the cache has none)."""
    in_request = getattr(_request, "active", False)
    if in_request and _request.version is not None:
        return _request.version
    pages = _pages()
    version = pages.get(VERSION_KEY)
    if version is None:
        pages.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = pages.get(VERSION_KEY) or "none"
    if in_request:
        _request.version = version
    return version


def _new_version() -> None:
    version = uuid.uuid4().hex
    _pages().set(VERSION_KEY, version, timeout=None)
    if getattr(_request, "active", False):
        _request.version = version


def data_changed() -> None:
    """Retire every cached part once the current transaction commits (now, outside one):
    once per transaction, however many changes it holds; not at all without a cache."""
    if isinstance(_pages(), DummyCache):
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        func is _new_version for _, func, _ in connection.run_on_commit
    ):
        return
    # Robust: a cache that does not answer must not turn a committed change into an error.
    transaction.on_commit(_new_version, robust=True)


def _key(name: str, version: str, vary_on: Iterable[object]) -> str:
    parts = ":".join(str(part) for part in (translation.get_language(), *vary_on))
    return f"{name}:{version}:{hashlib.sha256(parts.encode()).hexdigest()[:32]}"


def cached[T](name: str, compute: Callable[[], T], *vary_on: object) -> T:
    """`compute()`, or its value cached for this data version, language and `vary_on`. A
    cache that does not answer costs the page its speed, never the page."""
    pages = _pages()
    try:
        key = _key(name, data_version(), vary_on)
        value = pages.get(key)
    except Exception:
        logger.warning("The pages cache did not answer; computing %s", name, exc_info=True)
        return compute()
    if value is None:
        value = compute()
        try:
            pages.set(key, value, timeout=settings.PAGE_CACHE_TIMEOUT)
        except Exception:
            logger.warning("The pages cache did not answer; %s not kept", name, exc_info=True)
    return value


class RowFragments:
    """The markup of one part of each row of a list (`name`), cached per row: under the row's
    primary key and last change, the data version, the language and the time zone (a row may
    show a time). All the rows' parts are asked for in one round trip; a missing one is
    rendered when its row is, and kept. Only for markup that is the same for everyone who may
    see the row: no permission, no user, no CSRF token inside."""

    def __init__(self, name: str, rows: Iterable) -> None:
        self.name = name
        self.found: dict[str, str] = {}
        try:
            self.version: str | None = data_version()
            self.found = _pages().get_many([self._key(row) for row in rows])
        except Exception:
            logger.warning("The pages cache did not answer; rendering %s", name, exc_info=True)
            self.version = None

    def _key(self, row) -> str:
        zone = timezone.get_current_timezone_name()
        return _key(f"rows:{self.name}", self.version, (zone, row.pk, row.updated_at))

    def get(self, row, render: Callable[[], str]) -> str:
        """The row's part: cached, or `render()`ed and kept."""
        if self.version is None:
            return render()
        key = self._key(row)
        html = self.found.get(key)
        if html is None:
            html = render()
            try:
                _pages().set(key, html, timeout=settings.PAGE_CACHE_TIMEOUT)
            except Exception:
                logger.warning("The pages cache did not answer; %s not kept", key, exc_info=True)
        return html
