"""Model fields encrypted at rest: what must never sit in clear text in the database (bank
account numbers and their holders).

Values are Fernet tokens (AES-128-CBC with an HMAC-SHA256, from `cryptography`) under the keys
of settings.FIELD_ENCRYPTION_KEYS (DJANGO_FIELD_ENCRYPTION_KEYS, comma-separated): the first
encrypts, every one decrypts, so a key is rotated by putting the new one first and running
`manage.py encrypted_fields_rotate` before the old one is dropped. With DEBUG on and no key set,
a key derived from SECRET_KEY stands in; production without one fails `check --deploy`
(changemakers/core/checks.py) and refuses to read or write an encrypted value.

A token differs each time the same value is encrypted, so the database cannot compare these
columns: the only lookup they accept is `= ""` (what constraints on emptiness need); anything
else raises a FieldError instead of silently matching nothing. An empty value stays empty.
"""

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models
from django.db.models.lookups import Exact, IsNull

KEYS_SETTING = "DJANGO_FIELD_ENCRYPTION_KEYS"


def encryption_keys() -> list[str]:
    """The configured keys, the one that encrypts first; with DEBUG on and none configured, a
    key derived from SECRET_KEY (so `make run` needs none). Empty: none usable."""
    keys = [key.strip() for key in getattr(settings, "FIELD_ENCRYPTION_KEYS", []) if key.strip()]
    if not keys and settings.DEBUG:
        digest = hashlib.sha256(b"changemakers.core.encryption:" + settings.SECRET_KEY.encode())
        keys = [base64.urlsafe_b64encode(digest.digest()).decode()]
    return keys


@functools.lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            f"{KEYS_SETTING} holds a value that is not a Fernet key (32 url-safe base64 bytes)."
        ) from error


def fernet() -> MultiFernet:
    keys = encryption_keys()
    if not keys:
        raise ImproperlyConfigured(
            f"Set {KEYS_SETTING}: encrypted fields cannot be read or written without a key."
        )
    return _fernet_for(tuple(keys))


def encrypt(value: str) -> str:
    """The token of `value` under the first key ("" stays "")."""
    if not value:
        return value
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The clear text of a token made under any of the keys ("" stays ""). A token no key
    opens raises: a wrong or missing key must never pass a token off as the value."""
    if not token:
        return token
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            f"An encrypted value cannot be decrypted with the keys of {KEYS_SETTING}."
        ) from None


def reencrypt(token: str) -> str:
    """`token` under the first key (rotation), whichever key it was made with."""
    if not token:
        return token
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            f"An encrypted value cannot be decrypted with the keys of {KEYS_SETTING}."
        ) from None


class EncryptedCharField(models.CharField):
    """A CharField stored as a Fernet token. `max_length` bounds the clear text (the model's
    validation checks it); the column is text, tokens being longer than their value."""

    def get_internal_type(self) -> str:
        return "TextField"

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        return encrypt(value) if isinstance(value, str) else value

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if isinstance(value, str) else value

    def get_lookup(self, lookup_name):
        return _ENCRYPTED_LOOKUPS.get(lookup_name)

    def get_transform(self, lookup_name):
        return None


class EmptyExact(Exact):
    """`= ""` only: any other value would be encrypted afresh and match no row."""

    def get_prep_lookup(self):
        if self.rhs not in ("", None):
            raise FieldError(
                "Encrypted fields cannot be filtered on a value; only emptiness can be tested."
            )
        return super().get_prep_lookup()


_ENCRYPTED_LOOKUPS = {"exact": EmptyExact, "isnull": IsNull}
