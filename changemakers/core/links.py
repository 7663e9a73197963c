"""The secret an emailed single-use link carries (see `models.SingleUseLink`)."""

from django.utils.crypto import salted_hmac


def link_token(*, salt: str, value: str) -> str:
    """The secret in an emailed single-use link: an HMAC of its row's id, random nonce and
    address under the site's key. Only the nonce is stored; it opens nothing without the key,
    and a changed address or a new nonce makes every earlier link worthless."""
    return salted_hmac(salt, value, algorithm="sha256").hexdigest()
