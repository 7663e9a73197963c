"""Webhook endpoints of payment providers, under /webhooks/. Not a page: no session, no CSRF
(the provider signs each request instead), POST only. An event is checked, stored once and
acknowledged at once; a job handles it."""

import logging

import stripe
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import services
from .payouts import stripe_connect

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events: a bad or stale signature, or a body that is not an event, is a 400 and
    nothing is stored; a replayed event is acknowledged again and changes nothing."""
    signature = request.headers.get("Stripe-Signature", "")
    try:
        event = stripe_connect.event_verified(request.body, signature)
    except stripe.SignatureVerificationError:
        logger.warning("Stripe webhook refused: bad or stale signature")
        return HttpResponseBadRequest("Bad signature.", content_type="text/plain")
    except (ValueError, TypeError, KeyError):
        logger.warning("Stripe webhook refused: not an event")
        return HttpResponseBadRequest("Not a Stripe event.", content_type="text/plain")
    services.provider_event_receive(provider=services.STRIPE_PROVIDER, event=event)
    return HttpResponse("ok", content_type="text/plain")
