"""CSRF on every unsafe request: every URL the matrix lists as taking POST refuses a POST (and a
PUT, PATCH or DELETE) without the token with 403, also from htmx, for someone the action is
for, and changes nothing; and the token each page carries for htmx (`hx-headers` on <body>)
and in each of its forms is the one that gets a request through.

Browsers prove the same end to end in tests/e2e/test_csrf_htmx.py."""

import logging

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.security.markup import Page, policy_problems
from tests.security.matrix import ADMIN_MATRIX, MATRIX, OWN, Url
from tests.security.probe import (
    database_snapshot,
    path_of,
    read,
    snapshot_changes,
    url_patterns,
)
from tests.security.world import World

pytestmark = pytest.mark.django_db

ROWS = MATRIX + ADMIN_MATRIX
# Signed by the provider instead (tests/donations/test_stripe_webhooks.py): no browser posts.
SIGNED_WEBHOOKS = ["webhooks/stripe/"]
# The REST API takes a token in the Authorization header and never a cookie, so a request
# another site makes a browser send carries no credential (test_the_api_takes_no_session).
TOKEN_API = "api/v1/"
POST_ROWS = [
    row
    for row in ROWS
    if row.post is not None
    and row.name != "webhooks:stripe"
    and not row.name.startswith("api:")
    # A POST someone may send (not a GET-only address answering POST with 405).
    and any(answer is OWN for _role, answer in row.post.items())
]
HTMX = {"HX-Request": "true"}
# What a cross-site page could send: every unsafe method, as a form and as htmx would.
UNSAFE = [("post", {}), ("post", HTMX), ("put", HTMX), ("patch", HTMX), ("delete", HTMX)]


def poster(row: Url) -> str:
    """Someone the action is for: the refusal must come from the missing token alone."""
    return next(role for role, answer in row.post.items() if answer is OWN)


def signed_in(world: World, role: str) -> tuple[Client, str]:
    """A client that checks CSRF as a browser's request would be checked, holding the CSRF
    cookie from a first page, and the token that page gave htmx."""
    client = world.client(role, enforce_csrf_checks=True)
    # A page with a form: the public pages read by anyone carry no token (core/whole_page.py).
    first = "/" if role != "anonymous" else reverse("login")
    page = Page.parse(client.get(first).content.decode())
    assert settings.CSRF_COOKIE_NAME in client.cookies
    headers = page.body_headers or {}
    assert headers.get("X-CSRFToken"), f"<body hx-headers> gives htmx no X-CSRFToken: {headers}"
    return client, headers["X-CSRFToken"]


def csrf_refusals(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "django.security.csrf"]


def test_no_view_is_exempt_from_csrf_but_signed_webhooks():
    exempt = [
        route for route, _, callback in url_patterns() if getattr(callback, "csrf_exempt", False)
    ]
    assert [route for route in exempt if not route.startswith(TOKEN_API)] == SIGNED_WEBHOOKS


def test_the_api_takes_no_session():
    """Every view under /api/v1/ that skips CSRF is a REST framework view that authenticates
    by token alone (or, for the schema, not at all): no session, no cookie."""
    from rest_framework.authentication import SessionAuthentication

    from changemakers.api.authentication import TokenAuthentication

    api = [
        (route, callback)
        for route, _, callback in url_patterns()
        if route.startswith(TOKEN_API) and getattr(callback, "csrf_exempt", False)
    ]
    assert len(api) >= 20
    for route, callback in api:
        view = callback.cls
        classes = list(view.authentication_classes)
        assert not any(issubclass(c, SessionAuthentication) for c in classes), route
        assert set(classes) <= {TokenAuthentication}, route


def test_the_middleware_is_on_and_htmx_sends_the_header_it_reads():
    assert "django.middleware.csrf.CsrfViewMiddleware" in settings.MIDDLEWARE
    # base.html puts the token in hx-headers as X-CSRFToken: Django must read that header.
    assert settings.CSRF_HEADER_NAME == "HTTP_X_CSRFTOKEN"


@pytest.mark.parametrize("row", POST_ROWS, ids=lambda row: row.id)
def test_an_unsafe_request_without_the_token_is_refused(world, row: Url, caplog):
    path = path_of(row, world)
    role = poster(row)
    client, token = signed_in(world, role)
    wrong = []
    for method, headers in UNSAFE:
        caplog.clear()
        before = database_snapshot()
        response = getattr(client, method)(path, row.data(world), headers=headers)
        read(response)
        via = f"{method.upper()}{' (htmx)' if headers else ''}"
        if response.status_code != 403 or not csrf_refusals(caplog):
            wrong.append(f"{via}: {response.status_code}, not refused for its missing token")
        if changes := snapshot_changes(before, database_snapshot()):
            wrong.append(f"{via}: the database changed: {changes}")
    # The refusal is a page of the site like any other: strict policy, no inline code.
    refusal = client.post(path, row.data(world))
    if "Your form was not sent" not in refusal.content.decode():
        wrong.append("the refusal is not the site's own page (templates/403_csrf.html)")
    wrong += policy_problems(refusal.get("Content-Security-Policy"))
    wrong += Page.parse(refusal.content.decode()).problems

    # The control: the same request with the token htmx sends gets past the CSRF check.
    caplog.clear()
    response = client.post(path, row.data(world), headers={**HTMX, "X-CSRFToken": token})
    read(response)
    if csrf_refusals(caplog):
        wrong.append(f"with the page's token: refused ({csrf_refusals(caplog)[0].getMessage()})")
    assert not wrong, f"{path} as {role}\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    "row",
    [row for row in ROWS if any(answer == 200 for _, answer in row.get.items())],
    ids=lambda row: row.id,
)
def test_every_page_gives_its_posts_the_token(world, row: Url):
    """Each form that posts carries csrfmiddlewaretoken (without JavaScript), and any page
    whose htmx posts has the token in hx-headers on <body>, which htmx adds to every request."""
    role = next(role for role, answer in row.get.items() if answer == 200)
    response = world.client(role).get(path_of(row, world))
    if not response.get("Content-Type", "").startswith("text/html"):
        pytest.skip(f"not a page: {response['Content-Type']}")
    page = Page.parse(read(response).decode())
    untokened = [form["action"] for form in page.post_forms if not form["token"]]
    assert not untokened, f"forms posting without a token: {untokened}"
    if page.htmx_posts and not row.name.startswith("admin:"):
        headers = page.body_headers or {}
        assert headers.get("X-CSRFToken"), f"htmx posts, but <body hx-headers> is {headers}"
