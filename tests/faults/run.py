"""Fault tests: a disbursement batch survives Redis restarting, PostgreSQL restarting and a
worker killed with -9, and still pays every grant exactly once.

    python -m tests.faults.run [--grants N] [--scenario redis|postgres|kill-worker|stall ...]

or `make test-faults`. So as never to touch the machine's own servers (other tests may be using
them), it starts a private PostgreSQL cluster (initdb, as the `postgres` user when run as root)
and a private Redis (no persistence, like the machine's), each on a free port of 127.0.0.1, and
removes them afterwards. For each scenario it recreates the database from a migrated template,
seeds N approved grants, starts a real `celery worker` (1 x 3 prefork, production settings),
schedules the batch with `grants_schedule`, and once a quarter of it is paid injects the fault:

- redis: Redis shut down without saving and started again (~1 s): every queued and unacknowledged
  message is gone; only the database knows what is still to pay.
- postgres: PostgreSQL restarted (`pg_ctl restart -m fast`): every connection is cut mid-payment.
- kill-worker: the worker and its pool processes killed with SIGKILL mid-payment; a new worker is
  started, as a process manager would.

- stall: a small batch of its own (STALL_GRANTS grants, short limits, STALL_SETTINGS) in which
  some payees stall the provider past the worker's soft time limit after it has paid (the task
  is interrupted with the payment made but not recorded), some time out on every request
  (given up on: outcome unknown, then the provider's "no payment" confirmed), some cannot be
  reached even for lookups (unknown until the horizon, then flagged for staff), some lose the
  answer, the rest pay; while duplicate sweeps run at once (the worker's, sent every second
  besides beat's, and one in this process). Then: each grant paid at most once at the
  provider, every payment the provider made booked (nothing lost), each grant disbursed,
  failed with confirmed non-payment or unknown and flagged as its payee says, the fund's
  totals equal to its grants', every move audited.

- stripe: a batch of its own (STRIPE_GRANTS grants) paid through the Stripe provider against the
  Stripe API stand-in (tests/standins/stripe.py, served from this process, one connected
  account per nonprofit). Once a quarter is paid, Stripe misbehaves (STRIPE_FAULTS): transfers
  slower than the client's DJANGO_STRIPE_TIMEOUT (the client gives up, Stripe still makes
  them), 429 and 5xx answers to lookups and transfers, answers lost after the transfer was
  made. Then, from the stand-in's own transfers and the database: one transfer per
  disbursement's key (transfer group and idempotency metadata), for the grant's amount, to
  its nonprofit's account, none outside the batch; each disbursement succeeded with that
  transfer's id; the fund's committed and disbursed totals its grants'; every move audited.

The program heals by its own means: the sweeper (`sweep_disbursements`, sent by a real
`celery beat` every SWEEP_EVERY seconds through DJANGO_PAYOUT_SWEEP_EVERY; 60 in production)
reconciles payments the database says are unfinished and nobody has touched for
PAYOUT_STALE_AFTER seconds (here 15 instead of 900, so a run takes minutes, not quarters of an
hour). It then checks, from the database and the sandbox
provider's ledger: every grant disbursed, exactly one paid sandbox payment per idempotency key,
no payment outside the batch, references matching, the amounts granted, paid and recorded as
disbursed by the fund equal, and every state change of every grant and disbursement audited
(each one's moves chain without a gap to its current state). It prints the figures and
exits non-zero on any failure.
"""

import argparse
import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.perf.bench_disburse import BASE_DIR, BenchError, Workers, exactly_once, seed

SCENARIOS = ("redis", "postgres", "kill-worker", "stall", "stripe")
DATABASE = "changemakers_faults"
TEMPLATE = "changemakers_faults_template"
STALE_AFTER = 15
SWEEP_EVERY = 5.0
HOST = "127.0.0.1"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.faults.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--grants", type=int, default=1500, help="grants per batch (1500)")
    parser.add_argument(
        "--scenario", action="append", choices=SCENARIOS, help="one scenario (repeatable)"
    )
    parser.add_argument("--timeout", type=float, default=180, help="seconds to heal (180)")
    args = parser.parse_args(argv)
    args.scenario = args.scenario or list(SCENARIOS)
    return args


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise BenchError(f"{what} did not come up within {timeout:.0f} s")


