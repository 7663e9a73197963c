"""The retention purge: what the program no longer needs is deleted once it is past its time.

Declined applications after RETENTION_DECLINED_APPLICATIONS_DAYS, every kind of single-use
link once expired, expired sessions, and personal data exports past their lifetime. Each app
deletes its own rows (their audit events stay, without the names); this gathers the counts
and records the run in the audit log. Run by the `retention_purge` command and daily by beat.
"""

import datetime

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from changemakers.core.audit import audit_record
from changemakers.core.personal_data import rows_delete_redacted, single_use_links_expired
from programs.services.personal_data import applications_declined_purge

from .models import RetentionRun
from .personal_data import data_exports_expire


def _sessions_purge(now: datetime.datetime, *, dry_run: bool) -> int:
    """Expired sessions: counted where the database holds them, cleared by the session
    engine's own `clear_expired` (what `clearsessions` runs)."""
    from importlib import import_module

    engine = import_module(settings.SESSION_ENGINE)
    count = 0
    if settings.SESSION_ENGINE.startswith("django.contrib.sessions.backends.") and "db" in (
        settings.SESSION_ENGINE
    ):
        count = Session.objects.filter(expire_date__lt=now).count()
    if not dry_run:
        engine.SessionStore.clear_expired()
    return count


def retention_purge(*, dry_run: bool = False, now: datetime.datetime | None = None) -> dict:
    """Delete what is past its retention period; with `dry_run`, only count it. Returns the
    counts by kind."""
    now = now or timezone.now()
    declined_before = now - datetime.timedelta(days=settings.RETENTION_DECLINED_APPLICATIONS_DAYS)
    counts = {
        "declined_applications": applications_declined_purge(
            before=declined_before, dry_run=dry_run
        )
    }
    for links in single_use_links_expired(now):
        key = f"expired_{links.model._meta.model_name}"
        counts[key] = links.count() if dry_run else rows_delete_redacted(links)
    counts["expired_sessions"] = _sessions_purge(now, dry_run=dry_run)
    counts["expired_exports"] = data_exports_expire(now=now, dry_run=dry_run)
    if not dry_run:
        with transaction.atomic():
            run = RetentionRun.objects.create(counts=counts)
            audit_record(
                actor=None,
                obj=run,
                action="purged",
                note=", ".join(f"{name}: {count}" for name, count in counts.items()),
            )
    return counts
