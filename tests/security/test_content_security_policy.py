"""Every page of the matrix, as each role who gets it: a strict Content-Security-Policy header
(no inline or foreign script or style, no plugins, no framing) and markup that needs nothing
more: no inline <script>, no on*= handlers, no javascript: URLs, no style attributes, no htmx
code (hx-on, js: values). The error pages the matrix meets are checked once per status."""

import pytest
from django.test import Client

from tests.security.markup import Page, policy_problems
from tests.security.matrix import ADMIN_MATRIX, MATRIX, Url
from tests.security.probe import path_of, read
from tests.security.world import World

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _roles_to_check(row: Url) -> list[str]:
    """Every role that gets the page, and one role per error status."""
    roles, statuses = [], set()
    for role, answer in row.get.items():
        if answer == 200:
            roles.append(role)
        elif isinstance(answer, int) and answer not in statuses:
            statuses.add(answer)
            roles.append(role)
    return roles


def page_problems(response, *, fragment: bool = False) -> list[str]:
    """What is wrong with one answer; [] when it is clean."""
    problems = []
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if not response.get("Content-Type", "").startswith("text/html"):
        if not response.get("Content-Security-Policy"):
            problems.append("no Content-Security-Policy header")
        return problems
    if not fragment:
        problems += policy_problems(response.get("Content-Security-Policy"))
    problems += Page.parse(read(response).decode()).problems
    return problems


def _check(world: World, row: Url) -> list[str]:
    path = path_of(row, world)
    found = []
    for role in _roles_to_check(row):
        client: Client = world.client(role)
        found += [f"{role}: {p}" for p in page_problems(client.get(path))]
        if row.htmx_fragment and getattr(row.get, role) == 200:
            fragment = client.get(path, headers=HTMX)
            found += [f"{role} (htmx): {p}" for p in page_problems(fragment, fragment=True)]
    return found


@pytest.mark.parametrize("row", MATRIX + ADMIN_MATRIX, ids=lambda row: row.id)
def test_pages_run_no_inline_code(world, row: Url):
    problems = _check(world, row)
    assert not problems, f"GET {path_of(row, world)}\n" + "\n".join(problems)


def test_the_checks_catch_inline_code_and_a_lax_policy():
    """The checks themselves, on markup and policies made to fail them."""
    bad = (
        '<script>alert(1)</script><script src="https://cdn.example/x.js"></script>'
        '<style>p{}</style><a href=" JavaScript:alert(1)">x</a><p style="color:red" '
        'onclick="x()"></p><button hx-on:click="x()"></button><div hx-vals="js:{a: b()}">'
    )
    assert len(Page.parse(bad).problems) == 8
    assert Page.parse('<script src="/static/js/htmx.min.js" defer></script>').problems == []
    lax = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src *"
    assert policy_problems(lax)[:2] == [
        "script-src allows [\"'unsafe-inline'\"]",
        "style-src allows ['*']",
    ]
    assert policy_problems(None) == ["no Content-Security-Policy header"]
