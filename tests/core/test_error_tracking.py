"""The optional error tracker: events reach the DSN's server, and nothing personal does."""

import json
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from changemakers.core.error_tracking import MASK, scrub

BASE_DIR = Path(__file__).resolve().parents[2]

# The person's data arrives at run time, as it would in the app (not in the code's own lines).
SCRIPT = """
import json, os, django, sentry_sdk
django.setup()
sentry_sdk.set_user(json.loads(os.environ["TEST_USER"]))
try:
    raise ValueError(os.environ["TEST_ERROR"])
except ValueError:
    sentry_sdk.capture_exception()
sentry_sdk.flush(timeout=5)
"""


class Envelopes(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        elif encoding == "br":  # the SDK compresses with Brotli when it is installed
            import brotli

            body = brotli.decompress(body)
        Envelopes.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_an_error_reaches_the_tracker_without_personal_data():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Envelopes)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Envelopes.received = []
    try:
        subprocess.run(
            [sys.executable, "-c", SCRIPT],
            cwd=BASE_DIR,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "changemakers.settings.test",
                "DJANGO_SENTRY_DSN": f"http://publickey@127.0.0.1:{server.server_port}/1",
                "TEST_USER": json.dumps(
                    {"id": 7, "email": "joel@example.org", "ip_address": "198.51.100.7"}
                ),
                "TEST_ERROR": "payout to joel@example.org failed",
            },
            check=True,
            timeout=240,
        )
    finally:
        server.shutdown()
    assert Envelopes.received, "nothing reached the tracker"
    text = b"\n".join(Envelopes.received).decode()
    assert "ValueError" in text
    assert "joel@example.org" not in text, text[max(0, text.find("joel@example.org") - 300) :][:600]
    assert "198.51.100.7" not in text
    event = next(
        json.loads(line)
        for body in Envelopes.received
        for line in body.decode().splitlines()
        if '"exception"' in line
    )
    assert event["user"] == {"id": 7}


def test_requests_lose_their_body_cookies_and_credentials():
    event = {
        "request": {
            "data": {"iban": "GB33BUKB20201555555555"},
            "cookies": {"sessionid": "abc"},
            "query_string": "email=joel@example.org",
            "headers": {"Authorization": "Bearer cm_x", "User-Agent": "Firefox"},
        },
        "message": "no payout for joel@example.org",
    }
    scrubbed = scrub(event)
    request = scrubbed["request"]
    assert (request["data"], request["cookies"], request["query_string"]) == (MASK,) * 3
    assert request["headers"] == {"Authorization": MASK, "User-Agent": "Firefox"}
    assert scrubbed["message"] == f"no payout for {MASK}"
