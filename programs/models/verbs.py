"""The verbs this app writes to the audit log."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditVerb(models.TextChoices):
    """What this app records in the audit log (declared in `ProgramsConfig.ready`)."""

    STARTED = "started", _("Started")
    INVITED = "invited", _("Invited")
    ACTIVATED = "activated", _("Activated")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    ESCALATED = "escalated", _("Escalated")
    REPORTED = "reported", _("Reported")
    CORRECTED = "corrected", _("Corrected")
    REMOVED = "removed", _("Removed")
    HIGHLIGHT_REQUESTED = "highlight_requested", _("Asked to be a public highlight")
    HIGHLIGHT_WITHDRAWN = "highlight_withdrawn", _("Public highlight withdrawn")
    HIGHLIGHT_APPROVED = "highlight_approved", _("Approved as a public highlight")
    HIGHLIGHT_DECLINED = "highlight_declined", _("Declined as a public highlight")
    PUBLISHED = "published", _("Published")
    CANCELLED = "cancelled", _("Cancelled")
    SIGNED_UP = "signed_up", _("Signed up")
    ATTENDANCE_MARKED = "attendance_marked", _("Attendance marked")
