"""Lists are paged by a cursor: `next` and `previous` are whole URLs to follow. Each list is
ordered by a key that never changes (its id), so paging is stable while rows are added.

The cursor is signed: a cursor that was edited, cut short or made up is a 400, never a page of
something else nor a 500. `page_size` is 1 to MAX_PAGE_SIZE; anything else is a 400 too."""

from django.core import signing
from django.utils.translation import gettext as _
from rest_framework.pagination import Cursor as CursorState
from rest_framework.pagination import CursorPagination
from rest_framework.utils.urls import replace_query_param

from .problems import BadInput

MAX_PAGE_SIZE = 100
_SALT = "changemakers.api.cursor"


class Cursor(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    cursor_query_param = "cursor"
    page_size_query_description = "How many rows a page holds (1 to 100; 50 when not given)."
    cursor_query_description = "The `next` or `previous` link's cursor, as it was given."

    def get_page_size(self, request) -> int:
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_PAGE_SIZE:
            raise BadInput(
                self.page_size_query_param,
                _("A page holds 1 to %(max)s rows.") % {"max": MAX_PAGE_SIZE},
            )
        return int(value)

    def decode_cursor(self, request) -> CursorState | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        refused = BadInput(
            self.cursor_query_param,
            _("This cursor is not one the API gave; follow the next or previous link."),
        )
        try:
            offset, reverse, position = signing.loads(encoded, salt=_SALT)
        except (signing.BadSignature, ValueError, TypeError):
            raise refused from None
        if not (
            isinstance(offset, int)
            and 0 <= offset <= self.offset_cutoff
            and isinstance(reverse, bool)
            and (position is None or (isinstance(position, str) and position.lstrip("-").isdigit()))
        ):
            raise refused
        return CursorState(offset=offset, reverse=reverse, position=position)

    def encode_cursor(self, cursor: CursorState) -> str:
        value = signing.dumps([cursor.offset, cursor.reverse, cursor.position], salt=_SALT)
        return replace_query_param(self.base_url, self.cursor_query_param, value)


class ByPosition(Cursor):
    """A list edition's entries, in their order on the list."""

    ordering = "position"


class Oldest(Cursor):
    ordering = "id"
