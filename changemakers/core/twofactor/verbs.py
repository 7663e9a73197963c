"""What two-factor sign-in records in the audit log, on the account concerned."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditVerb(models.TextChoices):
    SECOND_FACTOR_ADDED = "second_factor_added", _("Second factor added")
    SECOND_FACTOR_REMOVED = "second_factor_removed", _("Second factor removed")
    RECOVERY_CODES_ISSUED = "recovery_codes_issued", _("Recovery codes issued")
    RECOVERY_CODE_USED = "recovery_code_used", _("Recovery code used")
    SECOND_FACTOR_RESET = "second_factor_reset", _("Second factor reset by a colleague")
