"""Importing a year's list from a CSV file: reading the file (its shape) and checking each
row against the creators, the vocabulary, the list and the other rows (its rules).

`list_entries_import` (services) imports all the rows or none; what refused them is a list of
problems, each with its line, column and a readable reason, for the report on the page.
"""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries import countries

from .models import Cause, Creator, ListEntry

COLUMNS = ("position", "handle", "country", "cause", "citation")
REQUIRED_COLUMNS = ("handle", "citation")
MAX_BYTES = 256 * 1024
MAX_ROWS = 1000
POSITION_MAX = 32767
CITATION_MAX = ListEntry._meta.get_field("citation").max_length

TEMPLATE_ROWS = [
    COLUMNS,
    ("1", "joelbervell", "US", "health", "Brings trustworthy health advice to every feed."),
    ("2", "@wanjiru.reads", "KE", "education", "Turns lessons into videos millions finish."),
    ("", "elivirkina", "", "", "Makes climate science something you want to watch."),
]


@dataclass(frozen=True)
class ImportRow:
    """One data row as the file has it, trimmed; `line` is its line in the file (the header
    is line 1)."""

    line: int
    position: str = ""
    handle: str = ""
    country: str = ""
    cause: str = ""
    citation: str = ""


@dataclass(frozen=True)
class ImportProblem:
    line: int
    column: str
    message: str


