"""Writes of the back office: the program page's text."""

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from changemakers.core.audit import actor_or_none, audit_record
from changemakers.core.content_languages import in_default_language, translated_values
from changemakers.core.verbs import KernelVerb

from .models import ProgramHub

HUB_FIELDS = ("title", "hashtag", "introduction", "body")


HUB_TRANSLATED = ("title", "introduction", "body")


def program_hub_update(
    *,
    actor,
    title: str,
    hashtag: str,
    introduction: str,
    body: str = "",
    translations: Mapping[str, str] | None = None,
) -> ProgramHub:
    """Save the text of the public program page (its one row, created the first time): the
    English texts, and those `translations` given (`title_fr`, `body_ar`, ...; empty: that
    language shows the English)."""
    texts = translated_values(
        {"title": title, "introduction": introduction, "body": body}, translations
    )
    values = {"title": texts.pop("title"), "hashtag": hashtag, **texts}
    with transaction.atomic(), in_default_language():
        hub = ProgramHub.objects.select_for_update().filter(pk=ProgramHub.SINGLETON_ID).first()
        creating = hub is None
        hub = hub or ProgramHub(pk=ProgramHub.SINGLETON_ID)
        changed = [name for name, value in values.items() if getattr(hub, name) != value]
        if not changed:
            return hub
        for name in changed:
            setattr(hub, name, values[name])
        hub.updated_by = actor_or_none(actor)
        hub.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                hub.save(force_insert=creating)
        except IntegrityError:
            # Two first saves at once: the other one made the row a moment ago.
            raise ValidationError(
                _("Someone else saved this page a moment ago; reload it and try again."),
                code="hub_concurrent",
            ) from None
        audit_record(
            actor=actor,
            obj=hub,
            action=KernelVerb.CREATED if creating else KernelVerb.UPDATED,
            note=", ".join(changed),
        )
        return hub
