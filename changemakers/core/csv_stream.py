"""One way to stream a CSV download, for every app's exports.

The rows are written one by one while the response is sent, from a queryset read with
`.iterator(chunk_size=...)`: memory stays flat however many rows there are. A cell that a
spreadsheet would run as a formula is prefixed with an apostrophe (CSV injection).
"""

import csv
import datetime
from collections.abc import Iterable, Sequence

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext

# Rows fetched from the database at a time: large enough that an export of a whole program
# reads in one round trip, small enough to keep memory flat.
CHUNK_SIZE = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write() returns what it was given, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_cell(value) -> str:
    """A value as CSV text: dates in ISO 8601 (times in the program's timezone), booleans
    as yes/no, and text that starts like a formula made inert."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.isoformat(timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_response(
    *, filename: str, header: Sequence[str], rows: Iterable[Sequence]
) -> StreamingHttpResponse:
    """A streamed CSV attachment: `header`, then one line per item of `rows`."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # a byte order mark, so spreadsheets read the text as UTF-8
        yield writer.writerow([csv_cell(name) for name in header])
        for row in rows:
            yield writer.writerow([csv_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    patch_cache_control(response, private=True, no_store=True)
    return response
