"""What payment providers tell us by webhook: each event stored once, by the provider's id."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProviderEvent(models.Model):
    """One event a provider sent (Stripe's `evt_...`), stored as received before it is handled
    by a job; `handled_at` says it was. A replay of the same id finds the row and changes
    nothing."""

    provider = models.CharField(_("provider"), max_length=32)
    event_id = models.CharField(_("event id"), max_length=255)
    type = models.CharField(_("type"), max_length=100)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("provider event")
        verbose_name_plural = _("provider events")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id}"
