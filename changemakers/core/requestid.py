"""A request id on every log line of a request and of the Celery tasks it enqueues.

The id comes from the proxy's `X-Request-ID` when it looks like one (so a line in the proxy's
log finds ours), or is made here; the response carries it back. Tasks published while a
request (or a task) runs carry it in their message headers, and the worker puts it back in
place while the task runs, so one id follows a payment from the click to the payout.
"""

import logging
import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
TASK_HEADER = "request_id"
_ACCEPTED = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

_current: ContextVar[str] = ContextVar("request_id", default="")


def current() -> str:
    """The id of the request or task being served ("" outside both)."""
    return _current.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(HEADER, "")
        request_id = given if _ACCEPTED.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response.headers[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record, for the formatters to print."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get()
        return True


def _on_publish(headers=None, **_kwargs) -> None:
    request_id = _current.get()
    if headers is not None and request_id and not headers.get(TASK_HEADER):
        headers[TASK_HEADER] = request_id


def _on_task_start(task=None, **_kwargs) -> None:
    request = getattr(task, "request", None)
    given = getattr(request, TASK_HEADER, None) or ""
    # An eager task runs inside its caller and keeps the caller's id.
    if given and _ACCEPTED.match(given):
        _current.set(given)


def _on_task_end(task=None, **_kwargs) -> None:
    if not getattr(getattr(task, "request", None), "is_eager", False):
        _current.set("")


def connect_celery() -> None:
    """Carry the id through Celery's messages (called once, by changemakers/celery.py)."""
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(_on_publish, weak=False, dispatch_uid="request-id-publish")
    task_prerun.connect(_on_task_start, weak=False, dispatch_uid="request-id-start")
    task_postrun.connect(_on_task_end, weak=False, dispatch_uid="request-id-end")
