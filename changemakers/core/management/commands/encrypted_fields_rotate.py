"""Re-encrypt every encrypted field (changemakers/core/encryption.py) with the first key of
DJANGO_FIELD_ENCRYPTION_KEYS: the step of a key rotation between putting a new key first and
dropping the old one. Safe to run twice, and while the site runs (each row is locked while
it is rewritten; nothing else about it changes, not even its `updated_at`)."""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from changemakers.core.encryption import EncryptedCharField, fernet


def encrypted_fields() -> list[tuple[type, list[str]]]:
    """Each concrete model with encrypted fields, and their names."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        names = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, EncryptedCharField)
        ]
        if names:
            found.append((model, names))
    return found


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields with the first key of DJANGO_FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        fernet()  # no key, or a bad one: stop before touching a row
        for model, names in encrypted_fields():
            rows = model._base_manager.all()
            rewritten = 0
            for pk in rows.order_by("pk").values_list("pk", flat=True).iterator():
                with transaction.atomic():
                    # Read (any key decrypts) and written back (the first key encrypts) under
                    # the row's lock, so a change made meanwhile is not overwritten.
                    row = rows.select_for_update().filter(pk=pk).values(*names).first()
                    if row is None:
                        continue
                    rows.filter(pk=pk).update(**row)
                    rewritten += 1
            self.stdout.write(
                f"{model._meta.label}: {rewritten} rows re-encrypted ({', '.join(names)})."
            )
