"""Receipts as PDF: the nonprofit's acknowledgement of a paid grant and the staff's payment
advice, laid out on the server, in the reader's language, loading nothing but our own static
files."""

import io
import logging
import os
import subprocess
import sys
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from pypdf import PdfReader

from changemakers.core.pdf import RESOURCE_ORIGIN, ResourceRefused, pdf_render, static_file_path
from changemakers.core.pdf_layout import StaticFileFetcher
from donations.models import Grant
from donations.services import (
    disbursement_pay,
    grant_approve,
    grant_propose,
    grant_receipt_confirm,
    grant_schedule,
    nonprofit_verify,
)
from tests.factories import (
    CreatorFactory,
    FundFactory,
    NonprofitContactFactory,
    NonprofitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PDF_TYPE = "application/pdf"


@pytest.fixture
def nonprofit(staff_user):
    return nonprofit_verify(
        nonprofit=NonprofitFactory(legal_name="Readers of Nairobi", country="KE"),
        actor=staff_user,
    )


@pytest.fixture
def contact(nonprofit):
    return NonprofitContactFactory(nonprofit=nonprofit)


@pytest.fixture
def fund(db):
    return FundFactory(name="Change Makers Fund 2026")


def _grant(nonprofit, fund, staff_user, *, pay: bool = True) -> Grant:
    grant = grant_propose(
        fund=fund,
        nonprofit=nonprofit,
        amount="25000.00",
        creator=CreatorFactory(display_name="Wanjiru Kamau", handle="wanjiru.reads"),
        purpose="Donation in the name of Wanjiru Kamau",
        actor=UserFactory(is_staff=True, is_superuser=True, username="proposer@example.org"),
    )
    grant = grant_approve(grant=grant, actor=staff_user)
    grant = grant_schedule(grant=grant, actor=staff_user)
    if pay:
        disbursement_pay(disbursement_id=grant.disbursement.pk)
    return Grant.objects.select_related("disbursement").get(pk=grant.pk)


@pytest.fixture
def paid(nonprofit, fund, staff_user):
    return _grant(nonprofit, fund, staff_user)


def pdf_text(content: bytes) -> str:
    """The text of every page, with runs of white space (and the thin spaces French groups
    digits with) made single spaces, so phrases compare as written."""
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def assert_pdf_download(response, filename: str) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == PDF_TYPE
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


# --- The nonprofit's acknowledgement ---------------------------------------------------------


def test_the_acknowledgement_pdf_says_what_was_paid_to_whom_under_which_reference(
    client, paid, contact
):
    grant_receipt_confirm(grant=paid, actor=contact.user)
    client.force_login(contact.user)

    response = client.get(f"/nonprofit/grants/{paid.pk}/receipt/pdf/")

    assert_pdf_download(response, f"changemakers-grant-acknowledgement-{paid.pk}.pdf")
    text = pdf_text(response.content)
    assert "Grant acknowledgement" in text
    assert "Readers of Nairobi" in text
    assert "Kenya" in text
    assert "Wanjiru Kamau" in text
    assert "Change Makers Fund 2026" in text
    assert "USD 25,000.00" in text
    assert paid.disbursement.provider_reference in text
    assert "Not confirmed yet" not in text
    reader = PdfReader(io.BytesIO(response.content))
    assert reader.metadata.title.startswith("Grant acknowledgement")


def test_the_acknowledgement_pdf_is_in_french_for_a_french_reader(client, paid, contact):
    client.force_login(contact.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    response = client.get(f"/nonprofit/grants/{paid.pk}/receipt/pdf/")

    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "Attestation de subvention" in text
    assert "Référence du paiement" in text
    assert "Pas encore confirmée" in text
    # French groups thousands with a space and writes decimals after a comma.
    assert "25 000,00" in text
    assert "25,000.00" not in text
    assert paid.disbursement.provider_reference in text


def test_the_grant_page_offers_the_pdf_beside_the_printable_page(client, paid, contact):
    client.force_login(contact.user)

    page = client.get(f"/nonprofit/grants/{paid.pk}/").content.decode()

    assert f'href="/nonprofit/grants/{paid.pk}/receipt/"' in page
    assert f'href="/nonprofit/grants/{paid.pk}/receipt/pdf/"' in page
    receipt = client.get(f"/nonprofit/grants/{paid.pk}/receipt/").content.decode()
    assert f'href="/nonprofit/grants/{paid.pk}/receipt/pdf/"' in receipt


def test_another_nonprofits_contact_gets_404_for_the_pdf(client, paid, staff_user):
    other = nonprofit_verify(nonprofit=NonprofitFactory(legal_name="Other Org"), actor=staff_user)
    client.force_login(NonprofitContactFactory(nonprofit=other).user)

    assert client.get(f"/nonprofit/grants/{paid.pk}/receipt/pdf/").status_code == 404
    assert client.get(f"/nonprofit/grants/{paid.pk + 1000}/receipt/pdf/").status_code == 404


def test_an_unpaid_grant_has_no_acknowledgement(client, nonprofit, fund, staff_user, contact):
    scheduled = _grant(nonprofit, fund, staff_user, pay=False)
    client.force_login(contact.user)

    assert client.get(f"/nonprofit/grants/{scheduled.pk}/receipt/pdf/").status_code == 404
    page = client.get(f"/nonprofit/grants/{scheduled.pk}/").content.decode()
    assert "receipt/pdf/" not in page


def test_anonymous_visitors_are_sent_to_sign_in_for_the_pdfs(client, paid):
    for url in (
        f"/nonprofit/grants/{paid.pk}/receipt/pdf/",
        f"/staff/grants/{paid.pk}/payment-advice/pdf/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/accounts/login/"), url


def test_staff_and_creators_get_no_acknowledgement_pdf(client, paid, staff_user, creator_user):
    for user in (staff_user, creator_user):
        client.force_login(user)
        assert client.get(f"/nonprofit/grants/{paid.pk}/receipt/pdf/").status_code == 403


# --- The staff's payment advice --------------------------------------------------------------


def test_the_payment_advice_pdf_is_for_staff(client, paid, staff_user):
    client.force_login(staff_user)

    response = client.get(f"/staff/grants/{paid.pk}/payment-advice/pdf/")

    assert_pdf_download(response, f"changemakers-payment-advice-{paid.pk}.pdf")
    text = pdf_text(response.content)
    assert "Payment advice" in text
    assert "Readers of Nairobi" in text
    assert "Wanjiru Kamau" in text
    assert "Change Makers Fund 2026" in text
    assert "$25,000.00" in text
    assert paid.disbursement.provider_reference in text
    assert "sandbox" in text
    assert "UTC" in text  # times say their zone
    assert "Exchange rate" not in text  # paid in the fund's own currency


def test_the_payment_advice_is_in_french_for_a_french_reader(client, paid, staff_user):
    client.force_login(staff_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    text = pdf_text(client.get(f"/staff/grants/{paid.pk}/payment-advice/pdf/").content)

    assert "Référence du paiement" in text
    assert "25 000,00 $US" in text


def test_only_staff_get_the_payment_advice(client, paid, contact, creator_user):
    for user in (contact.user, creator_user, UserFactory()):
        client.force_login(user)
        assert client.get(f"/staff/grants/{paid.pk}/payment-advice/pdf/").status_code == 403


def test_an_unpaid_grant_has_no_payment_advice(client, nonprofit, fund, staff_user):
    scheduled = _grant(nonprofit, fund, staff_user, pay=False)
    client.force_login(staff_user)

    assert client.get(f"/staff/grants/{scheduled.pk}/payment-advice/pdf/").status_code == 404
    assert client.get("/staff/grants/999999/payment-advice/pdf/").status_code == 404
    page = client.get(f"/staff/grants/{scheduled.pk}/").content.decode()
    assert "payment-advice/pdf/" not in page


def test_the_staff_grant_page_links_the_payment_advice_once_paid(client, paid, staff_user):
    client.force_login(staff_user)

    page = client.get(f"/staff/grants/{paid.pk}/").content.decode()

    assert f'href="/staff/grants/{paid.pk}/payment-advice/pdf/"' in page


def test_an_amount_received_in_another_currency_shows_with_its_rate(paid):
    """The received amount, currency and rate show when the disbursement has them (the rail
    records them when the nonprofit's account is in another currency)."""
    disbursement = SimpleNamespace(
        provider="stripe",
        provider_reference="tr_1Q2w3E4r5T6y",
        idempotency_key="key-1",
        batch_id=None,
        received_amount=Decimal("23125.50"),
        received_currency="EUR",
        exchange_rate=Decimal("0.925020"),
    )
    context = {"grant": paid, "disbursement": disbursement}

    for template in ("acknowledgement", "payment_advice"):
        html = render_to_string(f"donations/pdf/{template}.html", context)
        assert "€23,125.50" in html, template
        assert "1 USD = 0.92502 EUR" in html, template
    with translation.override("fr"):
        html = render_to_string("donations/pdf/acknowledgement.html", context)
    assert "23\u202f125,50\xa0€" in html
    assert "1 USD = 0,92502 EUR" in html
    text = pdf_text(pdf_render("donations/pdf/payment_advice.html", context))
    assert "€23,125.50" in text
    assert "tr_1Q2w3E4r5T6y" in text


def test_markup_in_a_name_is_printed_as_text_and_loads_nothing(client, staff_user, fund, caplog):
    nonprofit = nonprofit_verify(
        nonprofit=NonprofitFactory(legal_name='<img src="http://169.254.169.254/x"> Evil Org'),
        actor=staff_user,
    )
    grant = _grant(nonprofit, fund, staff_user)
    client.force_login(staff_user)

    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        response = client.get(f"/staff/grants/{grant.pk}/payment-advice/pdf/")

    assert '<img src="http://169.254.169.254/x"> Evil Org' in pdf_text(response.content)
    assert not [record for record in caplog.records if record.name == "weasyprint"]


# --- Nothing but our own static files ---------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/static/css/pdf.css",
        "http://127.0.0.1:8000/static/css/pdf.css",
        "http://169.254.169.254/latest/meta-data/",
        "https://static.changemakers.invalid.example.com/static/css/pdf.css",
        "https://user@static.changemakers.invalid/static/css/pdf.css",
        "http://static.changemakers.invalid/static/css/pdf.css",
        "file:///etc/passwd",
        "data:text/css,body{color:red}",
        "ftp://example.com/x.css",
        f"{RESOURCE_ORIGIN}/media/uploads/photo.png",
        f"{RESOURCE_ORIGIN}/static/../manage.py",
        f"{RESOURCE_ORIGIN}/static/%2e%2e/%2e%2e/etc/passwd.css",
        f"{RESOURCE_ORIGIN}/static/js/htmx.min.js",
        f"{RESOURCE_ORIGIN}/static/css/missing.css",
    ],
)
def test_the_fetcher_refuses_all_but_our_static_files(url):
    with pytest.raises(ResourceRefused):
        StaticFileFetcher().fetch(url)


def test_the_fetcher_serves_our_stylesheet_and_logo_from_disk():
    css = StaticFileFetcher().fetch(f"{RESOURCE_ORIGIN}/static/css/pdf.css")
    assert css.content_type == "text/css"
    assert b"@page" in css.read()
    assert static_file_path(f"{RESOURCE_ORIGIN}/static/img/logo.svg").name == "logo.svg"


def test_a_document_naming_a_remote_resource_is_made_without_it(tmp_path, settings, caplog):
    """A foreign URL in a document is refused without any connection, and the PDF is still
    made."""
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    (tmp_path / "remote.html").write_text(
        '<link rel="stylesheet" href="https://example.com/evil.css">'
        '<img src="http://169.254.169.254/latest/meta-data/" alt="">'
        '<img src="file:///etc/hostname" alt=""><p>Still here</p>'
    )
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        text = pdf_text(pdf_render("remote.html", {}))

    assert "Still here" in text
    refused = " ".join(record.getMessage() for record in caplog.records)
    for url in ("https://example.com/evil.css", "169.254.169.254", "file:///etc/hostname"):
        assert url in refused
    assert "ResourceRefused" in refused


def test_the_app_starts_without_importing_weasyprint():
    """WeasyPrint takes seconds to import: web and worker processes load it only when they
    make a PDF, and start (and serve every other page) without Pango."""
    code = (
        "import sys, django; django.setup(); from django.urls import resolve; resolve('/'); "
        "import donations.nonprofit_views, donations.views.receipts, changemakers.core.pdf; "
        "print('weasyprint' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "changemakers.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "False"
