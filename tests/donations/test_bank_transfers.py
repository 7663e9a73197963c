"""Bank transfers by hand: a nonprofit's payout method, its bank details (reviewed like any
payout details, pinned by approval), the payment instruction scheduling makes, and recording
the transfer as sent, once, by a finance approver who did not schedule it."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from changemakers.core.models import AuditEvent
from changemakers.core.roles import StaffRole
from donations.models import (
    Disbursement,
    Fund,
    Grant,
    Nonprofit,
    PaymentInstruction,
    PayoutDetailsChange,
)
from donations.payouts import HoldError, get_provider
from donations.selectors import batch_instructions
from donations.services import (
    bank_details_change_request,
    disbursement_pay,
    disbursements_sweep,
    grant_approve,
    grant_cancel,
    grant_hold_release,
    grant_propose,
    grants_schedule,
    nonprofit_payout_method_set,
    payment_instruction_record_sent,
    payout_change_approve,
)
from tests.donations.bank import ACCOUNT, BIC, IBAN, KE_BIC, bank_details_set, bank_nonprofit
from tests.factories import CreatorFactory, FundFactory, NonprofitFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fund(db):
    return FundFactory(total=Decimal("1000000.00"))


def approved(nonprofit, fund, proposer_user, staff_user, amount="25000.00") -> Grant:
    grant = grant_propose(
        fund=fund,
        nonprofit=nonprofit,
        amount=amount,
        creator=CreatorFactory(display_name="Wanjiru Kamau"),
        purpose="Reading kits",
        actor=proposer_user,
    )
    return grant_approve(grant=grant, actor=staff_user)


def scheduled(nonprofit, fund, proposer_user, staff_user) -> PaymentInstruction:
    grant = approved(nonprofit, fund, proposer_user, staff_user)
    grants_schedule(grants=[grant], actor=staff_user)
    return PaymentInstruction.objects.get(disbursement__grant=grant)


# --- Bank details: only through a reviewed change ------------------------------------------------


def test_bank_details_are_a_change_for_review_until_someone_else_approves(staff_user):
    nonprofit = NonprofitFactory(verification_status="verified")
    change = bank_details_change_request(
        nonprofit=nonprofit,
        account_holder="  Readers   Trust ",
        account_number="gb82 west 1234 5698 7654 32",
        bic="nwbk gb2l",
        bank_country="gb",
        bank_name="NatWest",
        actor=staff_user,
    )
    nonprofit.refresh_from_db()
    assert nonprofit.bank_account_number == ""  # nothing applied yet
    assert change.status == PayoutDetailsChange.Status.PENDING
    assert (change.bank_account_holder, change.bank_account_number, change.bank_bic) == (
        "Readers Trust",
        IBAN,
        BIC,
    )
    assert change.payout_reference == ""
    with pytest.raises(ValidationError) as refused:
        payout_change_approve(change=change, actor=staff_user)
    assert refused.value.code == "approver_is_requester"


def test_approved_bank_details_are_applied_and_audited_masked(staff_user):
    nonprofit = bank_nonprofit()
    assert nonprofit.bank_details() == {
        "bank_account_holder": "Readers of Nairobi Trust",
        "bank_account_number": IBAN,
        "bank_bic": BIC,
        "bank_country": "GB",
        "bank_name": "NatWest",
    }
    notes = list(AuditEvent.objects.for_object(nonprofit).values_list("note", flat=True))
    assert any("••••5432" in note for note in notes)
    assert not [note for note in notes if IBAN in note or "12345698" in note]


@pytest.mark.parametrize(
    ("account", "bic", "field"),
    [
        ("GB82WEST12345698765433", BIC, "bank_account_number"),  # check digits wrong
        (ACCOUNT, "", "bank_bic"),  # not an IBAN: the bank's BIC is needed
        (IBAN, "NOTABIC", "bank_bic"),
        ("12", KE_BIC, "bank_account_number"),
    ],
)
def test_bank_details_a_bank_would_refuse_are_refused(staff_user, account, bic, field):
    nonprofit = NonprofitFactory()
    with pytest.raises(ValidationError) as refused:
        bank_details_change_request(
            nonprofit=nonprofit,
            account_holder="Readers Trust",
            account_number=account,
            bic=bic,
            bank_country="KE",
            actor=staff_user,
        )
    assert field in refused.value.error_dict
    assert not PayoutDetailsChange.objects.exists()


def test_an_account_without_iban_is_taken_with_its_bic(staff_user):
    nonprofit = bank_nonprofit(account=ACCOUNT, bic=KE_BIC, country="KE", bank_name="KCB")
    assert nonprofit.bank_account_number == ACCOUNT
    assert nonprofit.payee_handle() == "bank:••••9012"


def test_a_contact_of_another_nonprofit_cannot_ask_for_bank_details(nonprofit_user):
    with pytest.raises(ValidationError) as refused:
        bank_details_change_request(
            nonprofit=NonprofitFactory(),
            account_holder="Thief",
            account_number=IBAN,
            bic=BIC,
            bank_country="GB",
            actor=nonprofit_user,
        )
    assert refused.value.code == "not_own_nonprofit"


# --- The payout method -------------------------------------------------------------------------


def test_the_payout_method_is_chosen_by_a_vetter_and_audited_old_to_new():
    vetter = StaffFactory(roles=[StaffRole.NONPROFIT_VETTER])
    nonprofit = NonprofitFactory()
    changed = nonprofit_payout_method_set(nonprofit=nonprofit, method="bank_transfer", actor=vetter)
    assert changed.payout_method == "bank_transfer"
    event = AuditEvent.objects.for_object(nonprofit).get(action="payout_method_set")
    assert (event.actor, event.from_state, event.to_state) == (
        vetter,
        "electronic",
        "bank_transfer",
    )
    # Idempotent: asked again, nothing more is recorded.
    nonprofit_payout_method_set(nonprofit=nonprofit, method="bank_transfer", actor=vetter)
    assert AuditEvent.objects.filter(action="payout_method_set").count() == 1


@pytest.mark.parametrize(
    "role", [StaffRole.FINANCE_APPROVER, StaffRole.PROGRAM_MANAGER, StaffRole.AUDITOR]
)
def test_other_roles_cannot_choose_the_payout_method(role):
    nonprofit = NonprofitFactory()
    with pytest.raises(ValidationError) as refused:
        nonprofit_payout_method_set(
            nonprofit=nonprofit, method="bank_transfer", actor=StaffFactory(roles=[role])
        )
    assert refused.value.code == "not_permitted"
    nonprofit.refresh_from_db()
    assert nonprofit.payout_method == "electronic"


def test_changing_the_method_holds_approved_grants_until_their_payee_is_reconfirmed(
    fund, proposer_user, staff_user
):
    nonprofit = NonprofitFactory(verification_status="verified")
    grant = approved(nonprofit, fund, proposer_user, staff_user)
    assert grant.payee_reference == nonprofit.payout_reference
    nonprofit_payout_method_set(nonprofit=nonprofit, method="bank_transfer", actor=staff_user)
    grant.refresh_from_db()
    assert grant.is_held
    assert grant.hold_reason == "Payout method changed"
    # No bank details yet: the payee cannot be re-confirmed, so nothing can pay it.
    with pytest.raises(ValidationError) as refused:
        grant_hold_release(grant=grant, actor=staff_user)
    assert refused.value.code == "bank_details_missing"
    nonprofit = bank_details_set(nonprofit)
    grant = grant_hold_release(grant=grant, actor=staff_user)
    assert grant.payee_reference == "bank:••••5432"
    assert grant.payee_fingerprint == nonprofit.payout_fingerprint()


def test_the_method_cannot_change_while_a_payment_is_under_way(fund, proposer_user, staff_user):
    nonprofit = bank_nonprofit()
    scheduled(nonprofit, fund, proposer_user, staff_user)
    with pytest.raises(ValidationError) as refused:
        nonprofit_payout_method_set(nonprofit=nonprofit, method="electronic", actor=staff_user)
    assert refused.value.code == "payments_under_way"
    nonprofit.refresh_from_db()
    assert nonprofit.payout_method == "bank_transfer"


def test_the_fingerprint_of_electronic_payees_is_unchanged_by_bank_details():
    """Grants pinned before bank transfers existed still match their nonprofit."""
    nonprofit = NonprofitFactory()
    before = nonprofit.payout_fingerprint()
    nonprofit.bank_account_number = IBAN
    assert nonprofit.payout_fingerprint() == before
    nonprofit.payout_method = "bank_transfer"
    assert nonprofit.payout_fingerprint() != before


# --- Approval pins the bank details; scheduling makes the instruction --------------------------


def test_a_bank_transfer_grant_is_not_approved_without_bank_details(
    fund, proposer_user, staff_user
):
    nonprofit = NonprofitFactory(verification_status="verified", payout_reference="acct-1")
    nonprofit_payout_method_set(nonprofit=nonprofit, method="bank_transfer", actor=staff_user)
    grant = grant_propose(fund=fund, nonprofit=nonprofit, amount="100", actor=proposer_user)
    with pytest.raises(ValidationError) as refused:
        grant_approve(grant=grant, actor=staff_user)
    assert refused.value.code == "bank_details_missing"
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.PROPOSED


def test_scheduling_makes_a_pinned_instruction_and_queues_nothing_for_the_worker(
    fund, proposer_user, staff_user, django_capture_on_commit_callbacks
):
    nonprofit = bank_nonprofit()
    grant = approved(nonprofit, fund, proposer_user, staff_user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        batch = grants_schedule(grants=[grant], actor=staff_user)
    assert callbacks == []  # no payment task: a person pays it
    grant.refresh_from_db()
    assert grant.status == Grant.Status.SCHEDULED
    disbursement = Disbursement.objects.get(grant=grant)
    assert (disbursement.provider, disbursement.status, disbursement.queued_at) == (
        "bank_transfer",
        Disbursement.Status.PENDING,
        None,
    )
    instruction = disbursement.instruction
    assert instruction.reference == f"CM-{grant.pk}-{str(grant.idempotency_key)[:8].upper()}"
    assert len(instruction.reference) <= 35
    assert (instruction.amount, instruction.currency) == (Decimal("25000.00"), "USD")
    assert (instruction.account_holder, instruction.account_number, instruction.bic) == (
        "Readers of Nairobi Trust",
        IBAN,
        BIC,
    )
    assert str(instruction.bank_country) == "GB"
    assert instruction.payee_fingerprint == grant.payee_fingerprint
    assert instruction.created_by == staff_user
    assert instruction.remittance.startswith(instruction.reference)
    assert "Wanjiru Kamau" in instruction.remittance
    assert [row.state for row in batch_instructions(batch)] == ["awaiting"]


def test_the_worker_and_the_sweeper_never_pay_a_bank_transfer(fund, proposer_user, staff_user):
    instruction = scheduled(bank_nonprofit(), fund, proposer_user, staff_user)
    disbursement = disbursement_pay(disbursement_id=instruction.disbursement_id)
    assert disbursement.status == Disbursement.Status.PENDING
    assert disbursement.attempts == 0
    assert disbursements_sweep() == 0
    assert Grant.objects.get(pk=disbursement.grant_id).status == Grant.Status.SCHEDULED


def test_a_mixed_batch_pays_the_electronic_grant_and_leaves_the_transfer(
    fund, proposer_user, staff_user, django_capture_on_commit_callbacks
):
    electronic = approved(
        NonprofitFactory(verification_status="verified"), fund, proposer_user, staff_user
    )
    by_hand = approved(bank_nonprofit(), fund, proposer_user, staff_user)
    with django_capture_on_commit_callbacks(execute=True):  # tasks run eagerly
        grants_schedule(grants=[electronic, by_hand], actor=staff_user)
    assert Grant.objects.get(pk=electronic.pk).status == Grant.Status.DISBURSED
    assert Grant.objects.get(pk=by_hand.pk).status == Grant.Status.SCHEDULED
    assert not PaymentInstruction.objects.filter(disbursement__grant=electronic).exists()


def test_the_provider_answers_only_what_was_recorded(fund, proposer_user, staff_user):
    instruction = scheduled(bank_nonprofit(), fund, proposer_user, staff_user)
    provider = get_provider("bank_transfer")
    key = instruction.disbursement.idempotency_key
    assert provider.by_hand
    assert provider.lookup(idempotency_key=key) is None
    with pytest.raises(HoldError):
        provider.pay(idempotency_key=key, amount=Decimal(1), currency="USD", payee="x")
    payment_instruction_record_sent(
        instruction=instruction,
        bank_reference="BANK-REF-1",
        actor=StaffFactory(roles=[StaffRole.FINANCE_APPROVER]),
    )
    payment = provider.lookup(idempotency_key=key)
    assert (payment.reference, payment.amount, payment.currency) == (
        "BANK-REF-1",
        Decimal("25000.00"),
        "USD",
    )


# --- Recording the transfer as sent ----------------------------------------------------------


def test_a_second_finance_approver_records_the_transfer_and_the_grant_is_paid(
    fund, proposer_user, staff_user
):
    instruction = scheduled(bank_nonprofit(), fund, proposer_user, staff_user)
    finance = StaffFactory(roles=[StaffRole.FINANCE_APPROVER])
    recorded = payment_instruction_record_sent(
        instruction=instruction, bank_reference=" FT 2611 0042 ", actor=finance
    )
    assert (recorded.bank_reference, recorded.sent_by) == ("FT 2611 0042", finance)
    grant = Grant.objects.get(pk=instruction.disbursement.grant_id)
    assert grant.status == Grant.Status.DISBURSED
    disbursement = grant.disbursement
    assert disbursement.status == Disbursement.Status.SUCCEEDED
    assert disbursement.provider_reference == "FT 2611 0042"
    assert Fund.objects.get(pk=fund.pk).disbursed == Decimal("25000.00")
    event = AuditEvent.objects.for_object(grant).get(action="transfer_sent")
    assert (event.actor, event.from_state, event.to_state, event.note) == (
        finance,
        "scheduled",
        "disbursed",
        "FT 2611 0042",
    )


def test_recording_it_twice_changes_nothing_more(fund, proposer_user, staff_user):
    instruction = scheduled(bank_nonprofit(), fund, proposer_user, staff_user)
    first, second = StaffFactory.create_batch(2, roles=[StaffRole.FINANCE_APPROVER])
    recorded = payment_instruction_record_sent(
        instruction=instruction, bank_reference="REF-1", actor=first
    )
    again = payment_instruction_record_sent(
        instruction=instruction, bank_reference="REF-2", actor=second
    )
    assert (again.bank_reference, again.sent_by, again.sent_at) == (
        "REF-1",
        first,
        recorded.sent_at,
    )
    assert Fund.objects.get(pk=fund.pk).disbursed == Decimal("25000.00")
    assert AuditEvent.objects.filter(action="transfer_sent").count() == 2  # grant, payment


def test_whoever_scheduled_it_does_not_record_it(fund, proposer_user, staff_user):
    instruction = scheduled(bank_nonprofit(), fund, proposer_user, staff_user)
    with pytest.raises(ValidationError) as refused:
        payment_instruction_record_sent(
            instruction=instruction, bank_reference="REF", actor=staff_user
        )
    assert refused.value.code == "recorder_is_scheduler"
    instruction.refresh_from_db()
    assert instruction.sent_at is None
    assert Grant.objects.get(pk=instruction.disbursement.grant_id).status == "scheduled"


@pytest.mark.parametrize(
    "role", [StaffRole.PROGRAM_MANAGER, StaffRole.NONPROFIT_VETTER, StaffRole.AUDITOR]
)
def test_only_finance_records_transfers(fund, proposer_user, staff_user, role):
    instruction = scheduled(bank_nonprofit(), fund, proposer_user, staff_user)
    with pytest.raises(ValidationError) as refused:
        payment_instruction_record_sent(
            instruction=instruction, bank_reference="REF", actor=StaffFactory(roles=[role])
        )
    assert refused.value.code == "not_permitted"
    assert PaymentInstruction.objects.get(pk=instruction.pk).sent_at is None


def test_an_empty_bank_reference_is_refused(fund, proposer_user, staff_user):
    instruction = scheduled(bank_nonprofit(), fund, proposer_user, staff_user)
    finance = StaffFactory(roles=[StaffRole.FINANCE_APPROVER])
    with pytest.raises(ValidationError) as refused:
        payment_instruction_record_sent(instruction=instruction, bank_reference="  ", actor=finance)
    assert refused.value.code == "reference_empty"


def test_a_cancelled_payment_cannot_be_recorded_as_sent(fund, proposer_user, staff_user):
    instruction = scheduled(bank_nonprofit(), fund, proposer_user, staff_user)
    grant_cancel(grant=instruction.disbursement.grant, actor=staff_user, reason="Wrong nonprofit")
    assert [row.state for row in batch_instructions(instruction.disbursement.batch)] == [
        "cancelled"
    ]
    with pytest.raises(ValidationError) as refused:
        payment_instruction_record_sent(
            instruction=instruction,
            bank_reference="REF",
            actor=StaffFactory(roles=[StaffRole.FINANCE_APPROVER]),
        )
    assert refused.value.code == "illegal_transition"
    assert Fund.objects.get(pk=fund.pk).disbursed == 0


def test_new_bank_details_hold_the_transfer_and_reconfirming_repins_the_instruction(
    fund, proposer_user, staff_user
):
    nonprofit = bank_nonprofit()
    instruction = scheduled(nonprofit, fund, proposer_user, staff_user)
    batch = instruction.disbursement.batch
    nonprofit = bank_details_set(nonprofit, account=ACCOUNT, bic=KE_BIC, country="KE")
    grant = Grant.objects.get(pk=instruction.disbursement.grant_id)
    assert grant.is_held
    (row,) = batch_instructions(batch)
    assert row.state == "held"  # not in the files for the bank
    instruction.refresh_from_db()
    assert instruction.account_number == IBAN  # as pinned, until re-confirmed
    grant_hold_release(grant=grant, actor=StaffFactory(roles=[StaffRole.FINANCE_APPROVER]))
    instruction.refresh_from_db()
    assert (instruction.account_number, instruction.bic) == (ACCOUNT, KE_BIC)
    assert (
        instruction.payee_fingerprint == Nonprofit.objects.get(pk=nonprofit.pk).payout_fingerprint()
    )
    assert instruction.created_by == staff_user  # re-confirming is not scheduling
    assert [row.state for row in batch_instructions(batch)] == ["awaiting"]


def test_a_nonprofit_no_longer_verified_is_not_in_the_files(fund, proposer_user, staff_user):
    nonprofit = bank_nonprofit()
    instruction = scheduled(nonprofit, fund, proposer_user, staff_user)
    Nonprofit.objects.filter(pk=nonprofit.pk).update(verified_at=None)
    (row,) = batch_instructions(instruction.disbursement.batch)
    assert row.state == "held"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_recording_the_same_transfer_at_once_pay_it_once():
    from tests.factories import UserFactory

    staff = UserFactory(is_staff=True, is_superuser=True)
    proposer = UserFactory(is_staff=True, is_superuser=True)
    fund = FundFactory()
    instruction = scheduled(bank_nonprofit(), fund, proposer, staff)
    recorders = StaffFactory.create_batch(6, roles=[StaffRole.FINANCE_APPROVER])
    barrier = threading.Barrier(len(recorders))
    outcomes: list[str] = []

    def record(person, number):
        try:
            barrier.wait()
            payment_instruction_record_sent(
                instruction=instruction, bank_reference=f"REF-{number}", actor=person
            )
            outcomes.append("ok")
        except ValidationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=record, args=(person, n)) for n, person in enumerate(recorders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == ["ok"] * 6
    instruction.refresh_from_db()
    assert instruction.sent_by in recorders
    assert Fund.objects.get(pk=fund.pk).disbursed == Decimal("25000.00")
    assert AuditEvent.objects.filter(action="transfer_sent").count() == 2
    assert Disbursement.objects.get(pk=instruction.disbursement_id).provider_reference == (
        instruction.bank_reference
    )
