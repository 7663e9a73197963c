"""Asking the matrix's URLs and judging the answers, shared by the security tests."""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.security.matrix import ADMIN_LOGIN, LOGIN, Answer, Redirect, Url
from tests.security.world import World


def url_patterns(resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""):
    """Every (route, name, callback) the project routes, included patterns and all."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern, prefix + str(pattern.pattern), inner)
        else:
            assert isinstance(pattern, URLPattern)
            name = f"{namespace}{pattern.name}" if pattern.name else None
            yield prefix + str(pattern.pattern), name, pattern.callback


def path_of(row: Url, world: World) -> str:
    path = reverse(row.name, kwargs=row.kwargs(world))
    return f"{path}?{row.query}" if row.query else path


def read(response: HttpResponse) -> bytes:
    """The body, streamed or not. The test client closes a streamed response once it is read
    through (closing it here would close the test's database connection too)."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def described(response: HttpResponse) -> str:
    if 300 <= response.status_code < 400:
        return f"{response.status_code} to {response['Location']}"
    return str(response.status_code)


def mismatch(expected: Answer, response: HttpResponse, path: str, world: World) -> str | None:
    """None when `response` is the expected answer, else what was expected and what came."""
    if expected == LOGIN:
        wanted = f"302 to {redirect_to_login(path).url}"
    elif expected == ADMIN_LOGIN:
        wanted = f"302 to {redirect_to_login(path, reverse('admin:login')).url}"
    elif isinstance(expected, Redirect):
        wanted = f"302 to {expected.url(world)}"
    else:
        wanted = str(expected)
    got = described(response)
    return None if got == wanted else f"expected {wanted}, got {got}"


def database_snapshot() -> dict[str, list[tuple]]:
    """Every row of the program's tables, and the accounts (less when they last signed in,
    which signing the matrix's people in changes)."""
    user_model = get_user_model()
    models = [
        model
        for label in ("creators", "programs", "donations", "api")
        for model in apps.get_app_config(label).get_models()
    ]
    snapshot = {
        model._meta.label: list(model.objects.order_by("pk").values_list()) for model in models
    }
    user_fields = [f.attname for f in user_model._meta.concrete_fields if f.name != "last_login"]
    snapshot[user_model._meta.label] = list(
        user_model.objects.order_by("pk").values_list(*user_fields)
    )
    return snapshot


def snapshot_changes(before: dict, after: dict) -> list[str]:
    return [
        f"{label}: {len(before[label])} rows before, {len(after[label])} after"
        if len(before[label]) != len(after[label])
        else f"{label}: rows changed"
        for label in before
        if before[label] != after[label]
    ]