# --- Private servers ---------------------------------------------------------------------------


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in a temporary folder, on a free port."""

    def __init__(self, root: Path):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
        initdb = found[-1] if found else shutil.which("initdb")
        if not initdb:
            raise BenchError("PostgreSQL's initdb was not found (apt-get install postgresql)")
        self.bin = Path(initdb).parent
        self.data = root / "pg"
        self.log = root / "pg.log"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0  # PostgreSQL refuses to run as root
        if self.as_postgres:
            shutil.chown(root, "postgres")
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E",
                  "UTF8")  # fmt: skip
        self.url = f"postgres://postgres@{HOST}:{self.port}/{DATABASE}"

    def _run(self, tool: str, *args) -> None:
        command = [str(self.bin / tool), *map(str, args)]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise BenchError(f"{tool} failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses={HOST} -k {self.data} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
        )
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "start")

    def restart(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-m", "fast", "-w", "restart")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(BenchError):
                self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def admin(self):
        import psycopg

        return psycopg.connect(
            host=HOST, port=self.port, user="postgres", dbname="postgres", autocommit=True
        )


def _version_key(path: str) -> float:
    try:
        return float(Path(path).parent.parent.name)
    except ValueError:
        return 0.0


class PrivateRedis:
    """A throwaway redis-server that keeps nothing on disk, like the machine's."""

    def __init__(self, root: Path):
        self.binary = shutil.which("redis-server")
        if not self.binary:
            raise BenchError("redis-server was not found (apt-get install redis-server)")
        self.port = free_port()
        self.root = root
        self.process: subprocess.Popen | None = None
        self.url = f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", HOST, "--save", "",
             "--appendonly", "no", "--dir", str(self.root)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        wait_for(self.answers, 10, "redis-server")

    def answers(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def restart(self) -> None:
        self.stop()
        self.start()

    def flush(self) -> None:
        import redis

        client = redis.Redis.from_url(self.url)
        client.flushall()
        client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # no save configured: nothing is kept
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- One scenario ------------------------------------------------------------------------------


def environment(postgres: PrivatePostgres, redis: PrivateRedis) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "changemakers.settings.base",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "faults-only-throwaway-secret-key-never-used-anywhere-else-0123456789",
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_PAYOUT_PROVIDER": "sandbox",
        "DJANGO_PAYOUT_SANDBOX_MODE": "succeed",
        "DJANGO_PAYOUT_SANDBOX_LATENCY": "0.01",
        "DJANGO_PAYOUT_STALE_AFTER": str(STALE_AFTER),
        "DJANGO_PAYOUT_SWEEP_EVERY": str(SWEEP_EVERY),
        "DATABASE_URL": postgres.url,
        "REDIS_URL": redis.url,
        "PYTHONUNBUFFERED": "1",
    }


def fresh_database(postgres: PrivatePostgres) -> None:
    from django.db import connections

    connections.close_all()
    with postgres.admin() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE} TEMPLATE {TEMPLATE}")


class Beat:
    """A real `celery beat` (the production schedule, the sweep every SWEEP_EVERY seconds through
    DJANGO_PAYOUT_SWEEP_EVERY), in its own process group; always stopped."""

    def __init__(self, env: dict[str, str], schedule: Path):
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "changemakers", "beat", "-l", "warning",
             "-s", str(schedule)],
            cwd=BASE_DIR,
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()

    def log_tail(self, lines: int = 20) -> str:
        self.log.seek(0)
        return "".join(self.log.readlines()[-lines:])


def wait_ready(workers: Workers, timeout: float = 60) -> None:
    """Ping the workers over a new broker connection each time: this process's pooled ones may
    have been cut by an earlier fault."""
    from changemakers.celery import app

    deadline = time.monotonic() + timeout
    waiting = set(workers.names)
    while waiting:
        if not workers.alive():
            raise BenchError(f"a worker exited at start:\n{workers.log_tail()}")
        if time.monotonic() > deadline:
            raise BenchError(f"workers not ready after {timeout:.0f} s:\n{workers.log_tail()}")
        with app.connection_for_write() as connection:
            replies = app.control.ping(
                destination=list(waiting), timeout=0.5, connection=connection
            )
        for reply in replies or []:
            waiting -= set(reply)


def progress(batch_id: int) -> dict[str, int]:
    from django.db import OperationalError, connection
    from django.db.models import Count

    from donations.models import Disbursement

    for _ in range(50):
        try:
            return dict(
                Disbursement.objects.filter(batch_id=batch_id)
                .values_list("status")
                .annotate(n=Count("pk"))
                .order_by()
            )
        except OperationalError:
            connection.close()  # cut by the restart: reconnect
            time.sleep(0.2)
    raise BenchError("the database did not come back")


