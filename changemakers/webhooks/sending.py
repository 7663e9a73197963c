"""One signed POST to a partner's endpoint, and the checks that keep it from reaching anything
but the public internet.

- The address must be https:// (http:// only where WEBHOOK_ALLOW_HTTP, in development) with no
  user name or password in it.
- Its host must resolve to public addresses only (unless WEBHOOK_ALLOW_PRIVATE): loopback,
  private, link-local (cloud metadata), reserved and multicast ranges are refused, IPv4 written
  inside IPv6 too. The request then goes to the address that was checked, not to a second
  lookup's answer, so a name that changes its answer between the two cannot slip past.
- Redirects are not followed (a 3xx is a failed attempt), each wait is bounded by
  WEBHOOK_TIMEOUT, and only the first RESPONSE_KEEP characters of the answer are read.

The signature is Standard Webhooks' (`standardwebhooks.Webhook.sign`): `webhook-id`,
`webhook-timestamp` and `webhook-signature` headers over "id.timestamp.body".
"""

import datetime
import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

RESPONSE_KEEP = 1000
USER_AGENT = "ChangeMakers-Webhooks/1"


class UnsafeDestination(ValueError):
    """The address may not be posted to; the message says why, for staff."""


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    response_body: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def url_check(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an address endpoints may have, or
    UnsafeDestination."""
    parts = urlsplit(url)
    allowed = ("https", "http") if settings.WEBHOOK_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeDestination(_("The address must start with https://."))
    if parts.username or parts.password:
        raise UnsafeDestination(_("The address may not hold a user name or password."))
    if not parts.hostname:
        raise UnsafeDestination(_("The address has no host name."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeDestination(_("The address's port is not a number.")) from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, path


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def addresses_check(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, all of them public (or WEBHOOK_ALLOW_PRIVATE);
    UnsafeDestination otherwise, or when it does not resolve."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeDestination(_("%(host)s could not be found (DNS).") % {"host": host}) from None
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        private = [address for address in addresses if not _public(address)]
        if private:
            raise UnsafeDestination(
                _("%(host)s leads to a private or reserved address (%(address)s).")
                % {"host": host, "address": private[0]}
            )
    return addresses


def destination_check(url: str) -> None:
    """Refuse an address no delivery may go to (checked when staff register it, and again
    before every attempt)."""
    _scheme, host, port, _path = url_check(url)
    addresses_check(host, port)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to the address that was checked; the Host header names the host."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the address that was checked, the certificate verified for the host name."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def signed_headers(
    *, secret: str, message_id: str, payload: str, timestamp: datetime.datetime
) -> dict[str, str]:
    # `sign` takes the timestamp as UTC whatever its zone says: give it UTC.
    utc = timestamp.astimezone(datetime.UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(utc.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, utc, payload),
    }


def post_signed(
    *, url: str, secret: str, message_id: str, payload: str, timestamp: datetime.datetime
) -> Outcome:
    """POST `payload` to `url`, signed. Never raises for what the network or the endpoint
    does: the outcome says it."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        scheme, host, port, path = url_check(url)
        address = addresses_check(host, port)[0]
    except UnsafeDestination as refusal:
        return Outcome(status_code=None, duration_ms=took(), error=str(refusal)[:300])
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address=address, timeout=settings.WEBHOOK_TIMEOUT)
    body = payload.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signed_headers(
            secret=secret, message_id=message_id, payload=payload, timestamp=timestamp
        ),
    }
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        excerpt = response.read(RESPONSE_KEEP * 4).decode("utf-8", "replace")[:RESPONSE_KEEP]
        return Outcome(status_code=response.status, duration_ms=took(), response_body=excerpt)
    except TimeoutError:
        return Outcome(status_code=None, duration_ms=took(), error=_("Timed out."))
    except (OSError, http.client.HTTPException) as error:
        message = str(error) or type(error).__name__
        return Outcome(status_code=None, duration_ms=took(), error=message[:300])
    finally:
        connection.close()
