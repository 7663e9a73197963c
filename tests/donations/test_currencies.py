"""Funds and grants in any active ISO 4217 currency, with the decimals CLDR gives it (0 for
JPY, 2 for USD, 3 for KWD): an amount finer than its currency's unit is refused, never
rounded, and what is stored is read back with the currency's decimals."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.template import Context, Template
from django.utils import translation

from donations.forms import GrantProposeForm
from donations.models import Fund, Grant
from donations.models.money import active_currencies, currency_places, quantize
from donations.services import fund_create, grant_propose
from tests.factories import FundFactory, GrantFactory, NonprofitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def test_places_come_from_cldr():
    assert (currency_places("JPY"), currency_places("USD"), currency_places("KWD")) == (0, 2, 3)
    assert currency_places("eur") == 2


def test_the_currency_choices_are_the_active_iso_currencies():
    codes = active_currencies()
    assert {"USD", "EUR", "JPY", "KWD", "XOF"} <= set(codes)
    assert "DEM" not in codes  # gone with the euro
    assert "FRF" not in codes
    fund = FundFactory.build(currency="DEM")
    with pytest.raises(ValidationError) as refused:
        fund.full_clean()
    assert "currency" in refused.value.message_dict


def test_quantize_writes_the_currency_decimals_and_refuses_finer():
    assert str(quantize("1000", "JPY")) == "1000"
    assert str(quantize("25000", "USD")) == "25000.00"
    assert str(quantize("1.5", "KWD")) == "1.500"
    with pytest.raises(ValidationError, match="JPY has no decimals"):
        quantize("1000.5", "JPY")
    with pytest.raises(ValidationError, match="KWD has 3 decimals"):
        quantize("1.0005", "KWD")
    with pytest.raises(TypeError):
        quantize(10.5, "USD")


def test_a_jpy_grant_of_1000_is_accepted_and_1000_5_refused(staff):
    fund = fund_create(name="Tokyo", total="5000000", currency="JPY", actor=staff)
    grant = grant_propose(fund=fund, nonprofit=NonprofitFactory(), amount="1000", actor=staff)
    grant.refresh_from_db()
    assert (grant.amount, grant.currency, str(grant.amount)) == (Decimal(1000), "JPY", "1000")

    with pytest.raises(ValidationError) as refused:
        grant_propose(fund=fund, nonprofit=NonprofitFactory(), amount="1000.5", actor=staff)
    assert refused.value.message_dict["amount"] == ["JPY has no decimals: give a whole amount."]
    assert Grant.objects.count() == 1


def test_a_fund_total_finer_than_its_currency_is_refused(staff):
    with pytest.raises(ValidationError) as refused:
        fund_create(name="Tokyo", total="10.5", currency="JPY", actor=staff)
    assert "total" in refused.value.message_dict
    assert not Fund.objects.exists()


def test_full_clean_refuses_amounts_finer_than_the_currency():
    with pytest.raises(ValidationError) as refused:
        FundFactory.build(currency="JPY", total=Decimal("10.5")).full_clean()
    assert refused.value.message_dict["total"] == ["JPY has no decimals: give a whole amount."]
    FundFactory.build(currency="KWD", total=Decimal("10.125")).full_clean()


def test_kwd_keeps_its_three_decimals(staff):
    fund = fund_create(name="Kuwait", total="1000.125", currency="KWD", actor=staff)
    grant = grant_propose(fund=fund, nonprofit=NonprofitFactory(), amount="12.345", actor=staff)
    grant.refresh_from_db()
    fund.refresh_from_db()
    assert str(grant.amount) == "12.345"
    assert str(fund.total) == "1000.125"


def test_usd_amounts_read_back_with_two_decimals(staff):
    fund = fund_create(name="Main", total="25000", currency="USD", actor=staff)
    assert str(Fund.objects.get(pk=fund.pk).total) == "25000.00"
    with pytest.raises(ValidationError, match="USD has 2 decimals"):
        grant_propose(fund=fund, nonprofit=NonprofitFactory(), amount="10.005", actor=staff)


def test_the_grant_form_steps_by_and_checks_the_fund_currency():
    fund = FundFactory(currency="JPY", total=Decimal("5000000"))
    form = GrantProposeForm(initial={"fund": fund.pk})
    assert form.fields["amount"].widget.attrs["step"] == "1"
    nonprofit = NonprofitFactory()
    refused = GrantProposeForm(
        data={"fund": fund.pk, "nonprofit": nonprofit.pk, "amount": "1000.5"}
    )
    assert not refused.is_valid()
    assert refused.errors["amount"] == ["JPY has no decimals: give a whole amount."]
    accepted = GrantProposeForm(data={"fund": fund.pk, "nonprofit": nonprofit.pk, "amount": "1000"})
    assert accepted.is_valid(), accepted.errors


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    executor.loader.build_graph()
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_the_three_places_migration_keeps_existing_amounts():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    before = [("donations", "0011_stripe_onboarding_and_webhooks")]
    try:
        old = _migrate(before)
        old_fund = old.get_model("donations", "Fund").objects.create(
            name="Old", currency="USD", total=Decimal("123456789012.34"), committed=Decimal("0.01")
        )
        _migrate([("donations", "0012_money_three_places_cldr_currencies")])
        fund = Fund.objects.get(pk=old_fund.pk)
        assert (fund.total, fund.committed) == (Decimal("123456789012.34"), Decimal("0.01"))
        assert str(fund.total) == "123456789012.34"
    finally:
        _migrate(latest)


def _money(amount, currency, language):
    with translation.override(language):
        return Template("{% load money %}{{ amount|money:currency }}").render(
            Context({"amount": Decimal(amount), "currency": currency})
        )


def test_money_is_written_as_the_reader_language_writes_it():
    assert _money("25000", "EUR", "en") == "€25,000.00"
    assert _money("25000", "EUR", "fr") == "25\u202f000,00\xa0€"  # CLDR's non-breaking spaces
    assert _money("1000", "JPY", "en") == "¥1,000"
    assert _money("12.345", "KWD", "en") == "KWD12.345"
    assert _money("12.345", "KWD", "fr") == "12,345\xa0KWD"
    assert _money("25000.000", "USD", "en") == "$25,000.00"  # the currency's decimals


def test_kwd_and_jpy_amounts_show_with_their_decimals_on_staff_pages(staff_client):
    kwd = FundFactory(name="Kuwait", currency="KWD", total=Decimal("1000.125"))
    FundFactory(name="Tokyo", currency="JPY", total=Decimal("5000000"))
    grant = GrantFactory(fund=kwd, amount=Decimal("12.345"))

    funds = staff_client.get("/staff/funds/").text
    assert "KWD1,000.125" in funds
    assert "¥5,000,000" in funds
    assert "¥5,000,000.00" not in funds
    assert "KWD12.345" in staff_client.get(f"/staff/grants/{grant.pk}/").text
