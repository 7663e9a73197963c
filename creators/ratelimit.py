"""A fixed-window counter in Django's cache, for public forms that email or store something
(the application form, the nonprofit sign-in link form). Logins are django-axes's.

On Redis (production settings) the counts are shared by every web process. If the cache
cannot be reached the form still works, unlimited, and the error is logged: a visitor must
never get an error page because a counter is down.
"""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)


def rate_exceeded(key: str, *, limit: int) -> bool:
    """Whether `key` has already been counted `limit` times in its current window."""
    try:
        return cache.get(key, 0) >= limit
    except Exception:
        logger.exception("Rate limit %s not checked: the cache is unreachable", key)
        return False


def rate_count(key: str, *, window: int) -> None:
    """Count one use of `key`; the first use starts a window of `window` seconds."""
    try:
        cache.add(key, 0, timeout=window)  # starts the window; a no-op inside one
        try:
            cache.incr(key)
        except ValueError:  # the window ended between the two calls
            cache.set(key, 1, timeout=window)
    except Exception:
        logger.exception("Rate limit %s not counted: the cache is unreachable", key)