def audit_trail(batch_id: int, fund_id: int) -> list[str]:
    """Failures unless every state change of the batch's grants and disbursements is audited:
    each one's audited moves, in order, chain from where it started to where it is now with no
    gap (a grant from proposed, or approved when seeded in bulk; a disbursement from nothing).
    And the fund has not committed more than its total nor paid more than it committed (its
    CHECK constraints forbid it; checked on the final row too)."""
    from django.contrib.contenttypes.models import ContentType

    from changemakers.core.models import AuditEvent
    from donations.models import Disbursement, Fund, Grant

    failures = []
    disbursements = dict(Disbursement.objects.filter(batch_id=batch_id).values_list("pk", "status"))
    grants = dict(Grant.objects.filter(disbursement__batch_id=batch_id).values_list("pk", "status"))
    for model, current, starts in (
        (Grant, grants, (Grant.Status.PROPOSED, Grant.Status.APPROVED)),
        (Disbursement, disbursements, ("",)),
    ):
        moves: dict[int, list[tuple[str, str]]] = {pk: [] for pk in current}
        events = (
            AuditEvent.objects.filter(
                content_type=ContentType.objects.get_for_model(model), object_id__in=current
            )
            .exclude(to_state="")
            .order_by("id")
            .values_list("object_id", "from_state", "to_state")
        )
        for object_id, from_state, to_state in events.iterator(chunk_size=5000):
            moves[object_id].append((from_state, to_state))
        broken = 0
        for pk, status in current.items():
            state = moves[pk][0][0] if moves[pk] and moves[pk][0][0] in starts else starts[0]
            for from_state, to_state in moves[pk]:
                if from_state != state:
                    broken += 1
                    break
                state = to_state
            else:
                if state != status:
                    broken += 1
        if broken:
            failures.append(
                f"{broken:,} {model._meta.verbose_name_plural} whose audit trail has a gap"
            )
    fund = Fund.objects.get(pk=fund_id)
    if not (0 <= fund.disbursed <= fund.committed <= fund.total + fund.overspent):
        failures.append(
            f"fund out of bounds: disbursed {fund.disbursed}, committed {fund.committed}, "
            f"total {fund.total}, overspent {fund.overspent}"
        )
    return failures


def run_scenario(name: str, args, postgres, redis, env) -> tuple[list[str], dict]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Max, Sum

    from donations.models import Disbursement, SandboxPayment
    from donations.services import grants_schedule

    fresh_database(postgres)
    redis.flush()  # an empty broker
    # Scheduling payments is a finance approver's: a superuser holds that permission.
    actor = get_user_model().objects.create(
        username=f"faults-{name}", is_staff=True, is_superuser=True
    )
    fund, grant_ids = seed(grants=args.grants, tag=name)
    workers = Workers(count=1, concurrency=3, pool="prefork", env=env)
    beat = None
    figures: dict = {"scenario": name, "grants": len(grant_ids)}
    try:
        workers.start()
        wait_ready(workers)
        beat = Beat(env, postgres.data.parent / f"beat-{name}")
        started = time.monotonic()
        batch = grants_schedule(grants=grant_ids, actor=actor)
        while True:  # until a quarter is paid
            done = progress(batch.pk).get(Disbursement.Status.SUCCEEDED, 0)
            if done >= len(grant_ids) // 4:
                break
            if time.monotonic() - started > args.timeout:
                raise BenchError(f"{name}: the batch did not start paying")
            time.sleep(0.05)
        figures["paid_before_fault"] = done
        fault_at = time.monotonic()
        if name == "redis":
            redis.restart()
        elif name == "postgres":
            postgres.restart()
            connection.close()
        else:
            for process in workers.processes:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            workers = Workers(count=1, concurrency=3, pool="prefork", env=env)
            workers.start()
            wait_ready(workers)
        figures["fault_took"] = time.monotonic() - fault_at

        finished = (Disbursement.Status.SUCCEEDED, Disbursement.Status.FAILED)
        while True:
            counts = progress(batch.pk)
            if sum(counts.get(status, 0) for status in finished) >= len(grant_ids):
                break
            if time.monotonic() - fault_at > args.timeout:
                figures["healed_in"] = None
                failure = f"{name}: not healed after {args.timeout:.0f} s: {counts}"
                if not beat.alive():
                    failure += f"; beat exited:\n{beat.log_tail()}"
                return [failure], figures
            time.sleep(0.5)
        figures["healed_in"] = time.monotonic() - fault_at
    finally:
        if beat is not None:
            beat.stop()
        workers.stop()

    connection.close()
    failures, notes = exactly_once(batch.pk, fund.pk)
    audit_failures = audit_trail(batch.pk, fund.pk)
    failures += audit_failures
    if not audit_failures:
        notes.append("audit: every move of every grant and disbursement recorded, fund in bounds")
    payments = SandboxPayment.objects.filter(
        idempotency_key__in=Disbursement.objects.filter(batch_id=batch.pk).values("idempotency_key")
    )
    totals = payments.aggregate(asked=Sum("requests"), most=Max("requests"))
    paid = payments.filter(paid_at__isnull=False)
    figures.update(
        paid=paid.count(),
        provider_requests=totals["asked"] or 0,
        most_requests_one_key=totals["most"] or 0,
        duplicates=paid.count() - paid.values("idempotency_key").distinct().count(),
        retried=Disbursement.objects.filter(batch_id=batch.pk, attempts__gt=1).count(),
        notes=notes,
    )
    return [f"{name}: {failure}" for failure in failures], figures