class ListImportRefused(ValidationError):
    """Rows that cannot be imported; nothing was."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        lines = len({problem.line for problem in problems})
        super().__init__(
            ngettext(
                "%(count)s row has a problem, so nothing was imported.",
                "%(count)s rows have problems, so nothing was imported.",
                lines,
            )
            % {"count": lines},
            code="import_refused",
        )


def template_csv() -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(TEMPLATE_ROWS)
    return out.getvalue()


def csv_rows(data: bytes) -> list[ImportRow]:
    """The rows of an uploaded CSV file (UTF-8, with or without a byte-order mark). Raises a
    ValidationError about the file as a whole: too big, not UTF-8 text, not CSV, no header
    or missing columns, no rows, too many rows, a row with more fields than columns."""
    if len(data) > MAX_BYTES:
        raise ValidationError(
            _("The file is larger than %(size)s KB.") % {"size": MAX_BYTES // 1024},
            code="import_too_large",
        )
    try:
        text = data.decode("utf-8-sig")
        if "\x00" in text:  # UTF-16 without a byte-order mark decodes to NULs as UTF-8
            raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL")
    except UnicodeDecodeError:
        raise ValidationError(
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again."),
            code="import_encoding",
        ) from None
    if not text.strip():
        raise ValidationError(_("The file is empty."), code="import_empty")
    # Spreadsheets in much of Europe save "CSV" with semicolons; the header line tells.
    header_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip().lower() for name in next(reader)]
        records = [(reader.line_num, record) for record in reader]
    except csv.Error as error:
        raise ValidationError(
            _("The file cannot be read as CSV (%(error)s).") % {"error": error},
            code="import_not_csv",
        ) from None
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ValidationError(
            _("The first line must name the columns; missing: %(columns)s.")
            % {"columns": ", ".join(missing)},
            code="import_columns",
        )
    rows = []
    for line, record in records:
        if not any(value.strip() for value in record):
            continue  # blank lines, such as a trailing one, are skipped
        if len(record) > len(header):
            raise ValidationError(
                _("Line %(line)s has more fields than the first line has columns.")
                % {"line": line},
                code="import_fields",
            )
        values = dict(zip(header, (value.strip() for value in record), strict=False))
        rows.append(ImportRow(line=line, **{name: values.get(name, "") for name in COLUMNS}))
        if len(rows) > MAX_ROWS:
            raise ValidationError(
                _("The file has more than %(count)s rows.") % {"count": MAX_ROWS},
                code="import_too_many",
            )
    if not rows:
        raise ValidationError(_("The file has no rows under its first line."), code="import_empty")
    return rows


type PlannedEntry = tuple[int | None, Creator, str, str, str]


def list_import_check(
    rows: Iterable[ImportRow], *, taken_creators: set[int], taken_positions: set[int]
) -> tuple[list[PlannedEntry], list[ImportProblem]]:
    """Each row as (position or None, creator, country, cause, citation), and every problem
    found, checking all rows (one query for the creators). An empty country or cause takes
    the creator's current one."""
    rows = list(rows)
    handles = {row.handle.lstrip("@").lower() for row in rows if row.handle.lstrip("@")}
    # Handles are unique ignoring case (an index on LOWER(handle)): one query for all rows.
    found_creators = Creator.objects.annotate(handle_lower=Lower("handle")).filter(
        handle_lower__in=handles
    )
    creators = {creator.handle_lower: creator for creator in found_creators}
    causes = set(Cause.values)
    planned: list[PlannedEntry] = []
    problems: list[ImportProblem] = []
    first_line_of_creator: dict[int, int] = {}
    first_line_of_position: dict[int, int] = {}
    auto_lines: list[int] = []  # rows that go after the last position

    for row in rows:
        found = len(problems)

        def problem(column: str, message: str, row: ImportRow = row) -> None:
            problems.append(ImportProblem(row.line, column, message))

        handle = row.handle.lstrip("@")
        creator = creators.get(handle.lower())
        if not handle:
            problem("handle", _("A handle is required."))
        elif creator is None:
            problem("handle", _("No creator has the handle @%(handle)s.") % {"handle": handle})
        elif creator.pk in taken_creators:
            problem("handle", _("@%(handle)s is already on this list.") % {"handle": handle})
        elif creator.pk in first_line_of_creator:
            problem(
                "handle",
                _("@%(handle)s is also on line %(line)s.")
                % {"handle": handle, "line": first_line_of_creator[creator.pk]},
            )
        else:
            first_line_of_creator[creator.pk] = row.line

        position = None
        if row.position:
            if not row.position.isascii() or not row.position.isdigit():
                problem("position", _("A position is a whole number from 1."))
            elif not 1 <= int(row.position) <= POSITION_MAX:
                problem(
                    "position",
                    _("A position is between 1 and %(max)s.") % {"max": POSITION_MAX},
                )
            elif int(row.position) in taken_positions:
                problem(
                    "position",
                    _("Position %(position)s is already taken on this list.")
                    % {"position": int(row.position)},
                )
            elif int(row.position) in first_line_of_position:
                problem(
                    "position",
                    _("Position %(position)s is also on line %(line)s.")
                    % {
                        "position": int(row.position),
                        "line": first_line_of_position[int(row.position)],
                    },
                )
            else:
                position = int(row.position)
                first_line_of_position[position] = row.line

        country = row.country.upper()
        if country and (len(country) != 2 or countries.alpha2(country) != country):
            problem(
                "country",
                _("“%(country)s” is not a two-letter ISO country code.") % {"country": row.country},
            )
        cause = row.cause.lower()
        if cause and cause not in causes:
            problem(
                "cause",
                _("“%(cause)s” is not a cause; use one of: %(causes)s.")
                % {"cause": row.cause, "causes": ", ".join(Cause.values)},
            )
        if creator is not None and not cause and not creator.causes:
            problem("cause", _("The creator has no cause to take; give one."))

        if not row.citation:
            problem("citation", _("A citation is required."))
        elif len(row.citation) > CITATION_MAX:
            problem(
                "citation",
                _("A citation is at most %(max)s characters (this one has %(length)s).")
                % {"max": CITATION_MAX, "length": len(row.citation)},
            )

        if len(problems) == found and creator is not None:
            if position is None:
                auto_lines.append(row.line)
            planned.append(
                (
                    position,
                    creator,
                    country or creator.country.code,
                    cause or creator.causes[0],
                    row.citation,
                )
            )
    # Rows without a position follow the last one taken: they must still fit below the top.
    last = max(taken_positions | set(first_line_of_position), default=0)
    for offset, line in enumerate(auto_lines, start=1):
        if last + offset > POSITION_MAX:
            problems.append(
                ImportProblem(
                    line,
                    "position",
                    _("No position is left after %(last)s for this row; give it one.")
                    % {"last": last + offset - 1},
                )
            )
    problems.sort(key=lambda problem: problem.line)  # stable: columns keep their order
    return planned, problems
