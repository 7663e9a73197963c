"""Public highlights (programs/services/highlights.py): the creator's wish to show an update,
staff's decision on it, who may take each step, and the audit of every step."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from changemakers.core.models import AuditEvent
from changemakers.core.roles import StaffRole
from programs.models import ProgressUpdate
from programs.services import (
    highlight_approve,
    highlight_decline,
    highlight_request,
    highlight_withdraw,
    progress_update_submit,
)
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def update(enrolment, creator_user):
    milestone = enrolment.milestones.order_by("due_date").first()
    return progress_update_submit(milestone=milestone, author=creator_user, body="First video out.")


@pytest.fixture
def manager(db):
    return StaffFactory(roles=[StaffRole.PROGRAM_MANAGER])


def _public_ids() -> set[int]:
    return set(ProgressUpdate.objects.public_highlights().values_list("pk", flat=True))


def _verbs(update) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_id=update.pk, action__startswith="highlight_")
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_an_update_is_not_public_until_the_creator_asks_and_staff_approve(
    update, creator_user, manager
):
    assert _public_ids() == set()
    with pytest.raises(ValidationError) as refusal:
        highlight_approve(update=update, actor=manager)
    assert refusal.value.code == "highlight_not_asked"

    update = highlight_request(update=update, actor=creator_user)
    assert update.show_publicly
    assert _public_ids() == set()

    update = highlight_approve(update=update, actor=manager, summaries={"en": " A win. "})
    assert _public_ids() == {update.pk}
    assert update.highlight_decided_by == manager
    assert update.highlight_decided_at is not None
    assert update.public_summary_en == "A win."
    assert _verbs(update) == ["highlight_requested", "highlight_approved"]


def test_the_creator_can_mark_it_public_when_submitting(enrolment, creator_user, manager):
    milestone = enrolment.milestones.order_by("due_date").first()
    update = progress_update_submit(
        milestone=milestone, author=creator_user, body="Shown.", show_publicly=True
    )
    assert update.show_publicly
    highlight_approve(update=update, actor=manager)
    assert _public_ids() == {update.pk}


def test_withdrawing_removes_it_at_once_and_asking_again_restores_the_approval(
    update, creator_user, manager
):
    highlight_request(update=update, actor=creator_user)
    highlight_approve(update=update, actor=manager)

    update = highlight_withdraw(update=update, actor=creator_user)
    assert not update.show_publicly
    assert _public_ids() == set()
    # Staff's decision stays on record; staff cannot put it back without the creator.
    assert update.highlight == ProgressUpdate.Highlight.APPROVED
    with pytest.raises(ValidationError):
        highlight_approve(update=update, actor=manager, summaries={"en": "Changed."})

    highlight_request(update=update, actor=creator_user)
    assert _public_ids() == {update.pk}
    assert _verbs(update) == [
        "highlight_requested",
        "highlight_approved",
        "highlight_withdrawn",
        "highlight_requested",
    ]


def test_decline_keeps_it_off_and_takes_an_approved_one_down(update, creator_user, manager):
    highlight_request(update=update, actor=creator_user)
    update = highlight_decline(update=update, actor=manager, note="Not this one.")
    assert update.highlight == ProgressUpdate.Highlight.DECLINED
    assert _public_ids() == set()

    highlight_approve(update=update, actor=manager)
    assert _public_ids() == {update.pk}
    highlight_decline(update=update, actor=manager)
    assert _public_ids() == set()
    event = AuditEvent.objects.filter(action="highlight_declined").order_by("pk").first()
    assert event.actor == manager
    assert event.note == "Not this one."


def test_steps_already_taken_are_not_recorded_twice(update, creator_user, manager):
    highlight_request(update=update, actor=creator_user)
    highlight_request(update=update, actor=creator_user)
    highlight_approve(update=update, actor=manager)
    highlight_approve(update=update, actor=manager)
    assert _verbs(update) == ["highlight_requested", "highlight_approved"]


def test_a_creator_cannot_approve_or_decline(update, creator_user):
    highlight_request(update=update, actor=creator_user)
    for decide in (highlight_approve, highlight_decline):
        with pytest.raises(PermissionDenied):
            decide(update=update, actor=creator_user)
    assert _public_ids() == set()


def test_staff_without_the_permission_cannot_decide(update, creator_user):
    highlight_request(update=update, actor=creator_user)
    for role in (StaffRole.AUDITOR, StaffRole.FINANCE_APPROVER, StaffRole.NONPROFIT_VETTER):
        with pytest.raises(PermissionDenied):
            highlight_approve(update=update, actor=StaffFactory(roles=[role]))
    assert _public_ids() == set()


def test_another_creator_cannot_mark_or_withdraw_someone_elses_update(
    update, creator_user, other_creator_user, manager
):
    with pytest.raises(PermissionDenied):
        highlight_request(update=update, actor=other_creator_user)
    highlight_request(update=update, actor=creator_user)
    highlight_approve(update=update, actor=manager)
    # Nor can staff withdraw the creator's wish: it is theirs (staff decline instead).
    for someone in (other_creator_user, manager):
        with pytest.raises(PermissionDenied):
            highlight_withdraw(update=update, actor=someone)
    assert _public_ids() == {update.pk}


def test_summaries_are_written_per_language_and_read_in_the_readers(update, creator_user, manager):
    from django.utils import translation

    highlight_request(update=update, actor=creator_user)
    highlight_approve(
        update=update, actor=manager, summaries={"en": "In English.", "fr": "En français."}
    )
    update = ProgressUpdate.objects.get(pk=update.pk)
    with translation.override("fr"):
        assert update.public_text == "En français."
    with translation.override("es"):
        assert update.public_text == "In English."  # no Spanish written: the English
    with pytest.raises(ValidationError):
        highlight_approve(update=update, actor=manager, summaries={"xx": "?"})
