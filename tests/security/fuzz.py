"""Bad input for the fuzz proofs: the values a careless or hostile user types, the forms a page
holds (read from its HTML as a browser would), and how to tell a refusal from a success.

Nothing here is random: the same forms get the same values in the same order on every run.
"""

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse

from tests.security.probe import read

# One of each kind of bad value (the keys name them in failure reports).
BAD_VALUES: dict[str, str] = {
    "empty": "",
    "spaces": "   ",
    "huge": "x" * 100_000,
    "nul": "a\x00b",
    "rtl-override": "\u202egnp.exe",
    "emoji": "\U0001f9e8\U0001f4a5",
    "minus-one": "-1",
    "forty-digits": "9" * 40,
    "overflow-float": "1e309",
    "impossible-date": "2026-02-30",
    "markup": '<script>alert(1)</script><img src=x onerror="alert(2)">',
    "sql": "' OR 1=1; DROP TABLE auth_user; --",
    "path": "../../../../etc/passwd",
    "outside-choices": "not-a-choice-\u2603",
}
# What each file input gets instead: nothing, something else, too much.
OVERSIZED_BYTES = 12 * 1024 * 1024


def bad_files() -> dict[str, SimpleUploadedFile]:
    return {
        "empty-file": SimpleUploadedFile("empty.png", b"", content_type="image/png"),
        "wrong-type": SimpleUploadedFile(
            "evil.png", b"<html><script>alert(1)</script></html>", content_type="image/png"
        ),
        "oversized": SimpleUploadedFile(
            "big.pdf", b"%PDF-1.4\n" + b"0" * OVERSIZED_BYTES, content_type="application/pdf"
        ),
    }


# A page answering slower than this counts as hanging (a worker stuck on one request).
SLOW_SECONDS = 5.0
# Where a re-rendered form shows what was wrong: Django's error lists, the admin's note.
ERROR_MARKERS = (b'class="errorlist', b'class="errornote', b"field--invalid")


@dataclass
class Field:
    name: str
    kind: str  # the input's type, or "select" / "textarea"
    choices: list[str] = field(default_factory=list)


@dataclass
class Form:
    action: str
    method: str
    multipart: bool
    fields: dict[str, Field] = field(default_factory=dict)
    data: dict[str, list[str]] = field(default_factory=dict)  # what a browser would send

    def path(self) -> str:
        return urlsplit(self.action).path

    def with_value(self, name: str, value) -> dict:
        """The form's own submission with `name` replaced by `value`."""
        data = {key: list(values) for key, values in self.data.items()}
        data[name] = [value]
        return data


