"""Integrations and their API tokens.

An integration is one outside system staff connect to the program (a partner's CRM, a
nonprofit's accounting). It is either a staff integration, which acts through an account of
its own holding the staff roles chosen for it, so every service checks its permissions and
the separation of duties against it as against a person (a grant it proposed is approved by
someone else); or a nonprofit's, which reads that nonprofit's grants and nothing else.

A token is shown once, when issued: the database keeps its prefix (to tell tokens apart) and
a SHA-256 of its secret, 32 random bytes, which no one can guess or reverse.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from changemakers.core.models import TimeStampedModel, person_field
from donations.models import Nonprofit


class AuditVerb(models.TextChoices):
    """What this app records in the audit log (declared in `ApiConfig.ready`)."""

    TOKEN_ISSUED = "token_issued", _("Token issued")
    TOKEN_REVOKED = "token_revoked", _("Token revoked")
    API_WRITE = "api_write", _("Changed through the API")


class Integration(TimeStampedModel):
    class Kind(models.TextChoices):
        STAFF = "staff", _("Staff integration")
        NONPROFIT = "nonprofit", _("Nonprofit")

    name = models.CharField(_("name"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    description = models.CharField(_("what it is for"), max_length=300, blank=True)
    # A staff integration's own account: staff, with the roles chosen for it and no password,
    # so it can never sign in to a page; the services see it as the actor of its writes.
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="api_integration",
    )
    nonprofit = models.ForeignKey(
        Nonprofit,
        verbose_name=_("nonprofit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = person_field(_("created by"), on_delete=models.SET_NULL)

    class Meta:
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")
        ordering = ["name"]
        permissions = [
            ("manage_integration", _("Can create integrations and issue or revoke their tokens"))
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="staff", account__isnull=False, nonprofit__isnull=True)
                | Q(kind="nonprofit", account__isnull=True, nonprofit__isnull=False),
                name="integration_acts_for_staff_or_one_nonprofit",
                violation_error_message=_(
                    "A staff integration has an account; a nonprofit's is bound to its nonprofit."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> "ApiTokenQuerySet":
        return self.filter(revoked_at__isnull=True)


class ApiToken(TimeStampedModel):
    class Scope(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Read and write")

    integration = models.ForeignKey(
        Integration,
        verbose_name=_("integration"),
        on_delete=models.PROTECT,
        related_name="tokens",
    )
    label = models.CharField(_("label"), max_length=80, blank=True)
    # The token's first characters after `cm_`: shown in lists and logs, and how a request's
    # token is found. Never enough to use it.
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(_("secret (SHA-256)"), max_length=64, editable=False)
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices)
    created_by = person_field(_("issued by"), on_delete=models.SET_NULL)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = person_field(_("revoked by"), on_delete=models.SET_NULL)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=["read", "write"]),
                name="api_token_scope_known",
                violation_error_message=_("A token reads, or reads and writes."),
            ),
        ]

    def __str__(self) -> str:
        return f"cm_{self.prefix}…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def may_write(self) -> bool:
        return self.scope == self.Scope.WRITE
