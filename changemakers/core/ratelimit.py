"""A fixed-window counter in Django's cache, for public forms that email or store something
(the application form, the nonprofit sign-in link form). Logins are django-axes's.

On Redis (production settings) the counts are shared by every web process. If the cache
cannot be reached the form still works, unlimited, and the error is logged: a visitor must
never get an error page because a counter is down.
"""

import logging

from django.conf import settings
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


def client_address(request) -> str:
    """The client's address. Behind DJANGO_PROXY_COUNT reverse proxies REMOTE_ADDR is the
    nearest proxy's: the client is then the address the outermost proxy appended to
    X-Forwarded-For, read from the right, where a client cannot write."""
    count = getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0)
    if count:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR", "")


def rate_clear(key: str) -> None:
    """Forget the uses counted for `key` (a success ends the count of failures before it)."""
    try:
        cache.delete(key)
    except Exception:
        logger.exception("Rate limit %s not cleared: the cache is unreachable", key)