# --- A stalled worker and duplicate sweeps ----------------------------------------------------

STALL_GRANTS = 40
# Short limits so the scenario takes about a minute: tasks interrupted after 3 s, the sandbox's
# stall 6 s, two tries, stale after 6 s, a sweep a second, unknown outcomes flagged after 30 s.
STALL_SETTINGS = {
    "DJANGO_CELERY_SOFT_TIME_LIMIT": "3",
    "DJANGO_CELERY_TIME_LIMIT": "10",
    "DJANGO_PAYOUT_SANDBOX_STALL": "6",
    "DJANGO_PAYOUT_STALE_AFTER": "6",
    "DJANGO_PAYOUT_SWEEP_EVERY": "1",
    "DJANGO_PAYOUT_MAX_ATTEMPTS": "2",
    "DJANGO_PAYOUT_RETRY_BACKOFF": "1",
    "DJANGO_PAYOUT_RETRY_BACKOFF_MAX": "2",
    "DJANGO_PAYOUT_UNKNOWN_HORIZON": "30",
}
# Payees given to the first grants of the batch (the rest keep plain references and pay), and
# how each of their grants must end.
STALL_MIX = {
    "sandbox-stall": (4, "disbursed"),
    "sandbox-timeout": (4, "failed"),
    "sandbox-dark": (3, "unknown"),
    "sandbox-lose-response": (3, "disbursed"),
}


def _settings_of(env: dict[str, str]) -> dict:
    """The Django settings this process needs for its own sweeps to match the worker's."""
    return {
        "PAYOUT_STALE_AFTER": int(env["DJANGO_PAYOUT_STALE_AFTER"]),
        "PAYOUT_MAX_ATTEMPTS": int(env["DJANGO_PAYOUT_MAX_ATTEMPTS"]),
        "PAYOUT_UNKNOWN_HORIZON": int(env["DJANGO_PAYOUT_UNKNOWN_HORIZON"]),
    }


def settled(batch_id: int) -> tuple[bool, dict[str, int]]:
    """Whether every payment of the batch is settled: paid, failed, or unknown and flagged for
    staff (no longer asked about); and the count per status."""
    from django.db import OperationalError, connection

    from donations.models import Disbursement

    counts = progress(batch_id)
    for _ in range(50):
        try:
            open_ = (
                Disbursement.objects.filter(batch_id=batch_id)
                .exclude(status__in=(Disbursement.Status.SUCCEEDED, Disbursement.Status.FAILED))
                .exclude(status=Disbursement.Status.UNKNOWN, recheck_at__isnull=True)
                .count()
            )
            return open_ == 0, counts
        except OperationalError:  # cut connection: reconnect
            connection.close()
            time.sleep(0.2)
    raise BenchError("the database did not come back")


