"""The back office's jobs: building a personal data export once it is approved, and the
daily retention purge. Thin: each calls one service, which is safe to run twice."""

from celery import shared_task

from .personal_data import data_export_build
from .retention import retention_purge


@shared_task(name="changemakers.backoffice.tasks.build_personal_data_export", acks_late=True)
def build_personal_data_export(request_id: int) -> str:
    return data_export_build(request_id=request_id).status


@shared_task(name="changemakers.backoffice.tasks.purge_past_retention", acks_late=True)
def purge_past_retention() -> dict:
    return retention_purge()
