"""Bad input never breaks a page: every form, every field, every role.

Every page of the authorisation matrix (tests/security/matrix.py) is fetched as each role it
answers 200 to; each form on it (read from its HTML: field names, kinds, choices, hidden
inputs) is then submitted with one field at a time replaced by a bad value (tests/security/
fuzz.py: empty, spaces, 100,000 characters, NUL, right-to-left override, emoji, -1, forty
digits, 1e309, 2026-02-30, markup, SQL, a path, a value outside the choices) and each file
input by an empty, a wrong-type and an oversized file. The same for the admin's add and change
forms as staff, the `next` of the staff row actions, and the query strings of the pages with
filters. No answer may be a 5xx or take more than SLOW_SECONDS, and a refusal (a 4xx, or the
form again with its errors) must leave the database as it was.

Sampling, to stay within a few minutes on two cores: each field gets PER_FIELD of the bad
values (ADMIN_PER_FIELD in the admin, whose forms have many fields), rotating from field to
field and from form to form, and every kind of value is sent at least once per form; fields
whose value is a number (ids, positions, a formset's form counts) also always get -1 and forty
digits. A formset's rows after its first are left out (the same fields again). A form met on
several pages (the language switch, signing out) is fuzzed once per role, and only the first
role to meet it gets PER_FIELD values a field: the others get one (still every kind). Query
strings get every value on every parameter. Everything is deterministic: the same plan runs
every time. FUZZ_FULL=1 in the environment sends every value to every field. As sampled, the
module takes about two minutes on SQLite and two and a half on PostgreSQL on two shared cores.

Each submission runs in a savepoint rolled back after it, so every one starts from the same
world, and what a successful one changed never hides what a refused one did.
"""

import os
from contextlib import contextmanager

import pytest
from django.contrib import admin
from django.db import transaction
from django.urls import Resolver404, resolve, reverse

from tests.security.fuzz import (
    BAD_VALUES,
    Answer,
    Form,
    forms_of,
    fuzz_plan,
    shown,
    timed,
)
from tests.security.matrix import LOGIN, MATRIX, OWN, Url
from tests.security.probe import database_snapshot, path_of, snapshot_changes
from tests.security.world import ROLES, World

pytestmark = pytest.mark.django_db

FULL = os.environ.get("FUZZ_FULL") == "1"
PER_FIELD = len(BAD_VALUES) if FULL else 3
ADMIN_PER_FIELD = len(BAD_VALUES) if FULL else 1

PAGES = [
    (row, role)
    for row in MATRIX
    for role, answer in row.get.items()
    if answer == 200 and not row.name.startswith(("healthz", "backoffice:export-"))
]
# Forms already fuzzed in this module, by (view, field names) and by (role, (view, field
# names)): one form met on many pages is fuzzed once per role.
_seen: set[tuple] = set()


@contextmanager
def undone():
    """A savepoint rolled back after the block. Marked as the test case's own (as Django's
    TestCase marks its transactions) so the services' durable transactions still open in it."""
    atomic = transaction.atomic()
    atomic._from_testcase = True
    with atomic:
        yield
        transaction.set_rollback(True)