def nothing_lost(batch_id: int, fund_id: int, expected: dict[int, str]) -> list[str]:
    """Failures unless: each grant paid at most once at the provider and every payment the
    provider made booked on its grant with its reference (none lost); each grant ended as its
    payee says (disbursed, failed with the provider's confirmed non-payment, or unknown and
    flagged with its amount committed); the fund's committed and disbursed totals the sums of
    its grants, nothing overspent."""
    from django.db.models import Count, Sum

    from donations.models import Disbursement, Fund, Grant, SandboxPayment

    failures = []
    disbursements = {
        d.grant_id: d
        for d in Disbursement.objects.filter(batch_id=batch_id).select_related("grant")
    }
    ledger = SandboxPayment.objects.filter(
        idempotency_key__in=[d.idempotency_key for d in disbursements.values()]
    )
    twice = ledger.values("idempotency_key").annotate(n=Count("pk")).filter(n__gt=1).count()
    if twice:
        failures.append(f"{twice} keys paid more than once at the provider")
    paid = {row.idempotency_key: row for row in ledger.filter(paid_at__isnull=False)}
    wrong = []
    for grant_id, disbursement in disbursements.items():
        grant = disbursement.grant
        payment = paid.get(disbursement.idempotency_key)
        want = expected.get(grant_id, "disbursed")
        if grant.status != want:
            wrong.append(f"grant {grant_id} {grant.status}, expected {want}")
        if grant.status == Grant.Status.DISBURSED:
            if payment is None or payment.reference != disbursement.provider_reference:
                wrong.append(f"grant {grant_id} disbursed without its provider payment")
        elif payment is not None:
            wrong.append(f"grant {grant_id} paid at the provider but {grant.status}: money lost")
        if grant.status == Grant.Status.FAILED and "confirmed no payment" not in (
            grant.status_reason
        ):
            wrong.append(f"grant {grant_id} failed without a confirmation: {grant.status_reason}")
        if grant.status == Grant.Status.UNKNOWN and disbursement.recheck_at is not None:
            wrong.append(f"grant {grant_id} unknown but not flagged")
    failures += wrong[:10]
    fund = Fund.objects.get(pk=fund_id)
    grants = Grant.objects.filter(fund=fund)
    committed = grants.committing().aggregate(s=Sum("amount"))["s"] or 0
    disbursed = grants.filter(status="disbursed").aggregate(s=Sum("amount"))["s"] or 0
    if (fund.committed, fund.disbursed, fund.overspent) != (committed, disbursed, 0):
        failures.append(
            f"fund books off: committed {fund.committed} (grants {committed}), disbursed "
            f"{fund.disbursed} (grants {disbursed}), overspent {fund.overspent}"
        )
    return failures


def run_stall_scenario(args, postgres, redis, env) -> tuple[list[str], dict]:
    import threading

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Max, Sum
    from django.test import override_settings
    from django.utils import timezone

    from donations.models import Disbursement, Grant, Nonprofit, SandboxPayment
    from donations.services import disbursements_sweep, grants_schedule
    from donations.tasks import sweep_disbursements

    fresh_database(postgres)
    redis.flush()
    env = {**env, **STALL_SETTINGS}
    actor = get_user_model().objects.create(
        username="faults-stall", is_staff=True, is_superuser=True
    )
    fund, grant_ids = seed(grants=STALL_GRANTS, tag="stall")
    expected: dict[int, str] = {}
    at = 0
    for payee, (count, outcome) in STALL_MIX.items():
        nonprofit = Nonprofit.objects.create(
            legal_name=f"Fault nonprofit {payee}",
            slug=f"fault-nonprofit-{payee}",
            registration_number=f"FAULT-{payee}",
            country="US",
            contact_email=f"{payee}@nonprofit.example",
            verification_status=Nonprofit.Verification.VERIFIED,
            verified_at=timezone.now(),
            payout_reference=payee,
        )
        chosen = grant_ids[at : at + count]
        Grant.objects.filter(pk__in=chosen).update(
            nonprofit=nonprofit,
            payee_reference=payee,
            payee_fingerprint=nonprofit.payout_fingerprint(),
        )
        expected.update(dict.fromkeys(chosen, outcome))
        at += count
    figures: dict = {"scenario": "stall", "grants": len(grant_ids), "paid_before_fault": 0}
    workers = Workers(count=1, concurrency=3, pool="prefork", env=env)
    beat = None
    stop = threading.Event()
    duplicate_sweeps = {"here": 0, "worker": 0}

    def sweep_here() -> None:
        """This process's own sweep, over and over, racing beat's and the worker's."""
        try:
            while not stop.is_set():
                with contextlib.suppress(Exception):
                    disbursements_sweep()
                    duplicate_sweeps["here"] += 1
                stop.wait(0.5)
        finally:
            connection.close()

    with override_settings(**_settings_of(env)):
        sweeper = threading.Thread(target=sweep_here, daemon=True)
        try:
            workers.start()
            wait_ready(workers)
            beat = Beat(env, postgres.data.parent / "beat-stall")
            started = time.monotonic()
            batch = grants_schedule(grants=grant_ids, actor=actor)
            sweeper.start()
            while True:
                done, counts = settled(batch.pk)
                if done:
                    break
                if time.monotonic() - started > args.timeout:
                    figures["healed_in"] = None
                    return [f"stall: not settled after {args.timeout:.0f} s: {counts}"], figures
                sweep_disbursements.delay()  # a duplicate sweep on the worker
                duplicate_sweeps["worker"] += 1
                time.sleep(1)
            figures["healed_in"] = time.monotonic() - started
        finally:
            stop.set()
            if sweeper.is_alive():
                sweeper.join(timeout=30)
            if beat is not None:
                beat.stop()
            workers.stop()

    connection.close()
    failures = nothing_lost(batch.pk, fund.pk, expected)
    failures += audit_trail(batch.pk, fund.pk)
    log = workers.log_tail(2000)
    stalled = log.count("Soft time limit") or log.count("SoftTimeLimitExceeded")
    notes = [
        f"final statuses: {progress(batch.pk)}",
        f"tasks interrupted by the soft time limit (worker log): {stalled}",
        f"duplicate sweeps: {duplicate_sweeps['worker']} sent to the worker besides beat's, "
        f"{duplicate_sweeps['here']} run in this process",
    ]
    if not stalled:
        failures.append("no task was interrupted by the soft time limit: nothing stalled")
    if not failures:
        notes.append(
            "each grant paid at most once, every provider payment booked, each grant ended as "
            "its payee says (disbursed, failed on confirmed non-payment, unknown and flagged), "
            "fund books equal to its grants, every move audited"
        )
    notes.insert(
        0,
        f"{STALL_GRANTS} grants, {', '.join(f'{n} {p}' for p, (n, _) in STALL_MIX.items())}; "
        "soft time limit 3 s, the sandbox stalls 6 s, stale after 6 s, horizon 30 s",
    )
    payments = SandboxPayment.objects.filter(
        idempotency_key__in=Disbursement.objects.filter(batch_id=batch.pk).values("idempotency_key")
    )
    totals = payments.aggregate(asked=Sum("requests"), most=Max("requests"))
    figures.update(
        paid=payments.filter(paid_at__isnull=False).count(),
        provider_requests=totals["asked"] or 0,
        most_requests_one_key=totals["most"] or 0,
        retried=Disbursement.objects.filter(batch_id=batch.pk, attempts__gt=1).count(),
        notes=notes,
    )
    return [f"stall: {failure}" for failure in failures], figures


