"""A partner's endpoint for the webhook tests: a real HTTP server (http.server in a thread) on
a free port of 127.0.0.1, recording every request it is sent and answering with the statuses
it is told to (200 by default), or not at all within a delay (a timeout)."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    url: str = ""
    requests: list[Received] = field(default_factory=list)
    # Statuses to answer with, in order; then `default`. A status of 0: hang past the timeout.
    script: list[int] = field(default_factory=list)
    default: int = 200
    hang: float = 2.0
    redirect_to: str = ""

    def answer(self) -> int:
        return self.script.pop(0) if self.script else self.default


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length).decode()
        self.receiver.requests.append(
            Received(path=self.path, headers=dict(self.headers.items()), body=body)
        )
        status = self.receiver.answer()
        if status == 0:
            time.sleep(self.receiver.hang)
            status = 200
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", self.receiver.redirect_to or "/elsewhere")
        reply = b"ok" if status < 300 else b"x" * 5000  # a long error page: kept short
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format, *args) -> None:  # quiet
        pass


@contextmanager
def receiver_running(settings) -> Iterator[Receiver]:
    """A partner's endpoint on this machine; the settings let deliveries reach it."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_TIMEOUT = 1.0
    state = Receiver()
    handler = type("Handler", (_Handler,), {"receiver": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/changemakers"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
