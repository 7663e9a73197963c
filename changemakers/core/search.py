"""Search that forgives case and accents, the same on SQLite and PostgreSQL.

`Folded(expression)` is a column as a search compares it: lower case, accents removed
("Zoë Núñez" → "zoe nunez"). PostgreSQL computes it with its `unaccent` extension (installed
by this app's migration); SQLite with `fold`, the same Python function registered on every
SQLite connection. `folded_contains(text, *fields)` is the filter staff pickers use: each
field of a row contains the typed text, folded alike.

No index serves a contains search: a picker asks for a few rows (`PICKER_LIMIT`) of tables
of thousands, which a scan answers in milliseconds.
"""

import unicodedata
from dataclasses import dataclass, field

from django.db.models import Case, Func, Q, QuerySet, TextField, When
from django.db.models.functions import Lower

PICKER_MIN_LENGTH = 2  # fewer letters match too much to be worth a round trip
PICKER_LIMIT = 8
SQLITE_FUNCTION = "cm_fold"


def fold(text: str | None) -> str | None:
    """Lower case without accents: what a search compares."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def search_text(raw: str | None, *, max_length: int = 100) -> str:
    """What staff typed, ready to compare: trimmed, without a handle's leading @, folded."""
    text = (raw or "").strip()[:max_length].lstrip("@").strip()
    return fold(text) or ""


class Folded(Func):
    """A text column lower-cased and without accents, on either database."""

    function = SQLITE_FUNCTION
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        unaccented = Func(*self.get_source_expressions(), function="unaccent")
        return Lower(unaccented, output_field=TextField()).as_sql(compiler, connection)


def folded_contains(text: str, *fields: str) -> tuple[dict, Q]:
    """An `alias()` mapping and a filter: a row matches when any of `fields`, folded,
    contains `text` (already folded, see `search_text`)."""
    aliases = {f"{field.replace('__', '_')}_folded": Folded(field) for field in fields}
    condition = Q()
    for alias in aliases:
        condition |= Q(**{f"{alias}__contains": text})
    return aliases, condition


def folded_startswith(text: str, *fields: str) -> Q:
    """Rows where one of `fields` (aliased by `folded_contains`) starts with `text`."""
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name.replace('__', '_')}_folded__startswith": text})
    return condition


def register_sqlite_fold(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: SQLite connections learn `cm_fold` (PostgreSQL uses its
    own `unaccent`)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 1, fold, deterministic=True)


def matching(queryset: QuerySet, text: str, *fields: str, order: tuple[str, ...] = ()) -> QuerySet:
    """Rows of `queryset` where one of `fields` contains `text` (folded), those that start
    with it first, then in `order`."""
    aliases, condition = folded_contains(text, *fields)
    rank = Case(When(folded_startswith(text, *fields), then=0), default=1)
    return (
        queryset.alias(**aliases)
        .filter(condition)
        .alias(picker_rank=rank)
        .order_by("picker_rank", *order)
    )


# --- The picker: a search field and a few matches to pick from ------------------------------


@dataclass(frozen=True)
class PickerMatch:
    """One row staff may pick (or see and not pick: `disabled`, with `mark` saying why)."""

    value: str
    label: str
    detail: str = ""
    mark: str = ""
    disabled: bool = False


@dataclass
class Picker:
    """What templates/components/picker.html draws: a search field (htmx asks `search_url` as
    staff type; without JavaScript it submits the page's GET form `search_form`) and the
    matches as radio buttons named `name`, the form field they post."""

    id: str
    name: str
    label: str
    search_name: str
    search_url: str
    search_form: str
    help: str = ""  # what to type; the template adds how many letters and what next
    query: str = ""
    matches: list[PickerMatch] = field(default_factory=list)
    selected: str = ""
    more: bool = False
    empty_label: str = ""  # an always-offered first choice: the field is optional
    errors: list[str] = field(default_factory=list)

    @property
    def searched(self) -> bool:
        return len(search_text(self.query)) >= PICKER_MIN_LENGTH

    @property
    def min_length(self) -> int:
        return PICKER_MIN_LENGTH


def picker_rows(queryset: QuerySet, limit: int = PICKER_LIMIT) -> tuple[list, bool]:
    """At most `limit` rows, and whether more matched (one query)."""
    rows = list(queryset[: limit + 1])
    return rows[:limit], len(rows) > limit


def picker_with_selected(matches: list[PickerMatch], selected: PickerMatch | None) -> list:
    """The matches, with what is already picked first when the search no longer finds it (a
    refused form, a new search): a pick is never lost from sight."""
    if selected is None or any(match.value == selected.value for match in matches):
        return matches
    return [selected, *matches]


def picked_id(value: str | None) -> str:
    """A picked row's id as a form posts it, or "" when it is not one (ASCII digits within
    the database's integer range)."""
    value = (value or "").strip()
    return value if value.isascii() and value.isdigit() and 0 < int(value) < 2**63 else ""
