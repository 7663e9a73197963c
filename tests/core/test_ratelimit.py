import os
import uuid

import pytest
from django.core.cache.backends.redis import RedisCache
from django.urls import reverse

from changemakers.core.ratelimit import rate_count, rate_exceeded

REDIS_URL = os.environ.get("REDIS_URL", "")


@pytest.mark.skipif(not REDIS_URL.startswith("redis://"), reason="needs REDIS_URL=redis://...")
def test_counts_on_redis_are_seen_by_every_web_process(settings):
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    for _ in range(3):
        rate_count("apply:client:10.0.0.1", window=60)

    assert rate_exceeded("apply:client:10.0.0.1", limit=3)
    assert not rate_exceeded("apply:client:10.0.0.1", limit=4)
    # Another process: its own connection to the same Redis finds the same count.
    other = RedisCache(REDIS_URL, {"KEY_PREFIX": prefix})
    assert other.get("apply:client:10.0.0.1") == 3
    other.delete("apply:client:10.0.0.1")


@pytest.mark.django_db
def test_a_form_still_answers_when_the_cache_is_down(client, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    response = client.post(reverse("nonprofit:sign-in"), {"email": "nobody@example.org"})

    assert response.status_code == 302
    assert "the cache is unreachable" in caplog.text