def _view_name(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def _client(world: World, role: str):
    return world.client(role, raise_request_exception=False)


def _judge(answer: Answer, what: str, before: dict) -> list[str]:
    problems = []
    problem = answer.problem()
    if problem:
        error = getattr(answer.response, "exc_info", None)
        cause = f" ({error[0].__name__}: {str(error[1])[:120]})" if error else ""
        problems.append(f"{what}: {problem}{cause}")
    if answer.refused:
        changes = snapshot_changes(before, database_snapshot())
        if changes:
            problems.append(f"{what}: refused ({answer.status}) but changed {changes}")
    return problems


def fuzz_form(world: World, role: str, form: Form, per_field: int) -> list[str]:
    """Submit `form` as `role` once per (field, bad value) of its plan."""
    before = database_snapshot()
    problems = []
    offset = sum(map(ord, form.path()))
    for name, kind, value in fuzz_plan(form, per_field, offset):
        client = _client(world, role)
        data = form.with_value(name, value)
        what = f"{role} {form.method.upper()} {form.path()} {name}={kind} {shown(value)}"
        with undone():
            if form.method == "post":
                answer = timed(client.post, form.action, data)
            else:
                answer = timed(client.get, form.path(), data)
            problems += _judge(answer, what, before)
    return problems


def _page_forms(world: World, role: str, path: str) -> list[Form]:
    answer = timed(_client(world, role).get, path)
    assert answer.status == 200, f"GET {path} as {role}: {answer.status}"
    if not answer.response.get("Content-Type", "").startswith("text/html"):
        return []  # a photo, an attachment
    return forms_of(answer.body.decode(), path)


@pytest.mark.parametrize(("row", "role"), PAGES, ids=lambda value: getattr(value, "id", value))
def test_every_form_on_the_page_refuses_bad_input(world, row: Url, role: str):
    path = path_of(row, world)
    problems = []
    for form in _page_forms(world, role, path):
        if form.method != "post":
            continue  # filters: test_filters_ignore_bad_query_strings
        key = (_view_name(form.path()), tuple(sorted(form.fields)))
        if (role, key) in _seen:
            continue
        # The first role to meet a form gets PER_FIELD values a field, the others one.
        per_field = PER_FIELD if key not in _seen else 1
        _seen.update({(role, key), key})
        problems += fuzz_form(world, role, form, per_field)
    assert not problems, f"{len(problems)} bad answers:\n" + "\n".join(problems)


# --- The admin, as staff ----------------------------------------------------------------------


def _admin_pages(world: World) -> list[tuple[str, str]]:
    pages = []
    staff_request = type("R", (), {"user": world.staff})()
    for model, model_admin in admin.site._registry.items():
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        if model_admin.has_add_permission(staff_request):
            pages.append((f"{model._meta.label} add", reverse(f"{info}_add")))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(
                (f"{model._meta.label} change", reverse(f"{info}_change", args=[first.pk]))
            )
    return sorted(pages)


ADMIN_MODELS = sorted(model._meta.label for model in admin.site._registry)


@pytest.mark.parametrize("label", ADMIN_MODELS)
def test_admin_forms_refuse_bad_input(world, label: str):
    problems = []
    for name, path in _admin_pages(world):
        if not name.startswith(f"{label} "):
            continue
        for form in _page_forms(world, "staff", path):
            if form.method == "post" and form.path() == path:  # the object's own form
                problems += fuzz_form(world, "staff", form, ADMIN_PER_FIELD)
    assert not problems, f"{len(problems)} bad answers:\n" + "\n".join(problems)


@pytest.mark.parametrize("to_field", ["", "nonexistent", "pk", "\x00"])
def test_admin_refuses_a_bad_to_field(world, to_field: str):
    """`_to_field` names the field an object is looked up by: a bad one is a 400 or the
    page as usual, never a 500, on every change, delete and history page and the add page."""
    before = database_snapshot()
    problems = []
    client = _client(world, "staff")
    for name, path in _admin_pages(world):
        pages = [path]
        if name.endswith(" change"):
            base = path.removesuffix("change/")
            pages += [f"{base}delete/", f"{base}history/"]
        for page in pages:
            for method in ("get", "post"):
                with undone():
                    answer = timed(getattr(client, method), page, {"_to_field": to_field})
                    what = f"{method.upper()} {page} _to_field={to_field!r}"
                    problems += _judge(answer, what, before)
    assert not problems, f"{len(problems)} bad answers:\n" + "\n".join(problems)


# --- Where a row action goes back to ----------------------------------------------------------

# Staff's POST-only actions (each staff role's own included): staff post them, nobody else.
ROW_ACTIONS = [
    row
    for row in MATRIX
    if row.post is not None
    and row.post.staff is OWN
    and row.post.anonymous == LOGIN
    and row.post.creator_a == 403
    and row.get.staff == 405
    # Paying is no row action: the review's button, which goes on to the batch it made.
    and row.name != "donations:grants-schedule"
]
BAD_NEXT = [
    "grant-list",
    "donations:grant-list",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    " /staff/",
    "",
    "\x00",
    "/staff/\x00",
    "x" * 10_000,
]


@pytest.mark.parametrize("row", ROW_ACTIONS, ids=lambda row: row.id)
def test_row_actions_go_back_only_to_a_path_on_this_site(world, row: Url):
    client = _client(world, "staff")
    problems = []
    for bad in BAD_NEXT:
        with undone():
            answer = timed(client.post, path_of(row, world), {**row.data(world), "next": bad})
        location = answer.response.get("Location", "")
        what = f"next={shown(bad)}"
        if answer.problem():
            problems.append(f"{what}: {answer.problem()}")
        elif answer.status != 302:
            problems.append(f"{what}: answered {answer.status}, not 302")
        elif not location.startswith("/") or location.startswith(("//", "/\\")):
            problems.append(f"{what}: sent to {location!r}")
    assert not problems, f"POST {row.id}\n" + "\n".join(problems)


# --- Filters: the query strings of the pages that take them -----------------------------------

FILTER_PAGES = [
    ("creators:list-year", "anonymous"),
    ("donations:grant-list", "staff"),
    ("donations:nonprofit-list", "staff"),
    ("backoffice:dashboard", "staff"),
    ("backoffice:export-list", "staff"),
    ("programs:application-list", "staff"),
    ("programs:review-list", "staff"),
    ("programs:cohort-list", "staff"),
    ("donations:batch-list", "staff"),
    ("creators:edition-detail", "staff"),
    ("creators:edition-creator-search", "staff"),
    ("programs:cohort-creator-search", "staff"),
    ("donations:grant-nonprofit-search", "staff"),
    ("donations:grant-creator-search", "staff"),
]
ROWS = {row.id: row for row in MATRIX}


def _filter_targets(world: World, name: str, role: str) -> list[tuple[str, list[str]]]:
    """(path, parameters) of the page itself and of every GET form on it."""
    row = ROWS[name]
    path = path_of(row, world).split("?")[0]
    targets: dict[str, set[str]] = {path: {"page", "q", "status", "sort"}}
    for form in _page_forms(world, role, path_of(row, world)):
        if form.method == "get":
            targets.setdefault(form.path(), {"page"}).update(form.fields)
    return [(target, sorted(params)) for target, params in sorted(targets.items())]


@pytest.mark.parametrize(("name", "role"), FILTER_PAGES)
def test_filters_ignore_bad_query_strings(world, name: str, role: str):
    """Every parameter of the page and of its filter forms (the exports' CSV links are the
    export page's forms), each bad value in turn: the page with the filter ignored, or a 400."""
    client = _client(world, role)
    problems = []
    targets = _filter_targets(world, name, role)
    for target, params in targets:
        for param in params:
            for kind, value in BAD_VALUES.items():
                answer = timed(client.get, target, {param: value})
                if answer.problem():
                    problems.append(f"GET {target}?{param}={kind}: {answer.problem()}")
                elif answer.status == 302 and target == reverse("language"):
                    # The language switch (a GET for readers not signed in) always goes back,
                    # to a path of this site only, whatever it was sent.
                    location = answer.response["Location"]
                    if not location.startswith("/") or location.startswith(("//", "/\\")):
                        problems.append(f"GET {target}?{param}={kind}: sent to {location!r}")
                elif answer.status not in (200, 400):
                    problems.append(f"GET {target}?{param}={kind}: answered {answer.status}")
    if name == "backoffice:export-list":
        csv = {target for target, _ in targets if target.endswith(".csv")}
        assert len(csv) == 4, f"the export page's CSV forms: {csv}"
    assert not problems, f"{len(problems)} bad answers:\n" + "\n".join(problems)


def test_the_fuzz_covers_every_role():
    assert {role for _, role in PAGES} == set(ROLES)
