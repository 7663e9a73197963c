"""Named locks (changemakers.core.locks): a name another connection holds is not taken, several
names are taken in one round trip, and each is let go of on the way out."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from changemakers.core.locks import _key, try_lock, try_locks


def _holding(other, name: str) -> bool:
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_key(name)])
        return cursor.fetchone()[0]


def test_only_the_free_names_are_taken_and_all_are_let_go_of(db):
    other = connection.get_new_connection(connection.get_connection_params())
    other.autocommit = True
    try:
        assert _holding(other, "b")  # another worker holds "b"

        with (
            CaptureQueriesContext(connection) as round_trips,
            try_locks(["a", "b", "c", "a"]) as taken,
        ):
            assert taken == {"a", "c"}
            assert not _holding(other, "a")
            assert not _holding(other, "c")
        assert len(round_trips) == 2  # one to take them all, one to let them go

        assert _holding(other, "a")  # let go of
        assert _holding(other, "c")
    finally:
        other.close()


def test_a_name_held_in_this_process_is_refused_to_it_again(db):
    with try_lock("payment:1") as first, try_locks(["payment:1", "payment:2"]) as again:
        assert first
        assert again == {"payment:2"}
    with try_lock("payment:1") as later:
        assert later
