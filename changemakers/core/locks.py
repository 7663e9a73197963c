"""Named locks across processes, for work that must not run twice at once.

On PostgreSQL a session-level advisory lock: held by the database connection, so a worker
killed with -9 lets go of it as its connection closes, and no transaction stays open while the
lock is held. Other databases (SQLite in development and tests) get a lock within this process
only. Either way a name held in this process is refused to it again, also from another thread.
"""

import hashlib
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

_held: set[str] = set()
_held_guard = threading.Lock()


def _key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), signed=True)


@contextmanager
def try_lock(name: str) -> Iterator[bool]:
    """Take the lock `name` if nobody holds it; yields whether it was taken. Never waits."""
    with try_locks([name]) as taken:
        yield name in taken


@contextmanager
def try_locks(names: Iterable[str]) -> Iterator[frozenset[str]]:
    """Take each of the locks `names` that nobody holds, in one round trip; yields the names
    taken (the others are someone else's now). Never waits. For work done in chunks: a chunk
    of payments locks its grants together, as each would alone with `try_lock`."""
    wanted = list(dict.fromkeys(names))
    with _held_guard:
        free = [name for name in wanted if name not in _held]
        _held.update(free)
    try:
        if not free or connection.vendor != "postgresql":
            yield frozenset(free)
            return
        keys = {_key(name): name for name in free}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT key, pg_try_advisory_lock(key) FROM unnest(%s::bigint[]) AS key",
                [list(keys)],
            )
            taken = frozenset(keys[key] for key, locked in cursor.fetchall() if locked)
        try:
            yield taken
        finally:
            if taken:
                _unlock(taken)
    finally:
        with _held_guard:
            _held.difference_update(free)


def _unlock(names: Iterable[str]) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_unlock(key) FROM unnest(%s::bigint[]) AS key",
                [[_key(name) for name in names]],
            )
    except DatabaseError:
        # The locks belong to the connection: closing it is the sure way to let go.
        logger.warning("Could not release locks %s; closing the connection.", sorted(names))
        connection.close()