# --- Stripe misbehaving ---------------------------------------------------------------------

STRIPE_GRANTS = 300
# The client gives up after 1 s; retries come back within seconds (the sweeper as elsewhere).
STRIPE_SETTINGS = {
    "DJANGO_PAYOUT_PROVIDER": "stripe",
    "DJANGO_STRIPE_TIMEOUT": "1",
    "DJANGO_PAYOUT_RETRY_BACKOFF": "1",
    "DJANGO_PAYOUT_RETRY_BACKOFF_MAX": "4",
}
# (knob, count, keyword arguments) given to the stand-in once a quarter of the batch is paid.
STRIPE_FAULTS = [
    ("delay_next", 6, {"seconds": 3.0, "method": "POST", "path": "/v1/transfers"}),
    ("fail_next", 10, {"status": 429, "path": "/v1/transfers"}),
    ("fail_next", 5, {"status": 500, "path": "/v1/transfers"}),
    ("fail_next", 5, {"status": 503, "method": "POST", "path": "/v1/transfers"}),
    ("lose_next", 6, {"method": "POST", "path": "/v1/transfers"}),
]


def stripe_payees(standin) -> dict[int, str]:
    """A ready connected account at the stand-in for each of the batch's nonprofits, made its
    payout reference and pinned as its grants' payee, the nonprofit verified now (as vetting
    and approving would have). Returns {nonprofit id: account id}."""
    from django.utils import timezone

    from donations.models import Grant, Nonprofit

    accounts = {}
    for nonprofit in Nonprofit.objects.filter(grants__isnull=False).distinct():
        nonprofit.payout_reference = standin.add_account(ready=True, country="US")["id"]
        nonprofit.verified_at = timezone.now()
        nonprofit.save(update_fields=["payout_reference", "verified_at"])
        Grant.objects.filter(nonprofit=nonprofit).update(
            payee_reference=nonprofit.payout_reference,
            payee_fingerprint=nonprofit.payout_fingerprint(),
        )
        accounts[nonprofit.pk] = nonprofit.payout_reference
    return accounts


