"""Telling the finance approvers, by email, what the payment provider reported that needs
them: a payment reversed, a nonprofit's bank refusing its payout, a batch held for the
platform's account. Sent by a job once the change is committed (the services that record the
change enqueue it, once: a repeated report changes nothing and enqueues nothing); the same
things wait for them on the staff dashboard until settled.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from changemakers.core.emails import absolute_url, email_send
from changemakers.core.timezones import preferences_of

from ..models import Disbursement, DisbursementBatch, PayoutFailure

FINANCE_PERMISSION = "donations.approve_grant"


def finance_approvers() -> list:
    """Active staff who approve grants, with an email address."""
    return list(
        get_user_model()
        .objects.with_perm(
            FINANCE_PERMISSION,
            is_active=True,
            backend="django.contrib.auth.backends.ModelBackend",  # roles are its groups
        )
        .filter(is_staff=True)
        .exclude(email="")
        .order_by("email")
    )


def _reversed(object_id: int) -> dict | None:
    disbursement = (
        Disbursement.objects.select_related("grant__nonprofit", "grant__creator")
        .filter(pk=object_id)
        .first()
    )
    if disbursement is None:
        return None
    return {
        "disbursement": disbursement,
        "grant": disbursement.grant,
        "link": absolute_url(reverse("donations:grant-detail", args=[disbursement.grant_id])),
    }


def _payout_failed(object_id: int) -> dict | None:
    failure = PayoutFailure.objects.select_related("nonprofit").filter(pk=object_id).first()
    if failure is None:
        return None
    return {
        "failure": failure,
        "nonprofit": failure.nonprofit,
        "link": absolute_url(
            reverse("donations:nonprofit-list")
            + "?"
            + urlencode({"q": failure.nonprofit.registration_number})
        ),
    }


def _batch_held(object_id: int) -> dict | None:
    batch = DisbursementBatch.objects.filter(pk=object_id).first()
    if batch is None or not batch.is_held:
        return None  # released meanwhile: nothing to say any more
    return {
        "batch": batch,
        "waiting": batch.disbursements.filter(status__in=Disbursement.UNFINISHED_STATUSES).count(),
        "link": absolute_url(reverse("donations:batch-detail", args=[batch.pk])),
    }


ALERTS = {"reversed": _reversed, "payout_failed": _payout_failed, "batch_held": _batch_held}


def finance_alert_email(*, kind: str, object_id: int) -> int:
    """Email each finance approver about one thing the provider reported (`kind` one of
    ALERTS, about the row `object_id`), in their own language and time zone ("Your settings";
    the site's language for one who chose none). Returns how many were emailed."""
    context = ALERTS[kind](object_id)
    if context is None:
        return 0
    sent = 0
    for person in finance_approvers():
        preferences = preferences_of(person)
        email_send(
            to=[person.email],
            template=f"donations/email/alert_{kind}",
            language=preferences.language or settings.LANGUAGE_CODE,
            time_zone=preferences.time_zone,
            context={**context, "person": person},
        )
        sent += 1
    return sent
