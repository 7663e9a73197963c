from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackOfficeConfig(AppConfig):
    """Above the apps: the staff dashboard, the CSV exports, the public program page and its
    text, and the demo data. It reads every app; no app imports it."""

    name = "changemakers.backoffice"
    label = "backoffice"
    verbose_name = _("Program")
