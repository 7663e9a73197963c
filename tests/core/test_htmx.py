"""One htmx way (CONVENTIONS 13): the kernel's helpers, and checks over every view module that
they are the only way views answer htmx."""

import ast
import re
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django_htmx.middleware import HtmxMiddleware

from changemakers.core.htmx import (
    REFUSED,
    Event,
    announce,
    is_partial,
    partial_target,
    vary_on_htmx,
)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
# Where views live: the apps and the back office (the kernel itself is not a user of it).
VIEW_PACKAGES = ["creators", "programs", "donations", "changemakers/backoffice"]

METHOD_DECORATORS = {"require_GET", "require_POST", "require_http_methods", "require_safe"}
ROLE_DECORATORS = {"staff_required", "creator_required", "nonprofit_required", "login_required"}


def _request(**headers):
    request = RequestFactory().get("/", headers=headers)
    HtmxMiddleware(lambda request: HttpResponse())(request)
    return request


def test_a_full_page_has_no_partial_target():
    assert partial_target(_request()) is None
    assert not is_partial(_request())


def test_an_htmx_request_names_its_target():
    assert partial_target(_request(HX_Request="true", HX_Target="rows")) == "rows"
    assert partial_target(_request(HX_Request="true")) == ""
    assert is_partial(_request(HX_Request="true"))


def test_a_history_restore_wants_the_whole_page():
    request = _request(HX_Request="true", HX_History_Restore_Request="true")
    assert partial_target(request) is None


def test_vary_on_htmx_names_both_headers():
    response = vary_on_htmx(lambda request: HttpResponse())(_request())
    assert response["Vary"] == "HX-Request, HX-Target"


def test_announce_sends_the_event_name():
    response = announce(HttpResponse(status=REFUSED), Event.GRANTS_CHANGED)
    assert response["HX-Trigger"] == '{"grantsChanged": {}}'


def _listened_events() -> set[str]:
    """Every event a template listens to with `data-hx-trigger="<name> from:body"`."""
    names = set()
    for template in TEMPLATES.rglob("*.html"):
        for trigger in re.findall(r'data-hx-trigger="([^"]*)"', template.read_text()):
            names.update(re.findall(r"(\w+) from:body", trigger))
    return names


@pytest.mark.parametrize("event", list(Event), ids=str)
def test_every_event_is_listened_to_by_a_template(event):
    assert str(event) in _listened_events(), f"nothing listens to {event}: drop it"


def _view_modules() -> list[Path]:
    return sorted(
        path
        for package in VIEW_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and "tests" not in path.parts
    )


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (getattr(node.func, "id", None) == name or getattr(node.func, "attr", None) == name)
    ]


def test_no_view_names_an_event_by_a_literal_string():
    wrong = []
    for path in _view_modules():
        tree = ast.parse(path.read_text())
        for call in _calls(tree, "trigger_client_event") + _calls(tree, "announce"):
            if any(isinstance(arg, ast.Constant) for arg in call.args[1:]):
                wrong.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert not wrong, "send an Event with announce(): " + ", ".join(wrong)


def test_views_answer_htmx_only_through_the_kernel_module():
    """No view reads `request.htmx` or writes Vary itself: `partial_target`/`is_partial` and
    `@vary_on_htmx` do, the same way everywhere."""
    wrong = []
    for path in _view_modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "htmx":
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} reads .htmx")
        for call in _calls(tree, "patch_vary_headers") + _calls(tree, "trigger_client_event"):
            wrong.append(f"{path.relative_to(ROOT)}:{call.lineno} calls {ast.unparse(call.func)}")
    assert not wrong, wrong


def _decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def test_every_view_stacks_its_decorators_in_one_order():
    """Outermost first: the HTTP method, then the role, then `@vary_on_htmx`."""
    rank = {name: 0 for name in METHOD_DECORATORS} | {name: 1 for name in ROLE_DECORATORS}
    rank["vary_on_htmx"] = 2
    wrong = []
    for path in _view_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            names = [_decorator_name(d) for d in node.decorator_list]
            order = [rank[name] for name in names if name in rank]
            if order != sorted(order):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {names}")
    assert not wrong, wrong
