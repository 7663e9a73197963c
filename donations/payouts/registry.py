"""Loads the providers listed in settings.PAYOUT_PROVIDERS, once per process."""

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from .base import PayoutProvider


@cache
def providers() -> dict[str, PayoutProvider]:
    """Every configured provider, by identifier."""
    loaded: dict[str, PayoutProvider] = {}
    for path in settings.PAYOUT_PROVIDERS:
        provider_class = import_string(path)
        if not issubclass(provider_class, PayoutProvider):
            raise ImproperlyConfigured(f"{path} is not a PayoutProvider.")
        if provider_class.identifier in loaded:
            raise ImproperlyConfigured(
                f"Two payout providers use the identifier {provider_class.identifier!r}."
            )
        loaded[provider_class.identifier] = provider_class()
    return loaded


def get_provider(identifier: str | None = None) -> PayoutProvider:
    """The provider with this identifier; without one, the provider the program pays with."""
    identifier = identifier or settings.PAYOUT_PROVIDER
    try:
        return providers()[identifier]
    except KeyError:
        raise ImproperlyConfigured(
            f"No payout provider {identifier!r}: add its class to PAYOUT_PROVIDERS."
        ) from None


@receiver(setting_changed)
def _reload_providers(*, setting: str, **kwargs) -> None:
    if setting.startswith("PAYOUT_"):
        providers.cache_clear()
