"""The files finance hands to its bank for a batch's transfers by hand: the payment
instructions as CSV, and as an ISO 20022 customer credit transfer initiation (pain.001).

pain.001.001.09 is the version banks take today (the ISO 2019 message that SEPA's rulebooks and
SWIFT's CBPR+ moved to), not bound to the euro: one payment information block (`PmtInf`) per
currency, debited from the program's account (settings BANK_DEBTOR_*), and one credit transfer
(`CdtTrfTxInf`) per instruction, its EndToEndId the reference the transfer quotes. An IBAN goes
as <IBAN>, any other account number as <Othr><Id>, with the bank's BIC where known. Amounts are
written with their currency's own decimals. No control sum adds up different currencies.

Only instructions that may be paid now go in (see `selectors.batch_instructions`): not
recorded as sent, not called off, their grant not on hold, and their nonprofit verified with
the bank details the grant pinned.
"""

import datetime
import xml.etree.ElementTree as ET  # nosec B405 # builds files, never parses
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import groupby

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from .models import DisbursementBatch, PaymentInstruction, is_iban
from .models.money import quantize

PAIN_001 = "pain.001.001.09"
NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{PAIN_001}"

CSV_HEADER = (
    "reference",
    "amount",
    "currency",
    "account_holder",
    "iban_or_account",
    "bic",
    "bank_name",
    "bank_country",
    "remittance_information",
    "nonprofit",
    "grant",
)


def csv_rows(instructions: Iterable[PaymentInstruction]) -> Iterator[Sequence]:
    for instruction in instructions:
        grant = instruction.disbursement.grant
        yield (
            instruction.reference,
            amount_text(instruction.amount, instruction.currency),
            instruction.currency,
            instruction.account_holder,
            instruction.account_number,
            instruction.bic,
            instruction.bank_name,
            str(instruction.bank_country),
            instruction.remittance,
            grant.nonprofit.legal_name,
            grant.pk,
        )


def amount_text(amount: Decimal, currency: str) -> str:
    """`25000.00` for USD, `1000` for JPY: the currency's decimals, a dot, no grouping."""
    return format(quantize(amount, currency), "f")


def debtor_account() -> tuple[str, str]:
    """("IBAN", iban) or ("Othr", account number) of the program's account, from settings."""
    iban = settings.BANK_DEBTOR_IBAN.replace(" ", "").upper()
    if iban:
        return "IBAN", iban
    account = settings.BANK_DEBTOR_ACCOUNT.replace(" ", "").upper()
    if account:
        return "Othr", account
    raise ImproperlyConfigured(
        "Set DJANGO_BANK_DEBTOR_IBAN (or DJANGO_BANK_DEBTOR_ACCOUNT) to the program's bank "
        "account to write payment files."
    )


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def _account(parent: ET.Element, tag: str, kind: str, number: str) -> None:
    identification = _sub(_sub(parent, tag), "Id")
    if kind == "IBAN":
        _sub(identification, "IBAN", number)
    else:
        _sub(_sub(identification, "Othr"), "Id", number)


def _agent(parent: ET.Element, tag: str, *, bic: str, name: str = "", country: str = "") -> None:
    institution = _sub(_sub(parent, tag), "FinInstnId")
    if bic:
        _sub(institution, "BICFI", bic)
    if name:
        _sub(institution, "Nm", name[:140])
    if country:
        _sub(_sub(institution, "PstlAdr"), "Ctry", country)
    if not (bic or name or country):
        _sub(_sub(institution, "Othr"), "Id", "NOTPROVIDED")


def pain001(
    *,
    batch: DisbursementBatch,
    instructions: Sequence[PaymentInstruction],
    now: datetime.datetime | None = None,
) -> bytes:
    """The batch's instructions as a pain.001.001.09 document (UTF-8 bytes)."""
    now = timezone.localtime(now or timezone.now())
    debtor_kind, debtor_number = debtor_account()
    document = ET.Element("Document", {"xmlns": NAMESPACE})
    initiation = _sub(document, "CstmrCdtTrfInitn")
    header = _sub(initiation, "GrpHdr")
    _sub(header, "MsgId", f"CM-BATCH-{batch.pk}-{now:%Y%m%d%H%M%S}")
    _sub(header, "CreDtTm", now.replace(microsecond=0).isoformat())
    _sub(header, "NbOfTxs", str(len(instructions)))
    _sub(_sub(header, "InitgPty"), "Nm", settings.BANK_DEBTOR_NAME[:140])
    by_currency = groupby(
        sorted(instructions, key=lambda i: (i.currency, i.pk)), key=lambda i: i.currency
    )
    for currency, group in by_currency:
        group = list(group)
        block = _sub(initiation, "PmtInf")
        _sub(block, "PmtInfId", f"CM-BATCH-{batch.pk}-{currency}")
        _sub(block, "PmtMtd", "TRF")
        _sub(block, "NbOfTxs", str(len(group)))
        _sub(block, "CtrlSum", amount_text(sum(i.amount for i in group), currency))
        _sub(_sub(block, "ReqdExctnDt"), "Dt", now.date().isoformat())
        _sub(_sub(block, "Dbtr"), "Nm", settings.BANK_DEBTOR_NAME[:140])
        _account(block, "DbtrAcct", debtor_kind, debtor_number)
        _agent(block, "DbtrAgt", bic=settings.BANK_DEBTOR_BIC.replace(" ", "").upper())
        for instruction in group:
            transfer = _sub(block, "CdtTrfTxInf")
            payment_id = _sub(transfer, "PmtId")
            _sub(payment_id, "InstrId", instruction.reference)
            _sub(payment_id, "EndToEndId", instruction.reference)
            _sub(
                _sub(transfer, "Amt"),
                "InstdAmt",
                amount_text(instruction.amount, currency),
                Ccy=currency,
            )
            _agent(
                transfer,
                "CdtrAgt",
                bic=instruction.bic,
                name=instruction.bank_name,
                country=str(instruction.bank_country),
            )
            creditor = _sub(transfer, "Cdtr")
            _sub(creditor, "Nm", instruction.account_holder[:140])
            nonprofit = instruction.disbursement.grant.nonprofit
            _sub(_sub(creditor, "PstlAdr"), "Ctry", str(nonprofit.country))
            kind = "IBAN" if is_iban(instruction.account_number) else "Othr"
            _account(transfer, "CdtrAcct", kind, instruction.account_number)
            _sub(_sub(transfer, "RmtInf"), "Ustrd", instruction.remittance[:140])
    ET.indent(document)
    return ET.tostring(document, encoding="utf-8", xml_declaration=True)
