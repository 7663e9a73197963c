"""A stand-in for the Stripe API: a real HTTP server, no internet, Stripe's semantics.

It answers the endpoints a Connect payout uses, shaped from Stripe's own example objects
(`stripe_fixtures.json`, from Stripe's public OpenAPI fixtures), so that the real `stripe`
library talks to it as it would to Stripe:

- ``POST/GET /v1/accounts``, ``GET/POST /v1/accounts/{id}``, ``POST /v1/account_links``,
  ``POST /v1/accounts/{id}/login_links``, ``GET /v1/balance``, ``POST/GET /v1/transfers``
  (the list filtered by ``destination`` and ``transfer_group``, newest first, paged with
  ``limit``, ``starting_after`` and ``has_more``), ``GET /v1/transfers/{id}``,
  ``POST/GET /v1/transfers/{id}/reversals`` (a reversal, all or part, sends
  ``transfer.reversed``);
- a transfer pays into the connected account as a destination payment (``py_...``, a Charge
  on that account) with its balance transaction, converted to the account's
  ``default_currency`` at `exchange_rates` when it differs. Like every object of a connected
  account they are found only with its ``Stripe-Account`` header: ``GET /v1/charges/{id}``
  (``expand[]=balance_transaction``), ``GET /v1/balance_transactions/{id}``, and
  ``GET /v1/balance`` gives that account's balance;
- a secret key as ``Authorization: Bearer`` (401 otherwise);
- ``Idempotency-Key`` on POST: the same key with the same parameters answers the first answer
  again (status and body, with ``Idempotent-Replayed: true`` and ``Original-Request``); other
  parameters get 400 ``idempotency_error``; a key whose request is still running gets 409.
  As Stripe documents, an answer is kept once the endpoint started executing, refusals
  included (an insufficient balance stays the answer for that key); requests refused before
  that (invalid parameters, rate limited, a 409) are not kept and may be sent again.
  Keys are kept for `idempotency_window` seconds (24 hours), or until `forget_keys()`;
- errors ``{"error": {"type", "code", "message", "param"}}``;
- a fake hosted onboarding page at the URL an Account Link gives, which completes the account
  and sends the browser to the link's ``return_url``;
- events (`account.updated`, `transfer.created`) recorded in `events`, and delivered signed
  to `webhook_url` when one is set; `sign()` signs a payload the way Stripe does.

Knobs for fault tests, each for the next `n` requests matching `method` and `path` (a prefix):
`fail_next` (answer 429 or a 5xx before doing anything), `delay_next` (sleep first, so the
client times out while the request is still carried out), `lose_next` (carry the request
out, then close the connection without an answer). And the world: `set_balance`,
`add_account(ready=...)`, `complete_onboarding`, `restrict_account`, `set_exchange_rate`,
`reverse_transfer`, `fail_payout` and `pay_out` (a connected account's payout to its bank,
sending ``payout.failed`` / ``payout.paid`` with the event's ``account``).

In tests: the `stripe_standin` fixture (tests/conftest.py). Standalone:
``python -m tests.standins.stripe --port 12111`` (see ``--help``); `make run STRIPE=standin`
serves it with ``--demo --webhook-url http://127.0.0.1:8000/webhooks/stripe/`` (`DemoStandin`).
"""

import argparse
import contextlib
import copy
import hashlib
import hmac
import html
import json
import secrets
import string
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FIXTURES = json.loads((Path(__file__).with_name("stripe_fixtures.json")).read_text())["resources"]
DEFAULT_SECRET_KEY = "sk_test_standin"
DEFAULT_WEBHOOK_SECRET = "whsec_standin"
IDEMPOTENCY_WINDOW = 24 * 3600
LINK_LIFETIME = 300  # seconds an Account Link works, as Stripe's
# Currencies Stripe counts in whole units, and in thousandths; every other in hundredths.
ZERO_DECIMAL = {
    *("bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"),
    *("pyg", "rwf", "vnd", "vuv", "xaf", "xof", "xpf"),
}
THREE_DECIMAL = {"bhd", "jod", "kwd", "omr", "tnd"}
# What a transfer converts at into an account of another currency (1 unit of the first = rate
# units of the second), unless `set_exchange_rate` says otherwise; else 1.
EXCHANGE_RATES = {
    ("usd", "eur"): 0.92502,
    ("eur", "usd"): 1.08106,
    ("usd", "gbp"): 0.78931,
    ("usd", "kes"): 129.2,
    ("usd", "jpy"): 151.37,
}


def stripe_places(currency: str) -> int:
    currency = currency.lower()
    return 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2


def new_id(prefix: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(24))