def stripe_exactly_once(batch_id: int, fund_id: int, standin) -> list[str]:
    """Failures unless, from the stand-in's own transfers and the database: exactly one
    transfer per disbursement's key (its transfer group and idempotency metadata), for the
    grant's amount in cents, in its currency, to its nonprofit's payee, and none outside the
    batch; every disbursement succeeded and records that transfer's id; the fund's committed
    and disbursed totals equal its grants'."""
    from collections import defaultdict

    from django.db.models import Sum

    from donations.models import Disbursement, Fund, Grant
    from donations.payouts.stripe import minor_units

    failures = []
    disbursements = list(
        Disbursement.objects.filter(batch_id=batch_id).select_related("grant__nonprofit")
    )
    keys = {d.idempotency_key for d in disbursements}
    by_group = defaultdict(list)
    for transfer in standin.transfers():
        by_group[transfer["transfer_group"]].append(transfer)
    stray = sum(len(found) for group, found in by_group.items() if group not in keys)
    if stray:
        failures.append(f"{stray} transfers for keys outside the batch")
    wrong: list[str] = []
    twice = missing = 0
    for disbursement in disbursements:
        grant = disbursement.grant
        found = by_group.get(disbursement.idempotency_key, [])
        if len(found) != 1:
            twice += len(found) > 1
            missing += not found
            continue
        transfer = found[0]
        want = (
            minor_units(grant.amount, grant.currency),
            grant.currency.lower(),
            grant.nonprofit.payout_reference,
            disbursement.idempotency_key,
        )
        got = (
            transfer["amount"],
            transfer["currency"],
            transfer["destination"],
            transfer["metadata"].get("idempotency_key"),
        )
        if got != want:
            wrong.append(f"grant {grant.pk}: transfer {got}, expected {want}")
        if disbursement.status != Disbursement.Status.SUCCEEDED:
            wrong.append(f"grant {grant.pk}: disbursement {disbursement.status}")
        elif disbursement.provider_reference != transfer["id"]:
            wrong.append(
                f"grant {grant.pk}: recorded {disbursement.provider_reference!r}, "
                f"transferred {transfer['id']}"
            )
        if grant.status != Grant.Status.DISBURSED:
            wrong.append(f"grant {grant.pk}: {grant.status}")
    if twice:
        failures.append(f"{twice} keys transferred more than once")
    if missing:
        failures.append(f"{missing} disbursements without a transfer")
    failures += wrong[:10]
    fund = Fund.objects.get(pk=fund_id)
    grants = Grant.objects.filter(fund=fund)
    committed = grants.committing().aggregate(s=Sum("amount"))["s"] or 0
    disbursed = grants.filter(status="disbursed").aggregate(s=Sum("amount"))["s"] or 0
    transferred = sum(t["amount"] for t in standin.transfers())
    if (fund.committed, fund.disbursed, fund.overspent) != (committed, disbursed, 0):
        failures.append(
            f"fund books off: committed {fund.committed} (grants {committed}), disbursed "
            f"{fund.disbursed} (grants {disbursed}), overspent {fund.overspent}"
        )
    if transferred != minor_units(disbursed, fund.currency):
        failures.append(f"transferred {transferred} cents, the fund disbursed {disbursed}")
    return failures


def run_stripe_scenario(args, postgres, redis, env) -> tuple[list[str], dict]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Max
    from django.test import override_settings

    from donations.models import Disbursement
    from donations.services import grants_schedule
    from tests.standins.stripe import StripeStandin

    fresh_database(postgres)
    redis.flush()
    standin = StripeStandin().start(host=HOST)
    env = {
        **env,
        **STRIPE_SETTINGS,
        "DJANGO_STRIPE_API_BASE": standin.url,
        "DJANGO_STRIPE_SECRET_KEY": standin.secret_key,
    }
    actor = get_user_model().objects.create(
        username="faults-stripe", is_staff=True, is_superuser=True
    )
    fund, grant_ids = seed(grants=STRIPE_GRANTS, tag="stripe")
    stripe_payees(standin)
    workers = Workers(count=1, concurrency=3, pool="prefork", env=env)
    beat = None
    figures: dict = {"scenario": "stripe", "grants": len(grant_ids)}
    try:
        workers.start()
        wait_ready(workers)
        beat = Beat(env, postgres.data.parent / "beat-stripe")
        started = time.monotonic()
        # Scheduling names the provider on each disbursement: this process's, as the workers'.
        with override_settings(PAYOUT_PROVIDER="stripe"):
            batch = grants_schedule(grants=grant_ids, actor=actor)
        while True:  # until a quarter is paid
            done = progress(batch.pk).get(Disbursement.Status.SUCCEEDED, 0)
            if done >= len(grant_ids) // 4:
                break
            if time.monotonic() - started > args.timeout:
                raise BenchError("stripe: the batch did not start paying")
            time.sleep(0.05)
        figures["paid_before_fault"] = done
        fault_at = time.monotonic()
        requests_before = len(standin.requests)
        for knob, count, options in STRIPE_FAULTS:
            getattr(standin, knob)(count, **options)
        finished = (Disbursement.Status.SUCCEEDED, Disbursement.Status.FAILED)
        while True:
            counts = progress(batch.pk)
            if sum(counts.get(status, 0) for status in finished) >= len(grant_ids):
                break
            if time.monotonic() - fault_at > args.timeout:
                figures["healed_in"] = None
                return [f"stripe: not healed after {args.timeout:.0f} s: {counts}"], figures
            time.sleep(0.5)
        figures["healed_in"] = time.monotonic() - fault_at
    finally:
        if beat is not None:
            beat.stop()
        workers.stop()
        standin.stop()

    connection.close()
    failures = stripe_exactly_once(batch.pk, fund.pk, standin)
    failures += audit_trail(batch.pk, fund.pk)
    left = [f"{f.kind} {f.path} x{f.remaining}" for f in standin.faults if f.remaining > 0]
    if left:
        failures.append(f"faults never met (the batch finished first): {left}")
    posts = sum(1 for request in standin.requests if request == ("POST", "/v1/transfers"))
    lookups = sum(1 for request in standin.requests if request == ("GET", "/v1/transfers"))
    injected = ", ".join(f"{count} {knob} {options}" for knob, count, options in STRIPE_FAULTS)
    notes = [
        f"{len(standin.transfers())} transfers at the stand-in for {len(grant_ids)} grants; "
        f"injected: {injected}",
        f"requests to the stand-in after the faults: {len(standin.requests) - requests_before}",
        f"final statuses: {progress(batch.pk)}",
    ]
    if not failures:
        notes.append(
            "one transfer per key with the grant's amount and payee, each disbursement "
            "succeeded with its transfer's id, fund totals equal to its grants', every move "
            "audited"
        )
    attempts = Disbursement.objects.filter(batch_id=batch.pk)
    figures.update(
        paid=len(standin.transfers()),
        provider_requests=posts + lookups,
        most_requests_one_key=attempts.aggregate(m=Max("attempts"))["m"] or 0,
        duplicates=len(standin.transfers())
        - len({t["transfer_group"] for t in standin.transfers()}),
        retried=attempts.filter(attempts__gt=1).count(),
        notes=notes,
    )
    return [f"stripe: {failure}" for failure in failures], figures


