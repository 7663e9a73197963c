"""Fixtures of the kernel's tests."""

import pytest
from django.test import override_settings

from changemakers.core import page_cache

# The test settings turn the "pages" cache off; the tests of what it keeps turn this one on.
IN_MEMORY = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages"},
}


@pytest.fixture
def pages():
    """A real, empty, in-memory pages cache for the test."""
    with override_settings(CACHES=IN_MEMORY):
        page_cache._pages().clear()
        yield page_cache._pages()
