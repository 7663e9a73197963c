import pytest
from django.test import RequestFactory

from changemakers.core.redirects import is_site_path, safe_next_path


@pytest.mark.parametrize(
    "candidate",
    ["/", "/staff/grants/", "/staff/grants/?status=approved&page=2", "/list/2026/#entries"],
)
def test_a_path_on_this_site_is_where_a_form_goes_back_to(candidate):
    request = RequestFactory().post("/x/", {"next": candidate})
    assert safe_next_path(request, default="/default/") == candidate


@pytest.mark.parametrize(
    "candidate",
    [
        "",
        "grant-list",  # redirect() would take it for a view name
        "donations:grant-list",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        " /staff/",
        "/staff/\x00",
        "/staff/\u202e",
        "/staff/ x",
        "/" + "x" * 2000,
    ],
)
def test_anything_else_goes_to_the_default(candidate):
    assert not is_site_path(candidate)
    request = RequestFactory().post("/x/", {"next": candidate})
    assert safe_next_path(request, default="/default/") == "/default/"


def test_the_query_string_next_counts_when_the_form_has_none():
    request = RequestFactory().get("/x/", {"next": "/staff/"})
    assert safe_next_path(request, default="/default/") == "/staff/"
