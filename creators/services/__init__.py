"""Every write about creators, by subject: their profiles, the yearly list, their portal
invitations. Callers import from here (`from creators.services import list_publish`)."""

from .consent import (
    consent_reminder_email,
    consent_reminders_send,
    creator_consent_confirm,
    creator_consent_withdraw,
    list_awaiting_consent,
)
from .invitations import (
    INVITATION_VALID_FOR,
    creator_invitation_accept,
    creator_invitation_email,
    creator_invitation_send,
    invitation_for_token,
    invitation_path,
    invitation_token,
)
from .lists import (
    ENTRY_FIELDS,
    list_create,
    list_entries_import,
    list_entry_add,
    list_entry_move,
    list_entry_remove,
    list_entry_update,
    list_publish,
    list_unpublish,
    list_update,
)
from .profiles import PROFILE_FIELDS, creator_create, creator_profile_update

__all__ = [
    "ENTRY_FIELDS",
    "INVITATION_VALID_FOR",
    "PROFILE_FIELDS",
    "consent_reminder_email",
    "consent_reminders_send",
    "creator_consent_confirm",
    "creator_consent_withdraw",
    "creator_create",
    "creator_invitation_accept",
    "creator_invitation_email",
    "creator_invitation_send",
    "creator_profile_update",
    "invitation_for_token",
    "invitation_path",
    "invitation_token",
    "list_awaiting_consent",
    "list_create",
    "list_entries_import",
    "list_entry_add",
    "list_entry_move",
    "list_entry_remove",
    "list_entry_update",
    "list_publish",
    "list_unpublish",
    "list_update",
]
