"""Every write about the program, by subject: cohorts and their places, milestones and their
review (with the TikTok videos and impact figures of the updates), applications,
opportunities and their sign-ups, and the scheduled reminders, escalations and staff digest.
Callers import from here (`from programs.services import cohort_create`)."""

from .applications import (
    application_accept,
    application_decline,
    application_declined_email,
    application_submit,
)
from .cohorts import (
    DEFAULT_MILESTONE_PLAN,
    cohort_complete,
    cohort_create,
    cohort_start,
    creator_onboard,
    enrolment_activate,
    enrolment_complete,
    enrolment_invite,
    enrolment_withdraw,
    milestones_stamp,
)
from .escalations import milestone_escalate, milestone_escalations_send
from .highlights import (
    highlight_approve,
    highlight_decline,
    highlight_request,
    highlight_withdraw,
)
from .impact import (
    impact_indicator_create,
    impact_indicator_update,
    impact_value_correct,
    impact_values_count,
    impact_values_report,
)
from .milestones import (
    milestone_add,
    milestone_approve,
    milestone_request_changes,
    milestone_review_email,
    progress_update_submit,
)
from .opportunities import (
    opportunity_attendance_mark,
    opportunity_cancel,
    opportunity_cancellation_email,
    opportunity_create,
    opportunity_publish,
    opportunity_reminder_deliver,
    opportunity_reminders_send,
    opportunity_signup,
    opportunity_update,
    opportunity_withdraw,
)
from .reminders import milestone_reminder_deliver, milestone_reminders_send, staff_digest_send
from .tiktok import (
    tiktok_preview_fetch,
    tiktok_preview_store,
    tiktok_previews_sweep,
    tiktok_videos_attach,
)

__all__ = [
    "DEFAULT_MILESTONE_PLAN",
    "application_accept",
    "application_decline",
    "application_declined_email",
    "application_submit",
    "cohort_complete",
    "cohort_create",
    "cohort_start",
    "creator_onboard",
    "enrolment_activate",
    "enrolment_complete",
    "enrolment_invite",
    "enrolment_withdraw",
    "highlight_approve",
    "highlight_decline",
    "highlight_request",
    "highlight_withdraw",
    "impact_indicator_create",
    "impact_indicator_update",
    "impact_value_correct",
    "impact_values_count",
    "impact_values_report",
    "milestone_add",
    "milestone_approve",
    "milestone_escalate",
    "milestone_escalations_send",
    "milestone_reminder_deliver",
    "milestone_reminders_send",
    "milestone_request_changes",
    "milestone_review_email",
    "milestones_stamp",
    "opportunity_attendance_mark",
    "opportunity_cancel",
    "opportunity_cancellation_email",
    "opportunity_create",
    "opportunity_publish",
    "opportunity_reminder_deliver",
    "opportunity_reminders_send",
    "opportunity_signup",
    "opportunity_update",
    "opportunity_withdraw",
    "progress_update_submit",
    "staff_digest_send",
    "tiktok_preview_fetch",
    "tiktok_preview_store",
    "tiktok_previews_sweep",
    "tiktok_videos_attach",
]
