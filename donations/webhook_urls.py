"""Payment providers' webhooks, under /webhooks/."""

from django.urls import path

from . import webhooks

app_name = "webhooks"

urlpatterns = [
    path("stripe/", webhooks.stripe_webhook, name="stripe"),
]
