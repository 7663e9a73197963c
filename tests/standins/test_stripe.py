"""The Stripe stand-in keeps Stripe's semantics, seen over plain HTTP: what the payout
provider's tests rely on is checked here once, without the `stripe` library in between."""

import http.client
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from tests.standins.stripe import FIXTURES, StripeStandin, parse_params


@pytest.fixture
def standin():
    standin = StripeStandin().start()
    yield standin
    standin.stop()


def call(standin, method, path, params=None, *, key=None, secret=None, url=None):
    """(status, body, headers) of one request."""
    data = urlencode(params or {}).encode() if method == "POST" else None
    if method == "GET" and params:
        path = f"{path}?{urlencode(params)}"
    headers = {"Authorization": f"Bearer {secret or standin.secret_key}"}
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(
        (url or standin.url) + path, data=data, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read()), answer.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers


def transfer_params(standin, amount=1000, **extra):
    destination = extra.pop("destination", None) or standin.add_account()["id"]
    return {"amount": amount, "currency": "usd", "destination": destination, **extra}


def test_requests_need_the_secret_key(standin):
    status, body, _ = call(standin, "GET", "/v1/balance", secret="sk_test_other")

    assert status == 401
    assert body["error"]["type"] == "invalid_request_error"
    assert standin.requests == [("GET", "/v1/balance")]


def test_objects_are_shaped_like_stripes_examples(standin):
    _, account, _ = call(standin, "POST", "/v1/accounts", {"country": "FR", "email": "a@b.org"})
    _, transfer, _ = call(
        standin, "POST", "/v1/transfers", transfer_params(standin, destination=account["id"])
    )
    _, balance, _ = call(standin, "GET", "/v1/balance")

    assert account.keys() == FIXTURES["account"].keys()
    assert (account["country"], account["email"], account["object"]) == ("FR", "a@b.org", "account")
    assert account["capabilities"] == {"transfers": "inactive"}  # until onboarding
    assert transfer["error"]["code"] == "insufficient_capabilities_for_transfer"
    _, transfer, _ = call(standin, "POST", "/v1/transfers", transfer_params(standin))
    assert transfer.keys() == FIXTURES["transfer"].keys()
    assert balance.keys() == FIXTURES["balance"].keys()
    assert {"amount": 10**10, "currency": "usd", "source_types": {"card": 0}} in balance[
        "available"
    ]


def test_the_same_key_and_parameters_answer_the_first_answer_again(standin):
    params = transfer_params(standin)
    first = call(standin, "POST", "/v1/transfers", params, key="k-1")
    again = call(standin, "POST", "/v1/transfers", params, key="k-1")

    assert first[:2] == again[:2]
    assert again[2]["Idempotent-Replayed"] == "true"
    assert again[2]["Original-Request"] == first[2]["Request-Id"]
    assert len(standin.transfers()) == 1


def test_the_same_key_with_other_parameters_is_an_idempotency_error(standin):
    params = transfer_params(standin)
    call(standin, "POST", "/v1/transfers", params, key="k-1")

    status, body, _ = call(standin, "POST", "/v1/transfers", {**params, "amount": 2}, key="k-1")

    assert status == 400
    assert body["error"]["type"] == "idempotency_error"
    assert len(standin.transfers()) == 1


def test_a_refusal_is_kept_under_its_key_but_invalid_parameters_are_not(standin):
    standin.set_balance("usd", 0)
    params = transfer_params(standin)
    status, body, _ = call(standin, "POST", "/v1/transfers", params, key="k-1")
    assert (status, body["error"]["code"]) == (400, "balance_insufficient")

    standin.set_balance("usd", 10**6)
    status, body, headers = call(standin, "POST", "/v1/transfers", params, key="k-1")
    assert (status, body["error"]["code"]) == (400, "balance_insufficient")
    assert headers["Idempotent-Replayed"] == "true"

    status, body, _ = call(standin, "POST", "/v1/transfers", {"currency": "usd"}, key="k-2")
    assert (status, body["error"]["param"]) == (400, "amount")
    status, _, _ = call(standin, "POST", "/v1/transfers", params, key="k-2")
    assert status == 200


def test_forgotten_keys_make_new_requests(standin):
    params = transfer_params(standin)
    call(standin, "POST", "/v1/transfers", params, key="k-1")
    standin.forget_keys()

    call(standin, "POST", "/v1/transfers", params, key="k-1")

    assert len(standin.transfers()) == 2


def test_a_key_whose_request_still_runs_is_a_conflict(standin):
    params = transfer_params(standin)
    standin.delay_next(seconds=5, method="POST")
    request = urllib.request.Request(
        standin.url + "/v1/transfers",
        data=urlencode(params).encode(),
        headers={"Authorization": f"Bearer {standin.secret_key}", "Idempotency-Key": "k-1"},
    )
    with pytest.raises(TimeoutError):
        urllib.request.urlopen(request, timeout=0.2)

    status, body, _ = call(standin, "POST", "/v1/transfers", params, key="k-1")

    assert status == 409
    assert body["error"]["code"] == "idempotency_key_in_use"


