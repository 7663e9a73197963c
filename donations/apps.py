from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonationsConfig(AppConfig):
    name = "donations"
    verbose_name = _("Donations")

    def ready(self) -> None:
        # Connects the receiver that reloads payout providers when their settings change.
        from .payouts import registry  # noqa: F401