def sign(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header Stripe sends with a webhook: `t=<unix time>,v1=<hex
    HMAC-SHA256 of "<t>.<payload>" keyed with the endpoint's secret>`."""
    if isinstance(payload, str):
        payload = payload.encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def parse_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding back into nested values: `metadata[key]=v` is a dict,
    `expand[0]=a` a list."""
    params: dict[str, Any] = {}
    for name, value in pairs:
        head, _, rest = name.partition("[")
        path = [head, *(part.rstrip("]") for part in rest.split("[") if rest)] if rest else [head]
        node = params
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return _lists(params)


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        if value and all(key.isdigit() for key in value):
            return [_lists(value[key]) for key in sorted(value, key=int)]
        return {key: _lists(item) for key, item in value.items()}
    return value


class StripeError(Exception):
    """An error answer. `kept`: the endpoint had started executing, so the answer is what the
    idempotency key answers from now on (Stripe keeps refusals too)."""

    def __init__(self, status, type_, message, *, code=None, param=None, kept=True):
        super().__init__(message)
        self.status, self.kept = status, kept
        self.body = {"error": {"type": type_, "code": code, "message": message, "param": param}}
        if code is None:
            del self.body["error"]["code"]
        if param is None:
            del self.body["error"]["param"]


def invalid(message, *, code="parameter_missing", param=None):
    return StripeError(400, "invalid_request_error", message, code=code, param=param, kept=False)


def missing(kind, object_id, *, param="id"):
    return StripeError(
        404,
        "invalid_request_error",
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


@dataclass
class Fault:
    kind: str  # "fail", "delay" or "lose"
    remaining: int
    method: str | None
    path: str
    status: int = 429
    seconds: float = 0.0


@dataclass
class Kept:
    """What an idempotency key answered (`status` None while its request is still running)."""

    signature: tuple
    request_id: str
    saved_at: float
    status: int | None = None
    body: bytes = b""


@dataclass
class Link:
    account: str
    return_url: str
    refresh_url: str
    expires_at: int
    used: bool = False


@dataclass
class World:
    accounts: dict[str, dict] = field(default_factory=dict)
    transfers: list[dict] = field(default_factory=list)  # in creation order
    balance: dict[str, int] = field(default_factory=dict)
    keys: dict[str, Kept] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    # Objects that live on a connected account, by account id, then by object id.
    charges: dict[str, dict[str, dict]] = field(default_factory=dict)
    balance_transactions: dict[str, dict[str, dict]] = field(default_factory=dict)
    account_balances: dict[str, dict[str, int]] = field(default_factory=dict)
    payouts: dict[str, list[dict]] = field(default_factory=dict)


class StripeStandin:
    """The stand-in's state and knobs; `start()` serves it on 127.0.0.1."""

    def __init__(
        self,
        *,
        secret_key: str = DEFAULT_SECRET_KEY,
        webhook_url: str | None = None,
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        balance: dict[str, int] | None = None,
        idempotency_window: float = IDEMPOTENCY_WINDOW,
    ):
        self.secret_key = secret_key
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.idempotency_window = idempotency_window
        self.world = World(balance=dict(balance or {"usd": 10**10, "eur": 10**10}))
        self.exchange_rates: dict[tuple[str, str], float] = dict(EXCHANGE_RATES)
        self.events: list[dict] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request received
        self.faults: list[Fault] = []
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.server: ThreadingHTTPServer | None = None

    # --- serving -------------------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1") -> "StripeStandin":
        self.server = _Server((host, port), _Handler)
        self.server.standin = self
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # wakes delayed requests
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    # --- knobs ---------------------------------------------------------------------------

    def fail_next(self, n=1, *, status=429, method=None, path="/v1/") -> None:
        """Answer the next `n` matching requests with `status` (429, 500, 503...) before doing
        anything: nothing is carried out and the key keeps nothing."""
        self._add_fault(Fault("fail", n, method, path, status=status))

    def delay_next(self, n=1, *, seconds, method=None, path="/v1/") -> None:
        """Sleep `seconds` before carrying out the next `n` matching requests: a client with a
        shorter timeout gives up, the request is still carried out (as a slow Stripe would)."""
        self._add_fault(Fault("delay", n, method, path, seconds=seconds))

    def lose_next(self, n=1, *, method=None, path="/v1/") -> None:
        """Carry out the next `n` matching requests, then close the connection unanswered."""
        self._add_fault(Fault("lose", n, method, path))

    def _add_fault(self, fault: Fault) -> None:
        with self.lock:
            self.faults.append(fault)

    def _take_faults(self, method: str, path: str) -> list[Fault]:
        taken = []
        with self.lock:
            for fault in self.faults:
                if fault.remaining <= 0 or not path.startswith(fault.path):
                    continue
                if fault.method and fault.method != method:
                    continue
                if any(t.kind == fault.kind for t in taken):
                    continue
                fault.remaining -= 1
                taken.append(fault)
            self.faults = [fault for fault in self.faults if fault.remaining > 0]
        return taken

    def forget_keys(self) -> None:
        """As if Stripe's 24-hour idempotency window had passed for every key."""
        with self.lock:
            self.world.keys = {k: v for k, v in self.world.keys.items() if v.status is None}

    def set_balance(self, currency: str, amount: int) -> None:
        with self.lock:
            self.world.balance[currency.lower()] = amount

    def add_account(self, *, ready: bool = True, **params) -> dict:
        """A connected account, onboarded (`ready`: it can receive transfers) or not."""
        with self.lock:
            account = self._account_create(params)
            if ready:
                self._onboard(account)
            return copy.deepcopy(account)

    def complete_onboarding(self, account_id: str) -> dict:
        with self.lock:
            account = self._onboard(self.world.accounts[account_id])
            self._emit("account.updated", account, account=account_id)
            return copy.deepcopy(account)

    def restrict_account(self, account_id: str, reason: str = "requirements.past_due") -> dict:
        """The account can no longer receive transfers (Stripe wants more information)."""
        with self.lock:
            account = self.world.accounts[account_id]
            account["capabilities"]["transfers"] = "inactive"
            account["payouts_enabled"] = False
            account["requirements"]["disabled_reason"] = reason
            account["requirements"]["currently_due"] = ["external_account"]
            account["requirements"]["past_due"] = ["external_account"]
            self._emit("account.updated", account, account=account_id)
            return copy.deepcopy(account)

    def set_exchange_rate(self, source: str, target: str, rate: float) -> None:
        with self.lock:
            self.exchange_rates[(source.lower(), target.lower())] = rate

    def reverse_transfer(self, transfer_id: str, amount: int | None = None) -> dict:
        """Reverse `amount` (all that is left, by default) of a transfer, as the platform
        does on Stripe's dashboard; sends `transfer.reversed`. The reversal."""
        with self.lock:
            params = {} if amount is None else {"amount": str(amount)}
            return copy.deepcopy(self._reversal_create(transfer_id, params))

    def fail_payout(
        self,
        account_id: str,
        *,
        amount: int = 1000,
        currency: str | None = None,
        code: str = "account_closed",
        message: str = "The bank account has been closed.",
    ) -> dict:
        """The connected account's bank refuses a payout: sends `payout.failed`."""
        return self._payout(
            account_id, amount, currency, status="failed", code=code, message=message
        )

    def pay_out(self, account_id: str, *, amount: int = 1000, currency: str | None = None) -> dict:
        """A payout from the connected account reaches its bank: sends `payout.paid`."""
        return self._payout(account_id, amount, currency, status="paid")

    def _payout(self, account_id, amount, currency, *, status, code=None, message=None) -> dict:
        with self.lock:
            account = self.world.accounts[account_id]
            payout = copy.deepcopy(FIXTURES["payout"])
            payout.update(
                id=new_id("po_"),
                amount=amount,
                currency=(currency or account.get("default_currency") or "usd").lower(),
                created=int(time.time()),
                arrival_date=int(time.time()),
                status=status,
                failure_code=code,
                failure_message=message,
                automatic=True,
            )
            self.world.payouts.setdefault(account_id, []).append(payout)
            self._emit(f"payout.{status}", payout, account=account_id)
            return copy.deepcopy(payout)

    def transfers(self, **filters) -> list[dict]:
        """The transfers made, oldest first, optionally those whose fields equal `filters`."""
        with self.lock:
            return [
                copy.deepcopy(t)
                for t in self.world.transfers
                if all(t.get(name) == value for name, value in filters.items())
            ]

    # --- events --------------------------------------------------------------------------

    def event(self, type_: str, data_object: dict, *, account: str | None = None) -> dict:
        """An event shaped like Stripe's, about `data_object`."""
        event = copy.deepcopy(FIXTURES["event"])
        event.update(
            id=new_id("evt_"),
            created=int(time.time()),
            type=type_,
            data={"object": copy.deepcopy(data_object)},
            request={"id": None, "idempotency_key": None},
            api_version="2025-01-01",
        )
        if account:
            event["account"] = account
        return event

    def sign(self, payload: bytes | str, secret: str | None = None, timestamp=None) -> str:
        return sign(payload, secret or self.webhook_secret, timestamp)

    def deliver(self, event: dict, url: str | None = None, secret: str | None = None) -> int:
        """POST `event` signed to a webhook endpoint; the endpoint's HTTP status."""
        payload = json.dumps(event).encode()
        request = urllib.request.Request(
            url or self.webhook_url,
            data=payload,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": self.sign(payload, secret),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    def _emit(self, type_: str, data_object: dict, *, account: str | None = None) -> None:
        event = self.event(type_, data_object, account=account)
        self.events.append(event)
        if self.webhook_url:
            threading.Thread(target=self._deliver_quietly, args=(event,), daemon=True).start()

    def _deliver_quietly(self, event: dict) -> None:
        with contextlib.suppress(OSError):  # Stripe would retry; the stand-in only records it
            self.deliver(event)

    # --- requests ------------------------------------------------------------------------

    def handle(self, method: str, path: str, params: dict, headers) -> tuple[int, dict, dict]:
        """One API request: (status, body, extra headers). May raise `_LoseAnswer`."""
        with self.lock:
            self.requests.append((method, path))
        request_id = new_id("req_")[:18]
        answer_headers = {"Request-Id": request_id}
        if not self._authorised(headers.get("Authorization", "")):
            return 401, _auth_error(), answer_headers
        faults = {fault.kind: fault for fault in self._take_faults(method, path)}
        if "fail" in faults:
            status = faults["fail"].status
            if status == 429:
                return 429, _rate_limited(), answer_headers
            return status, _server_error(), answer_headers
        key = headers.get("Idempotency-Key") if method == "POST" else None
        if key:
            signature = (method, path, params, headers.get("Stripe-Account"))
            replay = self._claim_key(key, signature, request_id)
            if replay is not None:
                status, body, extra = replay
                return status, body, {**answer_headers, **extra}
        try:
            if "delay" in faults:
                self.stopping.wait(faults["delay"].seconds)
            try:
                status, body = (
                    200,
                    self._route(method, path, params, on_account=headers.get("Stripe-Account")),
                )
            except StripeError as error:
                if key and not error.kept:
                    self._release_key(key)
                    key = None
                status, body = error.status, error.body
            if key:
                self._keep(key, status, body)
        except BaseException:
            if key:
                self._release_key(key)
            raise
        if "lose" in faults:
            raise _LoseAnswer
        if key:
            answer_headers["Idempotency-Key"] = key
        return status, body, answer_headers

    def _authorised(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        return scheme == "Bearer" and hmac.compare_digest(token.strip(), self.secret_key)

    def _claim_key(self, key, signature, request_id):
        """None when this request is to be carried out under `key`; else the answer to give."""
        now = time.time()
        with self.lock:
            kept = self.world.keys.get(key)
            if kept and kept.status is not None and now - kept.saved_at > self.idempotency_window:
                kept = None
            if kept is None:
                self.world.keys[key] = Kept(signature, request_id, now)
                return None
            if kept.signature != signature:
                return 400, _idempotency_mismatch(key), {}
            if kept.status is None:
                return 409, _key_in_use(key), {}
            replay = {"Idempotent-Replayed": "true", "Original-Request": kept.request_id}
            return kept.status, json.loads(kept.body), replay

    def _keep(self, key, status, body) -> None:
        with self.lock:
            kept = self.world.keys[key]
            kept.status, kept.body, kept.saved_at = status, json.dumps(body).encode(), time.time()

    def _release_key(self, key) -> None:
        with self.lock:
            kept = self.world.keys.get(key)
            if kept is not None and kept.status is None:
                del self.world.keys[key]

    def _route(self, method: str, path: str, params: dict, on_account: str | None = None) -> dict:
        parts = path.strip("/").split("/")
        with self.lock:
            if on_account:
                # Stripe-Account: the request is made as the connected account, and sees only
                # its objects.
                return self._route_on_account(method, parts, params, on_account, path)
            match method, parts:
                case "POST", ["v1", "accounts"]:
                    return copy.deepcopy(self._account_create(params))
                case "GET", ["v1", "accounts"]:
                    return self._list(list(self.world.accounts.values()), params, path)
                case "GET", ["v1", "accounts", account_id]:
                    return copy.deepcopy(self._account(account_id))
                case "POST", ["v1", "accounts", account_id]:
                    return copy.deepcopy(self._account_update(account_id, params))
                case "POST", ["v1", "accounts", account_id, "login_links"]:
                    return self._login_link(account_id)
                case "POST", ["v1", "account_links"]:
                    return self._account_link(params)
                case "GET", ["v1", "balance"]:
                    return self._balance()
                case "POST", ["v1", "transfers"]:
                    return copy.deepcopy(self._transfer_create(params))
                case "GET", ["v1", "transfers"]:
                    return self._transfer_list(params, path)
                case "GET", ["v1", "transfers", transfer_id]:
                    return copy.deepcopy(self._transfer(transfer_id))
                case "POST", ["v1", "transfers", transfer_id, "reversals"]:
                    return copy.deepcopy(self._reversal_create(transfer_id, params))
                case "GET", ["v1", "transfers", transfer_id, "reversals"]:
                    reversals = self._transfer(transfer_id)["reversals"]["data"]
                    return self._list(list(reversed(reversals)), params, path)
                case "GET", ["v1", "charges", charge_id]:
                    raise missing("charge", charge_id)  # charges of ours: none
                case "GET", ["v1", "balance_transactions", entry_id]:
                    raise missing("balance transaction", entry_id)
        raise _unrecognized(method, path)

    def _route_on_account(self, method, parts, params, account_id, path) -> dict:
        if account_id not in self.world.accounts:
            raise StripeError(
                403,
                "invalid_request_error",
                f"The provided key does not have access to account '{account_id}' (or that "
                "account does not exist). Application access may have been revoked.",
                code="account_invalid",
            )
        match method, parts:
            case "GET", ["v1", "charges", charge_id]:
                charge = self.world.charges.get(account_id, {}).get(charge_id)
                if charge is None:
                    raise missing("charge", charge_id)
                return self._expanded(account_id, charge, params)
            case "GET", ["v1", "balance_transactions", entry_id]:
                entry = self.world.balance_transactions.get(account_id, {}).get(entry_id)
                if entry is None:
                    raise missing("balance transaction", entry_id)
                return copy.deepcopy(entry)
            case "GET", ["v1", "balance"]:
                return self._balance(self.world.account_balances.get(account_id, {}))
        raise _unrecognized(method, "/" + "/".join(parts))

    def _expanded(self, account_id: str, charge: dict, params: dict) -> dict:
        charge = copy.deepcopy(charge)
        expand = params.get("expand") or []
        if "balance_transaction" in expand and charge.get("balance_transaction"):
            entries = self.world.balance_transactions.get(account_id, {})
            charge["balance_transaction"] = copy.deepcopy(entries[charge["balance_transaction"]])
        return charge

    def _destination_payment(self, account: dict, transfer: dict) -> str:
        """The payment a transfer makes into the connected account, in the account's
        currency at the exchange rate when it differs (Stripe converts on the way in)."""
        source = transfer["currency"]
        target = (account.get("default_currency") or source).lower()
        rate = None
        amount = transfer["amount"]
        if target != source:
            rate = self.exchange_rates.get((source, target), 1.0)
            major = Decimal(amount).scaleb(-stripe_places(source)) * Decimal(str(rate))
            amount = int(major.scaleb(stripe_places(target)).to_integral_value(ROUND_HALF_EVEN))
        now = int(time.time())
        charge_id, entry_id = new_id("py_"), new_id("txn_")
        entry = copy.deepcopy(FIXTURES["balance_transaction"])
        entry.update(
            id=entry_id,
            amount=amount,
            net=amount,
            fee=0,
            fee_details=[],
            currency=target,
            exchange_rate=rate,
            created=now,
            available_on=now,
            description=None,
            source=charge_id,
            type="payment",
            reporting_category="charge",
        )
        charge = {
            "id": charge_id,
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": 0,
            "balance_transaction": entry_id,
            "captured": True,
            "created": now,
            "currency": target,
            "description": None,
            "livemode": False,
            "metadata": {},
            "paid": True,
            "refunded": False,
            "refunds": {
                "object": "list",
                "data": [],
                "has_more": False,
                "url": f"/v1/charges/{charge_id}/refunds",
            },
            "source_transfer": transfer["id"],
            "status": "succeeded",
            "transfer_group": None,
        }
        account_id = account["id"]
        self.world.charges.setdefault(account_id, {})[charge_id] = charge
        self.world.balance_transactions.setdefault(account_id, {})[entry_id] = entry
        balances = self.world.account_balances.setdefault(account_id, {})
        balances[target] = balances.get(target, 0) + amount
        return charge_id

    def _reversal_create(self, transfer_id: str, params: dict) -> dict:
        transfer = self._transfer(transfer_id)
        left = transfer["amount"] - transfer["amount_reversed"]
        amount_text = params.get("amount")
        if amount_text is None:
            amount = left
        elif not str(amount_text).isdigit() or int(amount_text) < 1:
            raise invalid(
                "Invalid positive integer", code="parameter_invalid_integer", param="amount"
            )
        else:
            amount = int(amount_text)
        if amount < 1 or amount > left:
            raise StripeError(
                400,
                "invalid_request_error",
                f"Transfer {transfer_id} has only {left} left to reverse; you asked {amount}.",
                code="parameter_invalid_integer",
                param="amount",
            )
        reversal = copy.deepcopy(FIXTURES["transfer_reversal"])
        reversal.update(
            id=new_id("trr_"),
            amount=amount,
            currency=transfer["currency"],
            created=int(time.time()),
            transfer=transfer_id,
            metadata=params.get("metadata", {}),
            balance_transaction=new_id("txn_"),
        )
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
        transfer["reversals"]["data"].append(reversal)
        transfer["reversals"]["total_count"] = len(transfer["reversals"]["data"])
        currency = transfer["currency"]
        self.world.balance[currency] = self.world.balance.get(currency, 0) + amount
        self._emit("transfer.reversed", transfer)
        return reversal

    # --- accounts ------------------------------------------------------------------------

    def _account(self, account_id: str) -> dict:
        try:
            return self.world.accounts[account_id]
        except KeyError:
            raise missing("account", account_id, param="account") from None

    def _account_create(self, params: dict) -> dict:
        account = copy.deepcopy(FIXTURES["account"])
        account_id = "acct_" + new_id("")[:16]
        requested = params.get("capabilities") or {"transfers": {"requested": "true"}}
        controller = params.get("controller") or {}
        account.update(
            id=account_id,
            created=int(time.time()),
            country=params.get("country", "US"),
            email=params.get("email"),
            type=params.get("type") or ("express" if controller else "custom"),
            metadata=params.get("metadata", {}),
            capabilities={name: "inactive" for name in requested},
            controller={"type": "application", **controller}
            if controller
            else account["controller"],
        )
        if "default_currency" in params:
            account["default_currency"] = params["default_currency"]
        # Stripe's `full` agreement unless the recipient one is asked for (cross-border).
        agreement = (params.get("tos_acceptance") or {}).get("service_agreement") or "full"
        if agreement not in ("full", "recipient"):
            raise invalid(
                f"Invalid service_agreement: {agreement}",
                code="parameter_invalid_string",
                param="tos_acceptance[service_agreement]",
            )
        account["tos_acceptance"] = {**account["tos_acceptance"], "service_agreement": agreement}
        account["external_accounts"]["url"] = f"/v1/accounts/{account_id}/external_accounts"
        self.world.accounts[account_id] = account
        return account

    def _account_update(self, account_id: str, params: dict) -> dict:
        account = self._account(account_id)
        if "email" in params:
            account["email"] = params["email"]
        account["metadata"].update(params.get("metadata", {}))
        return account

    def _onboard(self, account: dict) -> dict:
        account["capabilities"] = dict.fromkeys(account["capabilities"] or {"transfers"}, "active")
        account["capabilities"].setdefault("transfers", "active")
        account.update(charges_enabled=True, payouts_enabled=True, details_submitted=True)
        account["requirements"].update(
            currently_due=[], eventually_due=[], past_due=[], disabled_reason=None
        )
        account["external_accounts"]["data"] = [
            {"id": new_id("ba_"), "object": "bank_account", "last4": "6789", "status": "new"}
        ]
        return account

    def _account_link(self, params: dict) -> dict:
        for name in ("account", "type"):
            if not params.get(name):
                raise invalid(f"Missing required param: {name}.", param=name)
        if params["type"] not in ("account_onboarding", "account_update"):
            raise invalid("Invalid type.", code="parameter_invalid_empty", param="type")
        self._account(params["account"])
        if not params.get("return_url") or not params.get("refresh_url"):
            name = "return_url" if not params.get("return_url") else "refresh_url"
            raise invalid(f"Missing required param: {name}.", param=name)
        now = int(time.time())
        token = secrets.token_urlsafe(12)
        self.world.links[token] = Link(
            params["account"], params["return_url"], params["refresh_url"], now + LINK_LIFETIME
        )
        link = copy.deepcopy(FIXTURES["account_link"])
        link.update(created=now, expires_at=now + LINK_LIFETIME, url=f"{self.url}/setup/{token}")
        return link

    def _login_link(self, account_id: str) -> dict:
        self._account(account_id)
        link = copy.deepcopy(FIXTURES["login_link"])
        link.update(created=int(time.time()), url=f"{self.url}/express/{account_id}")
        return link

    # --- money ---------------------------------------------------------------------------

    def _balance(self, funds: dict[str, int] | None = None) -> dict:
        funds = self.world.balance if funds is None else funds
        balance = copy.deepcopy(FIXTURES["balance"])
        currencies = sorted(funds)
        balance["available"] = [
            {"amount": funds[c], "currency": c, "source_types": {"card": 0}} for c in currencies
        ]
        balance["pending"] = [
            {"amount": 0, "currency": c, "source_types": {"card": 0}} for c in currencies
        ]
        balance["connect_reserved"] = [{"amount": 0, "currency": c} for c in currencies]
        return balance

    def _transfer_create(self, params: dict) -> dict:
        for name in ("amount", "currency", "destination"):
            if not params.get(name):
                raise invalid(f"Missing required param: {name}.", param=name)
        amount_text, currency = params["amount"], params["currency"]
        if not amount_text.isdigit() or int(amount_text) < 1:
            raise invalid(
                "Invalid positive integer", code="parameter_invalid_integer", param="amount"
            )
        if len(currency) != 3 or currency != currency.lower() or not currency.isalpha():
            raise invalid(
                f"Invalid currency: {currency}.", code="invalid_currency", param="currency"
            )
        amount = int(amount_text)
        account = self.world.accounts.get(params["destination"])
        if account is None:
            raise StripeError(
                400,
                "invalid_request_error",
                f"No such destination: '{params['destination']}'",
                code="resource_missing",
                param="destination",
            )
        if account["capabilities"].get("transfers") != "active":
            raise StripeError(
                400,
                "invalid_request_error",
                "Your destination account needs to have at least one of the following "
                "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                code="insufficient_capabilities_for_transfer",
                param="destination",
            )
        if self.world.balance.get(currency, 0) < amount:
            raise StripeError(
                400,
                "invalid_request_error",
                "You have insufficient available funds in your Stripe account. Try adding "
                "funds directly to your available balance by creating Top-ups.",
                code="balance_insufficient",
            )
        self.world.balance[currency] -= amount
        transfer = copy.deepcopy(FIXTURES["transfer"])
        transfer_id = new_id("tr_")
        transfer.update(
            id=transfer_id,
            amount=amount,
            currency=currency,
            created=int(time.time()),
            destination=account["id"],
            balance_transaction=new_id("txn_"),
            description=params.get("description"),
            metadata=params.get("metadata", {}),
            transfer_group=params.get("transfer_group"),
        )
        transfer["reversals"]["url"] = f"/v1/transfers/{transfer_id}/reversals"
        transfer["destination_payment"] = self._destination_payment(account, transfer)
        self.world.transfers.append(transfer)
        self._emit("transfer.created", transfer)
        return transfer

    def _transfer(self, transfer_id: str) -> dict:
        for transfer in self.world.transfers:
            if transfer["id"] == transfer_id:
                return transfer
        raise missing("transfer", transfer_id)

    def _transfer_list(self, params: dict, path: str) -> dict:
        found = [
            transfer
            for transfer in reversed(self.world.transfers)  # newest first, as Stripe lists
            if all(
                params.get(name) in (None, transfer[name])
                for name in ("destination", "transfer_group")
            )
        ]
        return self._list(found, params, path)

    def _list(self, objects: list[dict], params: dict, path: str) -> dict:
        try:
            limit = int(params.get("limit", 10))
        except ValueError:
            raise invalid(
                "Invalid integer", code="parameter_invalid_integer", param="limit"
            ) from None
        if not 1 <= limit <= 100:
            raise invalid(
                "This value must be between 1 and 100.",
                code="parameter_invalid_integer",
                param="limit",
            )
        after = params.get("starting_after")
        if after:
            ids = [item["id"] for item in objects]
            if after not in ids:
                raise missing("object", after, param="starting_after")
            objects = objects[ids.index(after) + 1 :]
        return {
            "object": "list",
            "data": copy.deepcopy(objects[:limit]),
            "has_more": len(objects) > limit,
            "url": path,
        }

    # --- the fake hosted onboarding ------------------------------------------------------

    def onboarding(self, method: str, token: str) -> tuple[int, dict, bytes]:
        """Stripe's hosted onboarding, faked: a page with one button that completes the
        account, then the browser goes to the link's return_url. A used or expired link
        sends it to refresh_url, as Stripe's do."""
        with self.lock:
            link = self.world.links.get(token)
            if link is None:
                return 404, {"Content-Type": "text/plain"}, b"No such account link."
            if link.used or link.expires_at < time.time():
                return 303, {"Location": link.refresh_url}, b""
            if method == "POST":
                link.used = True
                self.complete_onboarding(link.account)
                return 303, {"Location": link.return_url}, b""
        page = ONBOARDING_PAGE.format(account=html.escape(link.account), action=f"/setup/{token}")
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()


ONBOARDING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stripe (stand-in): set up payouts</title></head>
<body><main><h1>Set up payouts</h1>
<p>This is the test stand-in for Stripe's hosted onboarding of account {account}.</p>
<form method="post" action="{action}"><button type="submit">Complete onboarding</button></form>
</main></body></html>
"""


def _unrecognized(method: str, path: str) -> StripeError:
    return StripeError(
        404,
        "invalid_request_error",
        f"Unrecognized request URL ({method}: {path}).",
        kept=False,
    )


def _auth_error() -> dict:
    return {
        "error": {
            "type": "invalid_request_error",
            "message": "Invalid API Key provided: a secret key (sk_...) is required.",
        }
    }


def _rate_limited() -> dict:
    return {
        "error": {
            "type": "invalid_request_error",
            "code": "rate_limit",
            "message": "Request rate limit exceeded. Learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
        }
    }


def _server_error() -> dict:
    return {"error": {"type": "api_error", "message": "An unknown error occurred."}}


def _idempotency_mismatch(key: str) -> dict:
    return {
        "error": {
            "type": "idempotency_error",
            "message": "Keys for idempotent requests can only be used with the same parameters "
            f"they were first used with. Try using a key other than '{key}' if you meant to "
            "execute a different request.",
        }
    }


def _key_in_use(key: str) -> dict:
    return {
        "error": {
            "type": "invalid_request_error",
            "code": "idempotency_key_in_use",
            "message": "There is currently another in-progress request using this Idempotent "
            f"Key (that probably means you submitted twice, and the other request is still "
            f"going through): {key}. Please try again later.",
        }
    }


class _LoseAnswer(Exception):
    """The request was carried out; its answer is never sent."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: StripeStandin

    def handle_error(self, request, client_address) -> None:
        pass  # a client that gave up (timeout) and closed its end is expected here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        standin = self.server.standin
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if url.path.startswith("/setup/"):
            status, headers, content = standin.onboarding(method, url.path.removeprefix("/setup/"))
            return self._answer(status, headers, content)
        pairs = parse_qsl(url.query, keep_blank_values=True)
        if method == "POST":
            pairs += parse_qsl(body, keep_blank_values=True)
        try:
            status, answer, headers = standin.handle(
                method, url.path, parse_params(pairs), self.headers
            )
        except _LoseAnswer:
            self.close_connection = True
            return None
        content = json.dumps(answer, indent=2).encode()
        headers = {"Content-Type": "application/json", "Stripe-Version": "2025-01-01", **headers}
        if status >= 500:
            headers["Stripe-Should-Retry"] = "true"
        return self._answer(status, headers, content)

    def _answer(self, status: int, headers: dict, content: bytes) -> None:
        self.send_response(status, HTTPStatus(status).phrase)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format, *args) -> None:
        pass


class DemoStandin(StripeStandin):
    """The stand-in as `make run STRIPE=standin` serves it (`--demo`). It forgets everything
    when it stops; the demo's database does not. So a connected account's id is derived from
    what it is created with (country, email, metadata: the nonprofit's id), and a nonprofit
    whose account is created again after a restart gets the same id back (a second account
    created with the same values in one run gets a new id, as on Stripe). And an account can
    be paid as soon as it is created: the demo's seeded nonprofits have nobody to click
    through Stripe's pages (a contact who sets up payouts still goes through the fake hosted
    page, which completes it again and sends `account.updated`). Every webhook delivery is
    printed with the endpoint's answer."""

    def _account_create(self, params: dict) -> dict:
        account = super()._account_create(params)
        made_of = [params.get("country"), params.get("email"), params.get("metadata")]
        digest = hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()
        stable = f"acct_{digest[:16]}"
        if stable not in self.world.accounts:
            del self.world.accounts[account["id"]]
            account["id"] = stable
            account["external_accounts"]["url"] = f"/v1/accounts/{stable}/external_accounts"
            self.world.accounts[stable] = account
        return self._onboard(account)

    def _deliver_quietly(self, event: dict) -> None:
        try:
            answer = f"HTTP {self.deliver(event)}"
        except OSError as error:  # the app not up yet: Stripe would retry, the demo only says so
            answer = f"not delivered ({error})"
        print(f"webhook {event['type']} {event['id']} -> {self.webhook_url}: {answer}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.standins.stripe", description="Serve the Stripe API stand-in."
    )
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--secret-key", default=DEFAULT_SECRET_KEY)
    parser.add_argument(
        "--webhook-url",
        help="where to POST signed events (account.updated, transfer.created), if anywhere; "
        "e.g. http://127.0.0.1:8000/webhooks/stripe/",
    )
    parser.add_argument("--webhook-secret", default=DEFAULT_WEBHOOK_SECRET)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="for `make run STRIPE=standin`: connected accounts can be paid as soon as they "
        "are created and keep their ids across restarts; webhook deliveries are printed",
    )
    args = parser.parse_args(argv)
    standin = (DemoStandin if args.demo else StripeStandin)(
        secret_key=args.secret_key,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
    ).start(port=args.port, host=args.host)
    print(f"Stripe stand-in on {standin.url} (secret key {args.secret_key})", flush=True)
    if args.webhook_url:
        print(f"  delivering signed webhook events to {args.webhook_url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
