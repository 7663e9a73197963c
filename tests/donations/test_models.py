from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from donations.models import Fund
from tests.factories import (
    DisbursementFactory,
    FundFactory,
    GrantFactory,
    NonprofitFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("amount", [Decimal("0.00"), Decimal("-25000.00")])
def test_a_grant_amount_must_be_positive(amount):
    grant = GrantFactory.build(amount=amount, fund=FundFactory(), nonprofit=NonprofitFactory())
    grant.creator.save()
    with pytest.raises(ValidationError) as error:
        grant.full_clean()
    assert "A grant's amount must be more than zero." in error.value.messages
    with pytest.raises(IntegrityError):
        grant.save()


def test_a_grant_is_in_its_funds_currency():
    fund = FundFactory(currency="EUR")
    grant = GrantFactory.build(fund=fund, nonprofit=NonprofitFactory(), currency="USD")
    grant.creator.save()
    with pytest.raises(ValidationError) as error:
        grant.full_clean()
    assert error.value.message_dict["currency"] == ["A grant is in its fund's currency (EUR)."]


def test_the_database_refuses_committing_more_than_the_fund_holds():
    fund = FundFactory(total=Decimal("100.00"))
    with pytest.raises(IntegrityError):
        Fund.objects.filter(pk=fund.pk).update(committed=F("total") + Decimal("0.01"))


def test_fund_validation_explains_an_overspend():
    fund = FundFactory.build(total=Decimal("100.00"), committed=Decimal("150.00"))
    with pytest.raises(ValidationError) as error:
        fund.full_clean()
    assert "This would commit more than the fund holds." in error.value.messages


def test_a_fund_cannot_pay_out_more_than_it_committed():
    fund = FundFactory.build(committed=Decimal("10.00"), disbursed=Decimal("20.00"))
    with pytest.raises(ValidationError) as error:
        fund.full_clean()
    assert "A fund cannot pay out more than it has committed." in error.value.messages


def test_a_currency_is_an_iso_code():
    fund = FundFactory.build(currency="usd")
    with pytest.raises(ValidationError) as error:
        fund.full_clean()
    assert "currency" in error.value.message_dict


def test_same_registration_in_the_same_country_is_one_nonprofit():
    NonprofitFactory(registration_number="REG-1", country="KE")
    duplicate = NonprofitFactory.build(registration_number="REG-1", country="KE")
    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()
    assert (
        "A nonprofit with this registration number is already registered in this country."
        in error.value.messages
    )
    NonprofitFactory(registration_number="REG-1", country="NG")  # another country is fine


def test_a_rejected_nonprofit_needs_a_reason():
    nonprofit = NonprofitFactory.build(verification_status="rejected", rejection_reason="")
    with pytest.raises(ValidationError) as error:
        nonprofit.full_clean()
    assert "Say why the nonprofit was rejected." in error.value.messages


def test_disbursement_idempotency_keys_are_unique():
    first = DisbursementFactory()
    again = DisbursementFactory.build(grant=first.grant, idempotency_key=first.idempotency_key)
    with pytest.raises(ValidationError) as error:
        again.full_clean()
    assert "idempotency_key" in error.value.message_dict
    with pytest.raises(IntegrityError):
        again.save()


def test_a_grant_has_at_most_one_disbursement():
    first = DisbursementFactory(status="succeeded", provider_reference="SBX-1")
    second = DisbursementFactory.build(grant=first.grant, idempotency_key="another-key")
    with pytest.raises(ValidationError) as error:
        second.validate_unique()
    assert "grant" in error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()


def test_a_paid_disbursement_carries_the_provider_reference():
    with pytest.raises(IntegrityError), transaction.atomic():
        DisbursementFactory(status="succeeded", provider_reference="")


def test_each_grant_gets_its_own_idempotency_key():
    first, second = GrantFactory.create_batch(2)
    assert first.idempotency_key != second.idempotency_key
