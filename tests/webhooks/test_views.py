"""The staff pages: program managers register an endpoint, see its secret (audited), send a
test event and resend a delivery; the auditor reads without a form to act; other staff are
refused."""

import re

import pytest
from django.urls import reverse

from changemakers.core.models import AuditEvent
from changemakers.core.roles import StaffRole
from changemakers.webhooks.models import Delivery, Endpoint
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client):
    client.force_login(StaffFactory(roles=[StaffRole.PROGRAM_MANAGER]))
    return client


def test_a_manager_registers_an_endpoint_and_sees_its_secret_once_asked(manager, receiver):
    response = manager.post(
        reverse("outbound:endpoint-create"),
        {
            "name": "Impact Partner",
            "description": "Their grants dashboard",
            "url": receiver.url,
            "events": ["grant.disbursed", "list.published"],
        },
    )
    endpoint = Endpoint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("outbound:endpoint-detail", args=[endpoint.pk])
    assert endpoint.events == ["grant.disbursed", "list.published"]
    assert AuditEvent.objects.for_object(endpoint).get().action == "created"

    page = manager.get(response["Location"]).content.decode()
    assert endpoint.secret not in page  # never on a page a GET fetches
    shown = manager.post(
        reverse("outbound:endpoint-secret", args=[endpoint.pk]), headers={"HX-Request": "true"}
    )
    assert shown.status_code == 200
    assert endpoint.secret in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    assert AuditEvent.objects.filter(action="endpoint_secret_shown").count() == 1

    # Without JavaScript: the POST redirects, the page shows it that once, uncached.
    back = manager.post(reverse("outbound:endpoint-secret", args=[endpoint.pk]))
    assert back.status_code == 302
    once = manager.get(back["Location"])
    assert endpoint.secret in once.content.decode()
    assert "no-store" in once["Cache-Control"]
    assert endpoint.secret not in manager.get(back["Location"]).content.decode()
    assert AuditEvent.objects.filter(action="endpoint_secret_shown").count() == 2


def test_a_private_address_is_refused_on_the_form(manager, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = manager.post(
        reverse("outbound:endpoint-create"),
        {"name": "Sneaky", "url": "https://169.254.169.254/", "events": ["grant.disbursed"]},
    )
    assert response.status_code == 422
    assert "private or reserved" in response.content.decode()
    assert not Endpoint.objects.exists()


def test_a_test_event_and_a_resend_show_in_the_log(
    manager, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(
            reverse("outbound:endpoint-test", args=[endpoint.pk]), headers={"HX-Request": "true"}
        )
    assert response.status_code == 200
    delivery = Delivery.objects.get()
    assert delivery.event_type == "webhook.test"
    body = response.content.decode()  # rendered before the commit sent it
    assert f'id="delivery-{delivery.pk}"' in body
    assert "Test event" in body
    assert "Pending" in body
    assert len(receiver.requests) == 1
    assert Delivery.objects.get().status == "succeeded"

    with django_capture_on_commit_callbacks(execute=True):
        row = manager.post(
            reverse("outbound:delivery-resend", args=[delivery.pk]),
            {"next": "endpoint"},
            headers={"HX-Request": "true"},
        )
    assert row.status_code == 200
    assert row.content.decode().lstrip().startswith(f'<tr id="delivery-{delivery.pk}"')
    assert len(receiver.requests) == 2
    detail = manager.get(reverse("outbound:delivery-detail", args=[delivery.pk])).content.decode()
    assert detail.count('<th scope="row">') == 2  # two attempts logged
    assert delivery.message_id in detail


def test_switching_off_and_on(manager, endpoint_for, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    endpoint = endpoint_for("https://127.0.0.1/hooks")
    manager.post(reverse("outbound:endpoint-switch-off", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert endpoint.failing_since is None
    refused = manager.post(reverse("outbound:endpoint-test", args=[endpoint.pk]), follow=True)
    assert "switch it on first" in refused.content.decode()
    assert not Delivery.objects.exists()
    manager.post(reverse("outbound:endpoint-switch-on", args=[endpoint.pk]))
    assert Endpoint.objects.get(pk=endpoint.pk).active


def test_the_auditor_reads_with_no_form_to_act(client, endpoint_for):
    endpoint = endpoint_for("https://partner.example/hooks")
    delivery = Delivery.objects.create(
        endpoint=endpoint, message_id="msg_1", event_type="grant.disbursed", payload="{}"
    )
    client.force_login(StaffFactory(roles=[StaffRole.AUDITOR]))
    for url in (
        reverse("outbound:endpoint-list"),
        reverse("outbound:endpoint-detail", args=[endpoint.pk]),
        reverse("outbound:delivery-detail", args=[delivery.pk]),
    ):
        page = client.get(url).content.decode()
        forms = [
            f
            for f in re.findall(r'<form[^>]*method="post"[^>]*>', page)
            if "logout" not in f and "i18n" not in f
        ]
        assert forms == [], url
    assert client.post(reverse("outbound:endpoint-secret", args=[endpoint.pk])).status_code == 403
    assert client.post(reverse("outbound:delivery-resend", args=[delivery.pk])).status_code == 403


def test_other_staff_are_refused(client, endpoint_for):
    endpoint = endpoint_for("https://partner.example/hooks")
    client.force_login(StaffFactory(roles=[StaffRole.FINANCE_APPROVER]))
    assert client.get(reverse("outbound:endpoint-list")).status_code == 403
    assert client.get(reverse("outbound:endpoint-detail", args=[endpoint.pk])).status_code == 403


def test_an_endpoint_belongs_to_the_partners_integration(manager, receiver):
    from changemakers.api.services import integration_create

    integration = integration_create(
        name="Impact Partner",
        kind="staff",
        roles=[StaffRole.AUDITOR],
        actor=StaffFactory(roles=[StaffRole.PROGRAM_MANAGER], is_superuser=True),
    )
    response = manager.post(
        reverse("outbound:endpoint-create"),
        {
            "name": "Impact Partner's dashboard",
            "integration": integration.pk,
            "url": receiver.url,
            "events": ["grant.disbursed"],
        },
    )
    endpoint = Endpoint.objects.get()
    assert response.status_code == 302
    assert endpoint.integration == integration
    page = manager.get(response["Location"]).content.decode()
    assert reverse("integrations:detail", args=[integration.pk]) in page
    listed = manager.get(reverse("integrations:detail", args=[integration.pk])).content.decode()
    assert reverse("outbound:endpoint-detail", args=[endpoint.pk]) in listed
    # An integration with endpoints is not deleted from under them.
    with pytest.raises(Exception, match="protected"):
        integration.delete()
