"""The stand-in's objects on connected accounts and reversals, over plain HTTP: a transfer's
destination payment exists only on the connected account (found with its Stripe-Account
header), converted to the account's currency; a reversal sends `transfer.reversed`; payouts
to a connected account's bank send `payout.failed` / `payout.paid` with the account."""

import json
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from tests.standins.stripe import StripeStandin


@pytest.fixture
def standin():
    standin = StripeStandin().start()
    yield standin
    standin.stop()


def call(standin, method, path, params=None, *, account=None):
    data = urlencode(params or {}).encode() if method == "POST" else None
    if method == "GET" and params:
        path = f"{path}?{urlencode(params)}"
    headers = {"Authorization": f"Bearer {standin.secret_key}"}
    if account:
        headers["Stripe-Account"] = account
    request = urllib.request.Request(standin.url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def transfer(standin, account, amount=10000, currency="usd"):
    status, body = call(
        standin,
        "POST",
        "/v1/transfers",
        {"amount": amount, "currency": currency, "destination": account},
    )
    assert status == 200, body
    return body


def test_a_destination_payment_is_found_only_on_its_connected_account(standin):
    account = standin.add_account(default_currency="eur")["id"]
    other = standin.add_account()["id"]
    made = transfer(standin, account)
    payment = made["destination_payment"]
    assert payment.startswith("py_")

    assert call(standin, "GET", f"/v1/charges/{payment}")[0] == 404
    assert call(standin, "GET", f"/v1/charges/{payment}", account=other)[0] == 404
    assert call(standin, "GET", f"/v1/charges/{payment}", account="acct_nobody")[0] == 403
    status, charge = call(standin, "GET", f"/v1/charges/{payment}", account=account)
    assert status == 200
    assert charge["object"] == "charge"
    assert charge["source_transfer"] == made["id"]
    assert isinstance(charge["balance_transaction"], str)
    status, expanded = call(
        standin,
        "GET",
        f"/v1/charges/{payment}",
        {"expand[0]": "balance_transaction"},
        account=account,
    )
    entry = expanded["balance_transaction"]
    assert entry["object"] == "balance_transaction"
    assert (entry["amount"], entry["currency"], entry["exchange_rate"]) == (9250, "eur", 0.92502)
    status, same = call(standin, "GET", f"/v1/balance_transactions/{entry['id']}", account=account)
    assert same == entry
    _, balance = call(standin, "GET", "/v1/balance", account=account)
    assert balance["available"][0] == {
        "amount": 9250,
        "currency": "eur",
        "source_types": {"card": 0},
    }


def test_an_account_in_the_transfers_currency_gets_it_without_a_rate(standin):
    standin.set_exchange_rate("usd", "gbp", 0.5)
    account = standin.add_account()["id"]
    payment = transfer(standin, account)["destination_payment"]
    _, charge = call(
        standin,
        "GET",
        f"/v1/charges/{payment}",
        {"expand[0]": "balance_transaction"},
        account=account,
    )
    assert (charge["amount"], charge["currency"]) == (10000, "usd")
    assert charge["balance_transaction"]["exchange_rate"] is None
    gbp = standin.add_account(default_currency="gbp")["id"]
    payment = transfer(standin, gbp)["destination_payment"]
    _, charge = call(standin, "GET", f"/v1/charges/{payment}", account=gbp)
    assert (charge["amount"], charge["currency"]) == (5000, "gbp")


def test_a_reversal_gives_the_money_back_and_sends_transfer_reversed(standin):
    account = standin.add_account()["id"]
    made = transfer(standin, account, amount=10000)
    standin.set_balance("usd", 0)

    status, reversal = call(
        standin, "POST", f"/v1/transfers/{made['id']}/reversals", {"amount": 2500}
    )
    assert status == 200
    assert (reversal["object"], reversal["amount"], reversal["transfer"]) == (
        "transfer_reversal",
        2500,
        made["id"],
    )
    assert (
        call(standin, "POST", f"/v1/transfers/{made['id']}/reversals", {"amount": 9000})[0] == 400
    )
    standin.reverse_transfer(made["id"])  # the rest

    _, now = call(standin, "GET", f"/v1/transfers/{made['id']}")
    assert (now["amount_reversed"], now["reversed"]) == (10000, True)
    assert [r["amount"] for r in now["reversals"]["data"]] == [2500, 7500]
    _, listed = call(standin, "GET", f"/v1/transfers/{made['id']}/reversals")
    assert [r["amount"] for r in listed["data"]] == [7500, 2500]
    _, balance = call(standin, "GET", "/v1/balance")
    assert {"amount": 10000, "currency": "usd", "source_types": {"card": 0}} in balance["available"]
    events = [e for e in standin.events if e["type"] == "transfer.reversed"]
    assert [e["data"]["object"]["amount_reversed"] for e in events] == [2500, 10000]


def test_payouts_to_a_connected_accounts_bank_send_their_events_with_the_account(standin):
    account = standin.add_account(default_currency="eur")["id"]

    failed = standin.fail_payout(account, amount=500, code="account_closed", message="Closed.")
    paid = standin.pay_out(account)

    [failed_event] = [e for e in standin.events if e["type"] == "payout.failed"]
    [paid_event] = [e for e in standin.events if e["type"] == "payout.paid"]
    assert failed_event["account"] == paid_event["account"] == account
    payout = failed_event["data"]["object"]
    assert (payout["id"], payout["object"], payout["status"]) == (failed["id"], "payout", "failed")
    assert (payout["failure_code"], payout["failure_message"], payout["currency"]) == (
        "account_closed",
        "Closed.",
        "eur",
    )
    assert paid_event["data"]["object"]["id"] == paid["id"]
