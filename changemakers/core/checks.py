"""System checks of the kernel's own settings."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

from .encryption import KEYS_SETTING, encryption_keys, fernet


@register(Tags.security, deploy=True)
def field_encryption_keys_check(app_configs, **kwargs) -> list[Error]:
    """Production encrypts bank details with keys of its own: without one nothing could be
    stored or read (and a key derived from SECRET_KEY would go with every rotation of it)."""
    if settings.DEBUG:
        return []
    if not encryption_keys():
        return [
            Error(
                f"{KEYS_SETTING} is not set: bank details cannot be encrypted at rest.",
                hint=(
                    "Set it to one or more comma-separated Fernet keys, made with "
                    '`python -c "from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())"`.'
                ),
                id="core.E001",
            )
        ]
    return _keys_valid()


@register(Tags.security)
def field_encryption_keys_valid_check(app_configs, **kwargs) -> list[Error]:
    return _keys_valid() if encryption_keys() else []


def _keys_valid() -> list[Error]:
    try:
        fernet()
    except ImproperlyConfigured as error:
        return [Error(str(error), id="core.E002")]
    return []