# --- Main --------------------------------------------------------------------------------------


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    root = Path(tempfile.mkdtemp(prefix="changemakers-faults-"))
    postgres = redis = None
    results, failures = [], []
    try:
        postgres = PrivatePostgres(root)
        postgres.start()
        redis = PrivateRedis(root)
        redis.start()
        env = environment(postgres, redis)
        os.environ.update(env)
        sys.path.insert(0, str(BASE_DIR))
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connections

        with postgres.admin() as admin:
            admin.execute(f"CREATE DATABASE {TEMPLATE}")
        settings.DATABASES["default"]["NAME"] = TEMPLATE
        call_command("migrate", verbosity=0, interactive=False)
        connections.close_all()
        settings.DATABASES["default"]["NAME"] = DATABASE
        print(
            f"test-faults: private PostgreSQL on :{postgres.port}, Redis on :{redis.port}; "
            f"{args.grants:,} grants a batch; stale after {STALE_AFTER} s, sweep every "
            f"{SWEEP_EVERY:.0f} s",
            flush=True,
        )
        for name in args.scenario:
            print(f"\n== {name}", flush=True)
            if name == "stall":
                scenario_failures, figures = run_stall_scenario(args, postgres, redis, env)
            elif name == "stripe":
                scenario_failures, figures = run_stripe_scenario(args, postgres, redis, env)
            else:
                scenario_failures, figures = run_scenario(name, args, postgres, redis, env)
            failures += scenario_failures
            results.append(figures)
            for note in figures.get("notes", []):
                print(f"  {note}")
            print(
                f"  fault after {figures['paid_before_fault']:,} paid; healed in "
                f"{figures['healed_in'] or float('nan'):.1f} s",
                flush=True,
            )
    except BenchError as error:
        print(f"test-faults: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("test-faults: interrupted", file=sys.stderr)
        return 130
    finally:
        if redis is not None:
            redis.stop()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(root, ignore_errors=True)

    print(
        "\n| scenario | grants | paid before the fault | healed in | paid | provider requests "
        "| most requests for one key | duplicates | retried |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for f in results:
        healed = f"{f['healed_in']:.1f} s" if f.get("healed_in") else "NOT HEALED"
        print(
            f"| {f['scenario']} | {f['grants']:,} | {f['paid_before_fault']:,} | {healed} | "
            f"{f.get('paid', 0):,} | {f.get('provider_requests', 0):,} | "
            f"{f.get('most_requests_one_key', 0)} | {f.get('duplicates', 0)} | "
            f"{f.get('retried', 0)} |"
        )
    if failures:
        print("\nFAILED:\n" + "\n".join(f"  {failure}" for failure in failures), file=sys.stderr)
        return 1
    print(f"\n{len(results)} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
