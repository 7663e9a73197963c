"""The authorisation matrix: every URL of the project, asked by anonymous, creator A,
creator B, nonprofit X, nonprofit Y, staff (a superuser) and a member of staff for each staff
role (program manager, finance approver, nonprofit vetter, auditor), for A's and X's objects
(tests/security/matrix.py says who gets what). One test per URL, reporting every role that
got the wrong answer.

A new URL pattern fails test_every_url_is_in_the_matrix until it has its row."""

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from changemakers.core.roles import Role, role_of, staff_roles_of
from tests.security.matrix import ADMIN, ADMIN_MATRIX, MATRIX, OWN, Redirect, Url
from tests.security.probe import (
    database_snapshot,
    mismatch,
    path_of,
    read,
    snapshot_changes,
    url_patterns,
)
from tests.security.world import ROLES, STAFF_ROLES

pytestmark = pytest.mark.django_db


ROWS = MATRIX + ADMIN_MATRIX
POST_ROWS = [row for row in ROWS if row.post is not None]
# What B, Y and strangers must never read on a page refused to them.
SECRETS = ("Ayana Mwangi", "Readers of Nairobi", "acct-x-001-1234", "The first lessons are out.")


def test_every_url_is_in_the_matrix():
    routed = list(url_patterns())
    unnamed = [
        route for route, name, _ in routed if name is None and not route.startswith("admin/")
    ]
    assert not unnamed, f"name these URL patterns so the matrix can list them: {unnamed}"
    names = [name for _, name, _ in routed if name]
    assert len(names) == len(set(names)), "two URL patterns share a name"

    project = {name: route for route, name, _ in routed if not route.startswith("admin/")}
    listed = {row.name for row in MATRIX}
    missing = sorted(f"{name} ({project[name]})" for name in project.keys() - listed)
    assert not missing, f"URL patterns with no row in tests/security/matrix.py: {missing}"
    assert not listed - project.keys(), (
        f"rows for URLs that no longer exist: {listed - project.keys()}"
    )

    admin = {name for route, name, _ in routed if route.startswith("admin/") and name}
    assert {row.name for row in ADMIN_MATRIX} <= admin


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_get(world, row: Url):
    """Every role, in English: who may see what is decided before a word is translated. A
    page that breaks only in one language (a date or an amount written the Arabic way) is
    found by the HTML sweep, which asks every role in every language and checks each answer
    against this matrix (tests/security/test_valid_html.py)."""
    path = path_of(row, world)
    wrong = []
    for role, expected in row.get.items():
        client = world.client(role)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = settings.LANGUAGE_CODE
        response = client.get(path)
        body = read(response)
        problem = mismatch(expected, response, path, world)
        if problem:
            wrong.append(f"{role}: {problem}")
        elif response.status_code >= 400 and role not in ("creator_a", "nonprofit_x", "staff"):
            leaked = [secret for secret in SECRETS if secret.encode() in body]
            if leaked:
                wrong.append(f"{role}: the {response.status_code} page shows {leaked}")
    assert not wrong, f"GET {path}\n" + "\n".join(wrong)


@pytest.mark.parametrize("row", POST_ROWS, ids=lambda row: row.id)
def test_post_is_refused_to_everyone_it_is_not_for(world, row: Url):
    """Each wrong role posts the action, as a form and as htmx: refused, nothing changed."""
    path = path_of(row, world)
    wrong = []
    for role, expected in row.post.items():
        if expected is OWN:
            continue
        client = world.client(role)
        for headers in ({}, {"HX-Request": "true"}):
            before = database_snapshot()
            response = client.post(path, row.data(world), headers=headers)
            read(response)
            changes = snapshot_changes(before, database_snapshot())
            via = " (htmx)" if headers else ""
            problem = mismatch(expected, response, path, world)
            if problem:
                wrong.append(f"{role}{via}: {problem}")
            if changes:
                wrong.append(f"{role}{via}: the database changed: {changes}")
    assert not wrong, f"POST {path}\n" + "\n".join(wrong)


@pytest.mark.parametrize("row", [row for row in ROWS if row.post is None], ids=lambda row: row.id)
def test_urls_without_post_refuse_it(world, row: Url):
    """What the matrix lists as GET-only really takes no POST (so the CSRF proofs, which
    post to every URL that takes it, miss none): the first role let in gets a 405."""
    insiders = [
        role for role, answer in row.get.items() if answer == 200 or isinstance(answer, Redirect)
    ]
    insiders.append("anonymous")  # a 404 for everyone: still no POST
    path = path_of(row, world)
    response = world.client(insiders[0]).post(path, row.data(world))
    read(response)
    assert response.status_code == 405, f"POST {path} as {insiders[0]}: {response.status_code}"


def test_the_ten_people_are_who_the_matrix_says(world):
    """Each column of the matrix is one role, and each person in the world has that role."""
    assert [role for role, _ in ADMIN.items()] == list(ROLES)
    expected = {
        "anonymous": Role.ANONYMOUS,
        "creator_a": Role.CREATOR,
        "creator_b": Role.CREATOR,
        "nonprofit_x": Role.NONPROFIT,
        "nonprofit_y": Role.NONPROFIT,
        "staff": Role.STAFF,
        "program_manager": Role.STAFF,
        "finance": Role.STAFF,
        "vetter": Role.STAFF,
        "auditor": Role.STAFF,
    }
    assert {role: role_of(world.user(role) or AnonymousUser()) for role in ROLES} == expected
    # Each member of staff holds the one role their column is named after, and no more.
    assert world.staff.is_superuser
    for column, role in STAFF_ROLES.items():
        member = world.user(column)
        assert not member.is_superuser
        assert staff_roles_of(member) == [role]
    assert world.creator_a.user == world.user("creator_a") != world.user("creator_b")
    assert world.contact_x.nonprofit == world.nonprofit_x != world.contact_y.nonprofit
    # A's and X's objects are theirs, so B and Y are strangers to them.
    assert world.milestone_a.enrolment.creator == world.creator_a
    assert world.update_a.milestone.enrolment.creator == world.creator_a
    assert (world.paid_x.nonprofit, world.paid_x.creator) == (world.nonprofit_x, world.creator_a)
    assert world.offered_a.creator == world.creator_a
