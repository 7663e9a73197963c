"""A nonprofit paid by bank transfer by hand, made the only way there is, for tests."""

from donations.models import Nonprofit
from donations.services import (
    bank_details_change_request,
    nonprofit_payout_method_set,
    payout_change_approve,
)
from tests.factories import NonprofitFactory, UserFactory

IBAN = "GB82WEST12345698765432"  # ISO 13616's example, right check digits
BIC = "NWBKGB2L"
ACCOUNT = "0123456789012"  # a Kenyan account: no IBAN, so the BIC is needed
KE_BIC = "KCBLKENX"


def superuser(name: str):
    return UserFactory(username=f"{name}@program.example", is_staff=True, is_superuser=True)


def bank_details_set(
    nonprofit: Nonprofit,
    *,
    account: str = IBAN,
    bic: str = BIC,
    country: str = "GB",
    holder: str = "Readers of Nairobi Trust",
    bank_name: str = "NatWest",
) -> Nonprofit:
    """New bank details asked for by one person and approved by another."""
    change = bank_details_change_request(
        nonprofit=nonprofit,
        account_holder=holder,
        account_number=account,
        bic=bic,
        bank_country=country,
        bank_name=bank_name,
        actor=superuser("bank-requester"),
    )
    payout_change_approve(change=change, actor=superuser("bank-reviewer"))
    return Nonprofit.objects.get(pk=nonprofit.pk)


def bank_nonprofit(**details) -> Nonprofit:
    """A verified nonprofit paid by bank transfer, with approved bank details."""
    nonprofit = NonprofitFactory(
        legal_name="Readers of Nairobi", country="KE", verification_status="verified"
    )
    nonprofit_payout_method_set(
        nonprofit=nonprofit, method="bank_transfer", actor=superuser("vetter")
    )
    return bank_details_set(nonprofit, **details)
