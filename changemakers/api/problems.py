"""Every error the API answers is an RFC 9457 problem detail (`application/problem+json`):
`type`, `title`, `status`, `detail`, `instance`, and for a refused input `errors`, the
messages by field (`non_field_errors` for the whole request).

A service's refusal (a Django ValidationError) is a 403 when the integration's roles do not
allow the step, a 400 when it names fields, and otherwise a 409: the request was well formed
but the program's rules (the separation of duties, a budget, a state) refuse it now.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

PROBLEM = "application/problem+json"
TYPE_BASE = "https://changemakers.example/problems/"

TITLES = {
    400: gettext_lazy("Your request has errors"),
    401: gettext_lazy("A valid token is needed"),
    403: gettext_lazy("Not allowed"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
    406: gettext_lazy("Not acceptable"),
    409: gettext_lazy("Refused by the program's rules"),
    413: gettext_lazy("Request too large"),
    415: gettext_lazy("Unsupported media type"),
    429: gettext_lazy("Too many requests"),
}
TYPES = {
    400: "invalid-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "refused",
    413: "too-large",
    415: "unsupported-media-type",
    429: "rate-limited",
}


class ServiceRefused(exceptions.APIException):
    """A service refused the write: the program's rules, not the request's shape."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "refused"

    def __init__(self, messages: list[str], codes: list[str]):
        super().__init__(" ".join(messages))
        self.codes = codes


class BadInput(exceptions.ValidationError):
    """A 400 for one parameter, with its field in `errors`."""

    def __init__(self, field: str, message: str):
        super().__init__({field: [message]})


def problem(
    request, status_code: int, detail: str, *, errors: dict | None = None, code: str = ""
) -> dict:
    body = {
        "type": TYPE_BASE + TYPES.get(status_code, "error"),
        "title": str(TITLES.get(status_code, _("Error"))),
        "status": status_code,
        "detail": str(detail),
        "instance": request.get_full_path() if request is not None else "",
    }
    if code:
        body["code"] = code
    if errors is not None:
        body["errors"] = errors
    return body


def _as_errors(detail) -> dict[str, list[str]]:
    """DRF's error detail (a dict, a list or one message) as {field: [messages]}."""
    if isinstance(detail, dict):
        errors = {}
        for field, value in detail.items():
            if isinstance(value, dict):  # a nested serializer: flatten as field.sub
                for sub, messages in _as_errors(value).items():
                    errors[f"{field}.{sub}"] = messages
            elif isinstance(value, list):
                errors[str(field)] = [str(item) for item in value]
            else:
                errors[str(field)] = [str(value)]
        return errors
    if isinstance(detail, list):
        return {"non_field_errors": [str(item) for item in detail]}
    return {"non_field_errors": [str(detail)]}


def from_django_validation(error: DjangoValidationError) -> exceptions.APIException:
    """A service's refusal as the API's exception."""
    codes = [e.code or "" for e in error.error_list] if not hasattr(error, "error_dict") else []
    if "not_permitted" in codes:
        return exceptions.PermissionDenied(" ".join(error.messages))
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError(
            {
                ("non_field_errors" if field == "__all__" else field): messages
                for field, messages in error.message_dict.items()
            }
        )
    return ServiceRefused(error.messages, codes)


def exception_handler(exc, context):
    request = context.get("request")
    if isinstance(exc, DjangoValidationError):
        exc = from_django_validation(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("There is nothing here with this identifier."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a programming error: Django's 500

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    status_code = exc.status_code
    if isinstance(exc, exceptions.ValidationError):
        errors = _as_errors(exc.detail)
        body = problem(
            request,
            400,
            _("Some values are missing or not valid: see errors."),
            errors=errors,
        )
    elif isinstance(exc, ServiceRefused):
        body = problem(request, status_code, exc.detail, code=",".join(c for c in exc.codes if c))
    else:
        detail = exc.detail if not isinstance(exc.detail, list | dict) else exc.default_detail
        body = problem(request, status_code, detail)
    if isinstance(exc, exceptions.Throttled):
        body["detail"] = str(
            _("This token has made too many requests; try again in %(seconds)s seconds.")
            % {"seconds": headers.get("Retry-After", "60")}
        )
    set_rollback()
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM)
