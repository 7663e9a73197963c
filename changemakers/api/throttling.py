"""Each token may make API_RATE_LIMIT requests a minute (a fixed window counted in the cache,
shared by every web process on Redis); past it, a 429 with Retry-After until the window ends."""

import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from changemakers.core.ratelimit import rate_count, rate_exceeded

from .permissions import token_of


class TokenRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        token = token_of(request)
        if token is None:
            return True  # refused anyway, by the permission check
        window = settings.API_RATE_WINDOW
        now = time.time()
        key = f"api-rate:{token.pk}:{int(now // window)}"
        self.retry_after = max(1, int(window - now % window + 0.999))
        if rate_exceeded(key, limit=settings.API_RATE_LIMIT):
            return False
        rate_count(key, window=window)
        return True

    def wait(self) -> float:
        return self.retry_after
