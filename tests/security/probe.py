"""Asking the matrix's URLs and judging the answers, shared by the security tests."""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.db import connection
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


def database_snapshot() -> dict[str, tuple[int, object]]:
    """Every row of the program's tables, and the accounts (less when they last signed in,
    which signing the matrix's people in changes): each table's row count and contents. On
    PostgreSQL the contents are a digest computed by the database in one statement (the fuzz
    takes a snapshot after every refused submission); elsewhere, the rows themselves."""
    user_model = get_user_model()
    models = [
        model
        for label in ("creators", "programs", "donations", "api")
        for model in apps.get_app_config(label).get_models()
    ]
    user_fields = [f for f in user_model._meta.concrete_fields if f.name != "last_login"]
    if connection.vendor == "postgresql":
        return _digests(models, user_model, user_fields)
    snapshot = {}
    for model in models:
        rows = list(model.objects.order_by("pk").values_list())
        snapshot[model._meta.label] = (len(rows), rows)
    rows = list(user_model.objects.order_by("pk").values_list(*(f.attname for f in user_fields)))
    snapshot[user_model._meta.label] = (len(rows), rows)
    return snapshot


def _digests(models, user_model, user_fields) -> dict[str, tuple[int, object]]:
    quote = connection.ops.quote_name
    selects, labels = [], []
    for model in [*models, user_model]:
        if model is user_model:
            row = "ROW({})::text".format(", ".join(f"t.{quote(f.column)}" for f in user_fields))
        else:
            row = "t::text"
        selects.append(
            f"SELECT %s, count(*), coalesce(md5(string_agg({row}, '|' ORDER BY {row})), '') "
            f"FROM {quote(model._meta.db_table)} t"
        )
        labels.append(model._meta.label)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), labels)
        return {label: (count, digest) for label, count, digest in cursor.fetchall()}


def snapshot_changes(before: dict, after: dict) -> list[str]:
    return [
        f"{label}: {before[label][0]} rows before, {after[label][0]} after"
        if before[label][0] != after[label][0]
        else f"{label}: rows changed"
        for label in before
        if before[label] != after[label]
    ]
