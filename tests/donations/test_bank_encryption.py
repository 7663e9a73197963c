"""Bank details are encrypted at rest (changemakers/core/encryption.py): the columns of the
nonprofit, its payout-detail changes and its payment instructions hold Fernet tokens, never
the account, its holder or the BIC; keys rotate; rows stored before are encrypted by a
migration that can be reversed, and the payee fingerprints grants pinned still match."""

import io
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from changemakers.core.encryption import encrypt, encryption_keys
from donations.bank_files import csv_rows
from donations.models import Grant, Nonprofit, PaymentInstruction, PayoutDetailsChange
from donations.services import grant_approve, grant_propose, grants_schedule
from tests.donations.bank import BIC, IBAN, bank_details_set, bank_nonprofit
from tests.factories import CreatorFactory, FundFactory

HOLDER = "Readers of Nairobi Trust"
NONPROFIT_COLUMNS = ["bank_account_holder", "bank_account_number", "bank_bic"]
INSTRUCTION_COLUMNS = ["account_holder", "account_number", "bic"]


def raw(model, pk: int, columns: list[str]) -> list[str]:
    """The columns as the database holds them, read past the ORM."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(map(quote, columns))} FROM {quote(model._meta.db_table)} "
            f"WHERE {quote(model._meta.pk.column)} = %s",
            [pk],
        )
        return list(cursor.fetchone())


def opens_with(key: str, token: str) -> str:
    return Fernet(key.encode()).decrypt(token.encode()).decode()


def scheduled_instruction(nonprofit: Nonprofit, staff_user, proposer_user) -> PaymentInstruction:
    grant = grant_propose(
        fund=FundFactory(total=Decimal("1000000.00")),
        nonprofit=nonprofit,
        amount="25000.00",
        creator=CreatorFactory(display_name="Wanjiru Kamau"),
        purpose="Reading kits",
        actor=proposer_user,
    )
    grant = grant_approve(grant=grant, actor=staff_user)
    grants_schedule(grants=[grant], actor=staff_user)
    return PaymentInstruction.objects.get(disbursement__grant=grant)


@pytest.mark.django_db
def test_no_table_holds_the_account_its_holder_or_the_bic_in_clear_text(staff_user, proposer_user):
    nonprofit = bank_nonprofit(holder=HOLDER)
    change = PayoutDetailsChange.objects.get(nonprofit=nonprofit)
    instruction = scheduled_instruction(nonprofit, staff_user, proposer_user)
    stored = [
        *raw(Nonprofit, nonprofit.pk, NONPROFIT_COLUMNS),
        *raw(PayoutDetailsChange, change.pk, NONPROFIT_COLUMNS),
        *raw(PaymentInstruction, instruction.pk, INSTRUCTION_COLUMNS),
    ]

    (key,) = encryption_keys()
    assert [opens_with(key, token) for token in stored] == [HOLDER, IBAN, BIC] * 3
    for token in stored:
        assert not any(value in token for value in (HOLDER, IBAN, BIC))
    # The same value is a different token each time: nothing to compare across rows.
    assert len(set(stored)) == len(stored)
    # Read through the models, everything works on the clear text as before.
    assert (nonprofit.bank_account_number, nonprofit.bank_account_masked) == (IBAN, "••••5432")
    assert nonprofit.bank_details_complete()
    assert instruction.account_masked == "••••5432"
    assert instruction.payee_fingerprint == nonprofit.payout_fingerprint()
    [row] = csv_rows(PaymentInstruction.objects.filter(pk=instruction.pk))
    assert [value for value in row if value in {HOLDER, IBAN, BIC}] == [HOLDER, IBAN, BIC]


@pytest.mark.django_db
def test_an_empty_value_stays_empty_and_only_emptiness_can_be_looked_up():
    nonprofit = bank_nonprofit()
    assert raw(PayoutDetailsChange, nonprofit.payout_changes.get().pk, ["payout_reference"]) == [""]
    assert Nonprofit.objects.filter(bank_account_number="").count() == 0
    assert Nonprofit.objects.exclude(bank_account_number="").get() == nonprofit
    # A token differs every time: a lookup by value would silently find nothing, so it fails.
    with pytest.raises(FieldError):
        Nonprofit.objects.filter(bank_account_number=IBAN).exists()
    with pytest.raises(FieldError):
        PaymentInstruction.objects.filter(account_holder__icontains="Readers").exists()


@pytest.mark.django_db
def test_keys_rotate_old_tokens_still_open_new_writes_use_the_first_key_and_the_command_moves_all(
    staff_user, proposer_user
):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[old]):
        nonprofit = bank_nonprofit(holder=HOLDER)
        instruction = scheduled_instruction(nonprofit, staff_user, proposer_user)
        pinned = Grant.objects.get().payee_fingerprint
    assert opens_with(old, raw(Nonprofit, nonprofit.pk, ["bank_account_number"])[0]) == IBAN

    with override_settings(FIELD_ENCRYPTION_KEYS=[new, old]):
        # Old tokens still open; a new write is under the new key only.
        assert Nonprofit.objects.get().bank_account_number == IBAN
        assert Nonprofit.objects.get().payout_fingerprint() == pinned
        nonprofit = bank_details_set(nonprofit, account="DE89370400440532013000", bic="")
        [account] = raw(Nonprofit, nonprofit.pk, ["bank_account_number"])
        assert opens_with(new, account) == "DE89370400440532013000"
        with pytest.raises(InvalidToken):
            opens_with(old, account)
        [untouched] = raw(PaymentInstruction, instruction.pk, ["account_number"])
        assert opens_with(old, untouched) == IBAN

        output = io.StringIO()
        call_command("encrypted_fields_rotate", stdout=output)
        assert "donations.Nonprofit: 1 rows re-encrypted" in output.getvalue()

        for model, columns, pk in [
            (Nonprofit, NONPROFIT_COLUMNS, nonprofit.pk),
            (PaymentInstruction, INSTRUCTION_COLUMNS, instruction.pk),
            *(
                (PayoutDetailsChange, NONPROFIT_COLUMNS, pk)
                for pk in PayoutDetailsChange.objects.values_list("pk", flat=True)
            ),
        ]:
            for token in raw(model, pk, columns):
                if token:
                    opens_with(new, token)  # raises if still under the old key
    # The old key can go.
    with override_settings(FIELD_ENCRYPTION_KEYS=[new]):
        instruction = PaymentInstruction.objects.get()
        assert (instruction.account_holder, instruction.account_number) == (HOLDER, IBAN)
        assert instruction.payee_fingerprint == pinned


@pytest.mark.django_db
def test_a_token_no_key_opens_is_refused_never_shown_as_the_value():
    bank_nonprofit()
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]),
        pytest.raises(ImproperlyConfigured, match="DJANGO_FIELD_ENCRYPTION_KEYS"),
    ):
        Nonprofit.objects.get()


def test_without_a_key_only_debug_derives_one_from_the_secret_key():
    with override_settings(DEBUG=True, FIELD_ENCRYPTION_KEYS=[], SECRET_KEY="one secret"):
        derived = encryption_keys()
        assert len(derived) == 1
        Fernet(derived[0].encode())  # a valid key
    with override_settings(DEBUG=True, FIELD_ENCRYPTION_KEYS=[], SECRET_KEY="another secret"):
        assert encryption_keys() != derived
    with override_settings(DEBUG=False, FIELD_ENCRYPTION_KEYS=[]):
        assert encryption_keys() == []
        with pytest.raises(ImproperlyConfigured, match="DJANGO_FIELD_ENCRYPTION_KEYS"):
            encrypt(IBAN)


@pytest.mark.django_db
def test_the_admin_shows_the_account_masked_and_searches_without_it(
    client, staff_user, proposer_user
):
    nonprofit = bank_nonprofit(holder=HOLDER)
    instruction = scheduled_instruction(nonprofit, staff_user, proposer_user)
    change = PayoutDetailsChange.objects.get(nonprofit=nonprofit)
    client.force_login(staff_user)
    pages = [
        f"/admin/donations/paymentinstruction/{instruction.pk}/change/",
        f"/admin/donations/payoutdetailschange/{change.pk}/change/",
        f"/admin/donations/nonprofit/{nonprofit.pk}/change/",
        "/admin/donations/paymentinstruction/?q=Readers",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert IBAN not in response.content.decode(), page
    for page in pages[:3]:
        assert "••••5432" in client.get(page).content.decode(), page


# --- The migration that encrypted rows stored before -----------------------------------------

BEFORE = [("donations", "0015_reversals_payout_failures_batch_holds_received")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def clear_text_layout(transactional_db):
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    yield _migrate(BEFORE)
    _migrate(latest)


def test_rows_stored_in_clear_text_are_encrypted_and_back_with_fingerprints_unchanged(
    clear_text_layout,
):
    old = clear_text_layout
    details = {
        "bank_account_holder": HOLDER,
        "bank_account_number": IBAN,
        "bank_bic": BIC,
        "bank_country": "GB",
        "bank_name": "NatWest",
    }
    user = old.get_model("auth", "User").objects.create(username="contact@example.org")
    stored = old.get_model("donations", "Nonprofit").objects.create(
        legal_name="Readers of Nairobi",
        registration_number="KE-1",
        country="KE",
        contact_email="a@example.org",
        payout_method="bank_transfer",
        **details,
    )
    old.get_model("donations", "PayoutDetailsChange").objects.create(
        nonprofit=stored, requested_by=user, **details
    )
    # What a grant approved then pinned, computed as it was: from the clear text.
    pinned = Nonprofit(
        legal_name="Readers of Nairobi",
        registration_number="KE-1",
        country="KE",
        payout_method="bank_transfer",
        **details,
    ).payout_fingerprint()
    assert raw(Nonprofit, stored.pk, NONPROFIT_COLUMNS) == [HOLDER, IBAN, BIC]

    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    _migrate([node for node in latest if node[0] == "donations"])

    (key,) = encryption_keys()
    for model in (Nonprofit, PayoutDetailsChange):
        pk = model.objects.get().pk
        assert [opens_with(key, token) for token in raw(model, pk, NONPROFIT_COLUMNS)] == [
            HOLDER,
            IBAN,
            BIC,
        ]
    nonprofit = Nonprofit.objects.get()
    assert nonprofit.payout_fingerprint() == pinned
    assert nonprofit.payout_changes.get().bank_account_number == IBAN

    _migrate(BEFORE)
    assert raw(Nonprofit, stored.pk, NONPROFIT_COLUMNS) == [HOLDER, IBAN, BIC]
