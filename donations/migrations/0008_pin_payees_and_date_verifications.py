"""Pin the payee of every unpaid grant (and its unfinished payment) to its nonprofit's payout
details as they are now, and date each verified nonprofit's verification: its last
"verified" audit event, or now when there is none (its year to be re-verified starts today)."""

import hashlib
import json

from django.db import migrations
from django.utils import timezone

UNPAID = ("approved", "scheduled", "processing", "failed")


def fingerprint(nonprofit) -> str:
    # As Nonprofit.payout_fingerprint at the time of this migration.
    payee = [
        "payee-v1",
        nonprofit.payout_reference.strip(),
        nonprofit.legal_name.strip(),
        nonprofit.registration_number.strip(),
        str(nonprofit.country),
    ]
    return hashlib.sha256(json.dumps(payee).encode()).hexdigest()


def pin_and_date(apps, schema_editor):
    Grant = apps.get_model("donations", "Grant")
    Disbursement = apps.get_model("donations", "Disbursement")
    Nonprofit = apps.get_model("donations", "Nonprofit")
    ContentType = apps.get_model("contenttypes", "ContentType")
    AuditEvent = apps.get_model("core", "AuditEvent")

    for grant in Grant.objects.filter(status__in=UNPAID, payee_fingerprint="").select_related(
        "nonprofit"
    ):
        grant.payee_reference = grant.nonprofit.payout_reference
        grant.payee_fingerprint = fingerprint(grant.nonprofit)
        grant.save(update_fields=["payee_reference", "payee_fingerprint"])
        Disbursement.objects.filter(
            grant=grant, status__in=("pending", "processing", "failed")
        ).update(payee_reference=grant.payee_reference, payee_fingerprint=grant.payee_fingerprint)

    content_type = ContentType.objects.filter(app_label="donations", model="nonprofit").first()
    now = timezone.now()
    for nonprofit in Nonprofit.objects.filter(verification_status="verified", verified_at=None):
        last = None
        if content_type is not None:
            last = (
                AuditEvent.objects.filter(
                    content_type=content_type, object_id=nonprofit.pk, action="verified"
                )
                .order_by("-occurred_at")
                .values_list("occurred_at", flat=True)
                .first()
            )
        nonprofit.verified_at = last or now
        nonprofit.save(update_fields=["verified_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0001_initial"),
        ("donations", "0007_grant_holds_pinned_payees_verification_expiry"),
    ]

    operations = [migrations.RunPython(pin_and_date, migrations.RunPython.noop)]
