"""The admin shows invitations, applications, reminders and digests, read-only."""

import datetime

import pytest
from django.urls import reverse

from creators.services import creator_invitation_send
from programs.services import application_submit, milestone_reminders_send, staff_digest_send

pytestmark = pytest.mark.django_db


def test_new_rows_are_listed_and_read_only_in_the_admin(client, staff_user, enrolment):
    creator_invitation_send(creator=enrolment.creator, email="c@example.org", actor=staff_user)
    application_submit(
        display_name="Ada",
        handle="ada.makes",
        email="ada@example.org",
        country="NG",
        causes=["education"],
        channel_url="https://example.org/ada",
        mission="Teach.",
    )
    milestone_reminders_send(today=datetime.date(2026, 9, 16))
    staff_digest_send(today=datetime.date(2026, 9, 16))
    client.force_login(staff_user)
    for model in (
        "creators_creatorinvitation",
        "programs_application",
        "programs_milestonereminder",
        "programs_staffdigest",
    ):
        changelist = client.get(reverse(f"admin:{model}_changelist"))
        assert changelist.status_code == 200, model
        assert len(changelist.context["cl"].result_list) == 1, model
        assert client.get(reverse(f"admin:{model}_add")).status_code == 403, model