def test_transfers_are_listed_newest_first_by_group_and_paged(standin):
    destination = standin.add_account()["id"]
    for n in range(5):
        group = "group-a" if n % 2 == 0 else "group-b"
        call(
            standin,
            "POST",
            "/v1/transfers",
            transfer_params(standin, amount=100 + n, destination=destination, transfer_group=group),
        )

    _, page, _ = call(standin, "GET", "/v1/transfers", {"transfer_group": "group-a", "limit": 2})
    assert page["object"] == "list"
    assert [t["amount"] for t in page["data"]] == [104, 102]
    assert page["has_more"] is True
    after = page["data"][-1]["id"]
    _, rest, _ = call(
        standin,
        "GET",
        "/v1/transfers",
        {"transfer_group": "group-a", "limit": 2, "starting_after": after},
    )
    assert [t["amount"] for t in rest["data"]] == [100]
    assert rest["has_more"] is False
    _, one, _ = call(standin, "GET", f"/v1/transfers/{after}")
    assert one["id"] == after


def test_errors_have_stripes_shape(standin):
    status, body, _ = call(standin, "GET", "/v1/transfers/tr_missing")
    assert status == 404
    assert body == {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": "No such transfer: 'tr_missing'",
            "param": "id",
        }
    }
    status, body, _ = call(standin, "GET", "/v1/transfers", {"limit": 0})
    assert (status, body["error"]["param"]) == (400, "limit")


def test_fault_knobs_answer_429_or_500_and_then_let_requests_through(standin):
    standin.fail_next(2, status=429, method="GET", path="/v1/balance")
    standin.fail_next(status=500, method="POST")

    assert call(standin, "GET", "/v1/balance")[0] == 429
    assert call(standin, "GET", "/v1/transfers")[0] == 200  # another path
    assert call(standin, "GET", "/v1/balance")[0] == 429
    assert call(standin, "GET", "/v1/balance")[0] == 200
    status, _, headers = call(standin, "POST", "/v1/transfers", transfer_params(standin))
    assert (status, headers["Stripe-Should-Retry"]) == (500, "true")
    assert standin.transfers() == []


def test_a_lost_answer_was_still_carried_out(standin):
    standin.lose_next(method="POST", path="/v1/transfers")

    with pytest.raises(http.client.RemoteDisconnected):
        call(standin, "POST", "/v1/transfers", transfer_params(standin), key="k-1")

    assert len(standin.transfers()) == 1


def test_hosted_onboarding_completes_the_account_and_returns(standin):
    _, account, _ = call(standin, "POST", "/v1/accounts", {"country": "US"})
    _, link, _ = call(
        standin,
        "POST",
        "/v1/account_links",
        {
            "account": account["id"],
            "type": "account_onboarding",
            "return_url": "http://portal.test/done",
            "refresh_url": "http://portal.test/again",
        },
    )
    assert link["object"] == "account_link"

    with urllib.request.urlopen(link["url"], timeout=5) as page:
        assert b"Complete onboarding" in page.read()
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(urllib.request.Request(link["url"], data=b"", method="POST"), timeout=5)
    assert answer.value.headers["Location"] == "http://portal.test/done"

    _, onboarded, _ = call(standin, "GET", f"/v1/accounts/{account['id']}")
    assert onboarded["payouts_enabled"] is True
    assert onboarded["capabilities"]["transfers"] == "active"
    assert onboarded["requirements"]["currently_due"] == []
    assert [e["type"] for e in standin.events] == ["account.updated"]
    with pytest.raises(urllib.error.HTTPError) as used:
        opener.open(link["url"], timeout=5)
    assert used.value.headers["Location"] == "http://portal.test/again"  # links are single-use

    _, login, _ = call(standin, "POST", f"/v1/accounts/{account['id']}/login_links")
    assert login["object"] == "login_link"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_parameters_are_decoded_as_stripe_encodes_them():
    assert parse_params(
        [("metadata[key]", "v"), ("expand[0]", "a"), ("expand[1]", "b"), ("amount", "5")]
    ) == {"metadata": {"key": "v"}, "expand": ["a", "b"], "amount": "5"}


def test_the_standin_runs_standalone():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.standins.stripe", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert "Stripe stand-in on" in process.stdout.readline()
        standin = StripeStandin()  # only for its default key
        status, balance, _ = call(standin, "GET", "/v1/balance", url=f"http://127.0.0.1:{port}")
        assert (status, balance["object"]) == (200, "balance")
    finally:
        process.terminate()
        process.wait(timeout=10)
