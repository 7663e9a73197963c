"""A fixed-window counter in Django's cache, for public forms that email or store something
(the application form, the nonprofit sign-in link form). Logins are django-axes's."""

from django.core.cache import cache


def rate_exceeded(key: str, *, limit: int) -> bool:
    """Whether `key` has already been counted `limit` times in its current window."""
    return cache.get(key, 0) >= limit


def rate_count(key: str, *, window: int) -> None:
    """Count one use of `key`; the first use starts a window of `window` seconds."""
    cache.add(key, 0, timeout=window)  # starts the window; a no-op inside one
    try:
        cache.incr(key)
    except ValueError:  # the window ended between the two calls
        cache.set(key, 1, timeout=window)
