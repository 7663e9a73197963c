"""The optional error tracker (Sentry's SDK), started by the settings when
`DJANGO_SENTRY_DSN` is set.

The SDK's own scrubber removes what its deny list names (passwords, tokens, cookies, session
ids and the like) wherever it appears in an event; our additions name the fields that hold
people's and nonprofits' data here. On top of that `scrub` drops the request's body, cookies
and query string, keeps of the user only the id, and masks email addresses in messages and
exception texts, so an event says what broke, never whose data it was.
"""

import re
from typing import Any

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
MASK = "[Filtered]"
# Field names that hold personal or bank data in this project.
DENYLIST = [
    "email",
    "contact_email",
    "iban",
    "account_number",
    "bic",
    "account_holder",
    "payee_reference",
    "registration_number",
    "phone",
    "bank_details",
    "otp_token",
    "totp",
]


def _mask(text: Any) -> Any:
    return EMAIL.sub(MASK, text) if isinstance(text, str) else text


def scrub(event: dict, _hint: dict | None = None) -> dict:
    request = event.get("request") or {}
    for part in ("data", "cookies", "query_string", "env"):
        if part in request:
            request[part] = MASK
    headers = request.get("headers") or {}
    for name in list(headers):
        if name.lower() in {"cookie", "authorization", "x-csrftoken", "x-forwarded-for"}:
            headers[name] = MASK
    user = event.get("user")
    if user:
        event["user"] = {"id": user["id"]} if "id" in user else {}
    if "message" in event:
        event["message"] = _mask(event["message"])
    logentry = event.get("logentry") or {}
    if "message" in logentry:
        logentry["message"] = _mask(logentry["message"])
    for exception in (event.get("exception") or {}).get("values") or []:
        exception["value"] = _mask(exception.get("value"))
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame["context_line"] = _mask(frame.get("context_line"))
            for around in ("pre_context", "post_context"):
                frame[around] = [_mask(line) for line in frame.get(around) or []]
    for crumb in (event.get("breadcrumbs") or {}).get("values") or []:
        crumb["message"] = _mask(crumb.get("message"))
    return event


def error_tracking_start(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, DEFAULT_PII_DENYLIST, EventScrubber

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        traces_sample_rate=traces_sample_rate,
        event_scrubber=EventScrubber(
            denylist=DEFAULT_DENYLIST + DEFAULT_PII_DENYLIST + DENYLIST,
            pii_denylist=DEFAULT_PII_DENYLIST,
            recursive=True,
        ),
        before_send=scrub,
        before_send_transaction=scrub,
    )