class FormParser(HTMLParser):
    """Every form of a page: its fields, their kinds and choices, and what it sends as is."""

    def __init__(self, page_path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: tuple[str, bool] | None = None  # (name, selected seen)
        self._textarea: str | None = None
        self._text: list[str] = []
        self._buttons: set[int] = set()  # forms whose first named button is in

    def handle_starttag(self, tag: str, attrs) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._form = Form(
                action=a.get("action") or self.page_path,
                method=a.get("method", "get").lower(),
                multipart="multipart" in a.get("enctype", ""),
            )
            self.forms.append(self._form)
            return
        form, name = self._form, a.get("name")
        if form is None or not name or "disabled" in a:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in {"submit", "image", "button", "reset"}:
                self._button(form, name, a.get("value", ""))
                return
            known = form.fields.setdefault(name, Field(name, kind))
            if kind in {"checkbox", "radio"}:
                known.choices.append(a.get("value", "on"))
                if "checked" in a:
                    form.data.setdefault(name, []).append(a.get("value", "on"))
            elif kind == "file":
                form.data.setdefault(name, [])
            else:
                form.data.setdefault(name, []).append(a.get("value", ""))
        elif tag == "button" and a.get("type", "submit") == "submit":
            self._button(form, name, a.get("value", ""))
        elif tag == "select":
            form.fields[name] = Field(name, "select")
            form.data.setdefault(name, [])
            self._select = (name, "multiple" in a)
        elif tag == "option" and self._select:
            select, _ = self._select
            value = a.get("value", "")
            form.fields[select].choices.append(value)
            if "selected" in a:
                form.data[select].append(value)
        elif tag == "textarea":
            form.fields[name] = Field(name, "textarea")
            self._textarea, self._text = name, []

    def _button(self, form: Form, name: str, value: str) -> None:
        # A browser sends the button that was pressed: the first one stands for all.
        if id(form) not in self._buttons:
            self._buttons.add(id(form))
            form.data[name] = [value]

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select and self._form is not None:
            name, multiple = self._select
            choices = self._form.fields[name].choices
            if not self._form.data[name] and choices and not multiple:
                self._form.data[name] = [choices[0]]  # a single select sends its first option
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.data[self._textarea] = ["".join(self._text).removeprefix("\n")]
            self._textarea = None


def forms_of(html: str, page_path: str) -> list[Form]:
    parser = FormParser(page_path)
    parser.feed(html)
    parser.close()
    return parser.forms


def fuzz_plan(form: Form, per_field: int, offset: int = 0) -> Iterator[tuple[str, str, object]]:
    """(field, value kind, value) to submit: each field gets `per_field` kinds, rotating so that
    neighbouring fields (and, through `offset`, neighbouring forms) get different ones, and
    every kind is sent at least once per form. File inputs get each bad file instead."""
    names = [name for name in _one_row_each(form.fields) if name != "csrfmiddlewaretoken"]
    files = [name for name in names if form.fields[name].kind == "file"]
    texts = [name for name in names if name not in files]
    kinds = list(BAD_VALUES)
    for name in files:
        for kind, upload in bad_files().items():
            yield name, kind, upload
    if not texts:
        return
    sent: set[str] = set()
    pairs: list[tuple[str, str]] = []
    for index, name in enumerate(texts):
        # Numbers (ids, positions, a formset's form counts) also get the numbers out of range.
        always = NUMBER_KINDS if (form.data.get(name) or [""])[0].isdigit() else []
        rotating = [
            kinds[(offset + index * per_field + step) % len(kinds)] for step in range(per_field)
        ]
        for kind in [*always, *rotating]:
            pairs.append((name, kind))
            sent.add(kind)
    for index, kind in enumerate(k for k in kinds if k not in sent):
        pairs.append((texts[(offset + index) % len(texts)], kind))
    for name, kind in dict.fromkeys(pairs):
        yield name, kind, BAD_VALUES[kind]


NUMBER_KINDS = ["forty-digits", "minus-one"]
_ROW = re.compile(r"^(?P<prefix>.+)-(?P<row>\d+)-(?P<field>[^-]+)$")


def _one_row_each(names) -> list[str]:
    """The fields of a form, with the rows of a formset after its first left out: the second
    row's `citation` is the same field as the first's."""
    kept, seen = [], set()
    for name in names:
        match = _ROW.match(name)
        key = (match["prefix"], match["field"]) if match else name
        if key not in seen:
            seen.add(key)
            kept.append(name)
    return kept


@dataclass
class Answer:
    response: HttpResponse
    body: bytes
    seconds: float

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def refused(self) -> bool:
        """A 4xx, or the form shown again with its errors."""
        if 400 <= self.status < 500:
            return True
        return self.status in (200, 422) and any(mark in self.body for mark in ERROR_MARKERS)

    def problem(self) -> str | None:
        if self.status >= 500:
            return f"answered {self.status}"
        if self.seconds > SLOW_SECONDS:
            return f"took {self.seconds:.1f} s"
        return None


def timed(call, *args, **kwargs) -> Answer:
    start = time.monotonic()
    response = call(*args, **kwargs)
    body = read(response)
    return Answer(response, body, time.monotonic() - start)


def shown(value) -> str:
    text = getattr(value, "name", None) or repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."
