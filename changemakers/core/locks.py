"""Named locks across processes, for work that must not run twice at once.

On PostgreSQL a session-level advisory lock: held by the database connection, so a worker
killed with -9 lets go of it as its connection closes, and no transaction stays open while the
lock is held. Other databases (SQLite in development and tests) get a lock within this process
only. Either way a name held in this process is refused to it again, also from another thread.
"""

import hashlib
import logging
import threading
from collections.abc import Iterator
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
    with _held_guard:
        if name in _held:
            yield_taken = False
        else:
            _held.add(name)
            yield_taken = True
    if not yield_taken:
        yield False
        return
    try:
        if connection.vendor != "postgresql":
            yield True
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_key(name)])
            taken = cursor.fetchone()[0]
        try:
            yield taken
        finally:
            if taken:
                _unlock(name)
    finally:
        with _held_guard:
            _held.discard(name)


def _unlock(name: str) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_key(name)])
    except DatabaseError:
        # The lock belongs to the connection: closing it is the sure way to let go.
        logger.warning("Could not release lock %s; closing the connection.", name)
        connection.close()
