"""The events this app emits for partners (webhooks): a yearly list published, with its year,
title, number of entries and public address. Declared in `CreatorsConfig.ready`."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from changemakers.core.emails import absolute_url


class ListEvent(models.TextChoices):
    PUBLISHED = "list.published", _("Yearly list published")


def list_event_data(change_makers_list) -> dict:
    return {
        "id": change_makers_list.pk,
        "year": change_makers_list.year,
        "title": change_makers_list.title,
        "entries": change_makers_list.entries.count(),
        "published_at": (
            change_makers_list.published_at.isoformat() if change_makers_list.published_at else None
        ),
        "url": absolute_url(change_makers_list.get_absolute_url()),
    }
