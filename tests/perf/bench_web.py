"""Web benchmark: the key pages of a large program, served by gunicorn, driven by wrk.

    python -m tests.perf.bench_web [--duration S] [--connections C] [--workers W] [--reuse]

or `make bench-web`. It drops and recreates a dedicated PostgreSQL database (default
postgres://postgres@127.0.0.1:5432/changemakers_web_bench), migrates it, seeds a large program
(tests/perf/web_seed.py: 10,000 creators, 100,000 milestones, 20,000 grants), collects the
static files, flushes a dedicated Redis database (default redis://127.0.0.1:6379/4: the cache
and the sessions of the signed-in people) and starts gunicorn on a free port of 127.0.0.1 with
production settings (DEBUG off; only the HTTPS redirect is off, as behind a proxy that ends
TLS). It signs staff, a creator and a nonprofit contact in through the sign-in form, checks
that each page answers its person with 200 and the page itself, then drives each page with wrk
for a fixed time and prints requests per second, p50/p95/p99 latency, the ratio to a trivial
view (`/healthz/live`, no database, no template) and whether the goals are met: at least a
third of the trivial view's rate and p95 under 150 ms. Any answer other than 2xx fails the run.

Only 127.0.0.1 is ever asked; every run stops by itself after about (pages x duration).
`--reuse` skips the drop, migration and seed when the database holds a seeded program.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from tests.perf.bench_disburse import BASE_DIR, BenchError, flush_redis, recreate_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/changemakers_web_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/4"
LUA = Path(__file__).with_name("bench_web.lua")
HOST = "127.0.0.1"
# (label, who signs in, URL name, a text the page must show)
PAGES = [
    ("trivial view", None, "healthz-live", "ok"),
    ("public list", None, "creators:list", "Bench Creator"),
    ("creator portal home", "creator", "programs:portal", "Bench cohort"),
    ("staff dashboard", "staff", "backoffice:dashboard", "Bench"),
    ("grant pipeline", "staff", "donations:grant-list", "Bench Nonprofit"),
    ("nonprofit status", "nonprofit", "nonprofit:grant-list", "Bench Creator"),
]
GOAL_RATIO = 1 / 3
GOAL_P95_MS = 150


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.perf.bench_web", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per page (10)")
    parser.add_argument("--connections", type=int, default=8, help="open connections (8)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--worker-class", default="sync", choices=["sync", "gthread"], help="(sync)"
    )
    parser.add_argument("--reuse", action="store_true", help="keep a seeded database")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_WEB_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_WEB_REDIS_URL", DEFAULT_REDIS_URL)
    )
    args = parser.parse_args(argv)
    if min(args.duration, args.connections, args.threads, args.workers) < 1:
        parser.error("--duration, --connections, --threads and --workers must be at least 1")
    return args


def bench_environment(args: argparse.Namespace) -> dict[str, str]:
    """Production settings, as gunicorn gets them; the secret key is a throwaway."""
    return {
        "DJANGO_SETTINGS_MODULE": "changemakers.settings.base",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-web-only-throwaway-secret-key-never-used-anywhere-0123456789",
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "PYTHONUNBUFFERED": "1",
    }


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise BenchError("wrk is not installed: apt-get install wrk (make bench-web does it).")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# --- Seed --------------------------------------------------------------------------------------


def prepare_database(args: argparse.Namespace) -> str:
    from django.core.management import call_command

    from creators.models import Creator

    if args.reuse:
        try:
            if Creator.objects.filter(handle__startswith="bench.creator").count() >= 10_000:
                return "reused the seeded database"
        except Exception:
            pass
    from django.db import connections

    connections.close_all()
    server = recreate_database(args.database_url)
    call_command("migrate", verbosity=0)
    from tests.perf.web_seed import seed

    started = time.monotonic()
    seeded = seed()
    took = time.monotonic() - started
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return (
        f"{server}; seeded in {took:.0f} s: {seeded.creators:,} creators, "
        f"{seeded.milestones:,} milestones, {seeded.grants:,} grants, "
        f"{seeded.list_entries:,} list entries, {seeded.audit_events:,} audit events"
    )


# --- Server ------------------------------------------------------------------------------------


class Gunicorn:
    def __init__(self, args: argparse.Namespace, env: dict[str, str]):
        self.port = free_port()
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in stop()
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "changemakers.wsgi",
            f"--bind={HOST}:{self.port}",
            f"--workers={args.workers}",
            f"--worker-class={args.worker_class}",
            "--backlog=2048",
            "--log-level=warning",
        ]
        if args.worker_class == "gthread":
            command.append("--threads=4")
        self.process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited:\n{self.log_tail()}")
            try:
                if get(self.port, "/healthz/live")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"gunicorn did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()

    def log_tail(self, lines: int = 30) -> str:
        self.log.seek(0)
        return "\n".join(self.log.read().strip().splitlines()[-lines:]) or "(no output)"


# --- HTTP, as a browser would ------------------------------------------------------------------


def get(port: int, path: str, cookie: str = "") -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        return response.status, _headers(response), response.read().decode(errors="replace")
    finally:
        connection.close()


def _headers(response: http.client.HTTPResponse) -> dict[str, str]:
    headers = {key.lower(): value for key, value in response.getheaders()}
    headers["set-cookie"] = "; ".join(response.headers.get_all("Set-Cookie") or [])
    return headers


def _cookie(headers: dict[str, str], name: str) -> str:
    match = re.search(rf"{name}=([^;]+)", headers.get("set-cookie", ""))
    if not match:
        raise BenchError(f"the server set no {name} cookie")
    return match.group(1)


def sign_in(port: int, username: str, password: str) -> str:
    """Through the sign-in form, as a browser: returns the Cookie header of the session."""
    from django.conf import settings

    _, headers, page = get(port, "/accounts/login/")
    csrf = _cookie(headers, settings.CSRF_COOKIE_NAME)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request(
            "POST",
            "/accounts/login/",
            body=urlencode(
                {"username": username, "password": password, "csrfmiddlewaretoken": token}
            ),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"{settings.CSRF_COOKIE_NAME}={csrf}",
            },
        )
        response = connection.getresponse()
        response.read()
        if response.status != 302:
            raise BenchError(f"signing in {username} answered {response.status}, not 302")
        session = _cookie(_headers(response), settings.SESSION_COOKIE_NAME)
    finally:
        connection.close()
    return f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf}"


# --- Load --------------------------------------------------------------------------------------


def drive(args: argparse.Namespace, port: int, path: str, cookie: str) -> dict:
    command = [
        wrk_path(),
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={args.duration}s",
        "--timeout=10s",
        f"--script={LUA}",
        f"http://{HOST}:{port}{path}",
    ]
    result = subprocess.run(
        command,
        env={**os.environ, "BENCH_COOKIE": cookie, "BENCH_HOST": HOST},
        capture_output=True,
        text=True,
        timeout=args.duration + 60,
        check=False,
    )
    line = next(
        (line for line in result.stdout.splitlines() if line.startswith("BENCH_RESULT ")), None
    )
    if result.returncode != 0 or line is None:
        raise BenchError(f"wrk failed on {path}:\n{result.stdout}\n{result.stderr}")
    return json.loads(line.removeprefix("BENCH_RESULT "))


def queries_of(path: str, username: str | None) -> int:
    """The page's database queries, in-process through the test client (same settings)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    if username:
        client.force_login(get_user_model().objects.get(username=username))
    client.get(path)  # warm: the first request fills the cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    if response.status_code != 200:
        raise BenchError(f"{path} answered {response.status_code} in-process")
    return len(queries)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    env = bench_environment(args)
    os.environ.update(env)
    signal.signal(signal.SIGTERM, _interrupt)
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.core.management import call_command
    from django.urls import reverse

    from tests.perf.web_seed import PASSWORD, PEOPLE

    server = None
    try:
        wrk_path()
        print(f"bench-web: {prepare_database(args)}", flush=True)
        print(f"bench-web: {flush_redis(args.redis_url)}", flush=True)
        call_command("collectstatic", "--noinput", verbosity=0)
        server = Gunicorn(args, env)
        server.wait_ready()
        cookies = {None: ""}
        for role, username in PEOPLE.items():
            cookies[role] = sign_in(server.port, username, PASSWORD)
        print(
            f"bench-web: gunicorn {args.workers} {args.worker_class} workers on "
            f"{HOST}:{server.port}; wrk {args.threads} threads, {args.connections} connections, "
            f"{args.duration} s a page; {os.cpu_count()} CPUs",
            flush=True,
        )

        results = []
        for label, role, name, marker in PAGES:
            path = reverse(name)
            status, headers, page = get(server.port, path, cookies[role])
            if status == 302 and headers["location"].startswith("/"):
                # The list's address sends to the latest edition's: measure that page.
                path = headers["location"]
                status, headers, page = get(server.port, path, cookies[role])
            if status != 200 or marker not in page:
                raise BenchError(
                    f"{label} ({path}) as {role or 'anonymous'}: {status}, "
                    f"{'with' if marker in page else 'without'} {marker!r}: not the page"
                )
            measured = drive(args, server.port, path, cookies[role])
            if measured["non_2xx_3xx"] or measured["socket_errors"]:
                raise BenchError(f"{label}: errors under load: {measured}")
            measured["queries"] = queries_of(path, PEOPLE.get(role))
            results.append((label, path, measured))
            print(
                f"  {label:<20} {measured['rps']:>8.0f} req/s  p50 {measured['p50_ms']:6.1f} ms  "
                f"p95 {measured['p95_ms']:6.1f} ms",
                flush=True,
            )
        return report(results)
    except BenchError as error:
        print(f"bench-web: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench-web: interrupted", file=sys.stderr)
        return 130
    finally:
        if server is not None:
            server.stop()


def report(results: list[tuple[str, str, dict]]) -> int:
    trivial = results[0][2]["rps"]
    print()
    print("| page | path | req/s | p50 ms | p95 ms | p99 ms | vs trivial | queries | goals |")
    print("|---|---|---|---|---|---|---|---|---|")
    missed = 0
    for label, path, m in results:
        ratio = m["rps"] / trivial
        met = label == "trivial view" or (ratio >= GOAL_RATIO and m["p95_ms"] < GOAL_P95_MS)
        missed += not met
        print(
            f"| {label} | `{path}` | {m['rps']:,.0f} | {m['p50_ms']:.1f} | {m['p95_ms']:.1f} | "
            f"{m['p99_ms']:.1f} | {ratio:.2f} | {m['queries']} | {'met' if met else 'MISSED'} |"
        )
    print(
        f"\nGoals: each page at least {GOAL_RATIO:.2f} of the trivial view's rate and "
        f"p95 under {GOAL_P95_MS} ms. {len(results) - 1 - missed} of {len(results) - 1} met."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
