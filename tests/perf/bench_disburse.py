"""Disbursement benchmark: N approved grants paid through real Celery workers on Redis.

    python -m tests.perf.bench_disburse [--grants N] [--workers W] [--concurrency C]

or `make bench-disburse`. It drops and recreates a dedicated PostgreSQL database (default
postgres://postgres@127.0.0.1:5432/changemakers_bench), migrates it, flushes a dedicated
Redis database (default redis://127.0.0.1:6379/5), seeds one fund, a few hundred verified
nonprofits and N approved grants, starts W `celery worker` processes, schedules every grant in
one batch with `grants_schedule` and waits until each disbursement has finished. It prints
throughput, latencies, database queries per grant and an exactly-once check of the payments,
and exits non-zero when a grant was not paid exactly once.

The databases are chosen with BENCH_DATABASE_URL / BENCH_REDIS_URL (or --database-url /
--redis-url), never with DATABASE_URL / REDIS_URL, so a shell set up for the app or its tests
can never point the benchmark, which drops its database, at real data. The database name must
contain "bench".

Settings are production-like (changemakers.settings.base, DEBUG off, the sandbox provider
without added latency); the secret key below is a throwaway that only this benchmark uses.
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/changemakers_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
NONPROFITS = 300
PROBE_GRANTS = 30  # paid in-process afterwards to count their queries
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")
GOAL = 400  # grants/s end to end (10,000 in under 25 s), with 1 worker of 3 processes


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.perf.bench_disburse", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--grants", type=int, default=10_000, help="grants to pay (10000)")
    parser.add_argument("--workers", type=int, default=1, help="celery worker processes (1)")
    parser.add_argument("--concurrency", type=int, default=3, help="pool processes per worker (3)")
    parser.add_argument(
        "--pool", default="prefork", choices=["prefork", "threads", "solo"], help="(prefork)"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait (600)")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument(
        "--show-queries", action="store_true", help="print the SQL of one in-process payment"
    )
    args = parser.parse_args(argv)
    if args.grants < 1 or args.workers < 1 or args.concurrency < 1:
        parser.error("--grants, --workers and --concurrency must be at least 1")
    return args


def bench_environment(args: argparse.Namespace) -> dict[str, str]:
    """The environment of this process (set before Django loads) and of the workers."""
    return {
        "DJANGO_SETTINGS_MODULE": "changemakers.settings.base",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-throwaway-secret-key-never-used-anywhere-else-0123456789",
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_CELERY_QUEUE": "celery",
        "DJANGO_PAYOUT_PROVIDER": "sandbox",
        "DJANGO_PAYOUT_SANDBOX_MODE": "succeed",
        "DJANGO_PAYOUT_SANDBOX_LATENCY": "0",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "PYTHONUNBUFFERED": "1",
    }


class BenchError(Exception):
    """A set-up problem worth one clear line, not a traceback."""


# --- Servers -----------------------------------------------------------------------------------


def recreate_database(url: str) -> str:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise BenchError(f"The bench database must be PostgreSQL, not {parts.scheme}://.")
    name = unquote(parts.path.lstrip("/"))
    if "bench" not in name:
        raise BenchError(
            f"Refusing to drop database {name!r}: the benchmark only recreates a database "
            "whose name contains 'bench' (set BENCH_DATABASE_URL)."
        )
    try:
        admin = psycopg.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or "") or None,
            dbname="postgres",
            connect_timeout=3,
            autocommit=True,
        )
    except psycopg.OperationalError as error:
        raise BenchError(
            f"PostgreSQL is not reachable at {parts.hostname}:{parts.port or 5432} "
            f"({str(error).strip().splitlines()[0]}). Start it, or set BENCH_DATABASE_URL."
        ) from None
    with admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        version = admin.execute("SHOW server_version").fetchone()[0]
    return f"PostgreSQL {version}, database {name} (recreated)"


def flush_redis(url: str) -> str:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        raise BenchError(
            f"Redis is not reachable at {url} ({error}). Start it, or set BENCH_REDIS_URL."
        ) from None
    client.flushdb()
    version = client.info("server").get("redis_version", "?")
    db = client.connection_pool.connection_kwargs.get("db", 0)
    client.close()
    return f"Redis {version}, db {db} (flushed)"


# --- Seed --------------------------------------------------------------------------------------


def seed(*, grants: int, tag: str, fund=None):
    """A fund, verified nonprofits and `grants` approved grants, in bulk. Returns the fund and
    the new grants' ids. With `fund`, adds grants to it (their sum committed, total raised)."""
    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from donations.models import Fund, Grant, Nonprofit

    now = timezone.now()
    with transaction.atomic():
        if fund is None:
            fund = Fund.objects.create(
                name="Bench fund", currency="USD", total=Decimal("1.00"), committed=0
            )
            Nonprofit.objects.bulk_create(
                Nonprofit(
                    legal_name=f"Bench nonprofit {i:04d}",
                    slug=f"bench-nonprofit-{i:04d}",
                    registration_number=f"BENCH-{i:06d}",
                    country="US",
                    contact_email=f"payments{i}@nonprofit.example",
                    verification_status=Nonprofit.Verification.VERIFIED,
                    verified_at=now,
                    payout_reference=f"acct_{i:06d}",
                )
                for i in range(NONPROFITS)
            )
        nonprofits = list(
            Nonprofit.objects.filter(registration_number__startswith="BENCH-").order_by("pk")
        )
        # Approval pins the payee (grant_approve); the worker pays only the pinned one.
        rows = [
            Grant(
                fund=fund,
                nonprofit=nonprofits[i % len(nonprofits)],
                payee_reference=nonprofits[i % len(nonprofits)].payout_reference,
                payee_fingerprint=nonprofits[i % len(nonprofits)].payout_fingerprint(),
                amount=Decimal(100 + (i * 37) % 4900) + Decimal("0.25"),
                currency="USD",
                purpose=f"{tag} grant {i}",
                status=Grant.Status.APPROVED,
                approved_at=now,
            )
            for i in range(grants)
        ]
        created = Grant.objects.bulk_create(rows, batch_size=2000)
        total = sum((g.amount for g in created), Decimal(0))
        # Bench set-up: what grant_approve would have committed, in one update.
        Fund.objects.filter(pk=fund.pk).update(
            total=F("total") + total, committed=F("committed") + total
        )
    fund.refresh_from_db()
    return fund, [g.pk for g in created]


# --- Workers -----------------------------------------------------------------------------------


class Workers:
    """W `celery worker` processes, each in its own process group; always stopped."""

    def __init__(self, *, count: int, concurrency: int, pool: str, env: dict[str, str]):
        self.count, self.concurrency, self.pool, self.env = count, concurrency, pool, env
        self.processes: list[subprocess.Popen] = []
        self.logs: list = []
        self.names = [f"bench{i}@{socket.gethostname()}" for i in range(count)]

    def start(self) -> None:
        for name in self.names:
            log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (lives as long as we do)
            self.logs.append(log)
            command = [
                *(sys.executable, "-m", "celery", "-A", "changemakers", "worker"),
                *("--concurrency", str(self.concurrency), "--pool", self.pool),
                *("-Q", "celery", "-n", name, "-l", "warning"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            ]
            self.processes.append(
                subprocess.Popen(
                    command,
                    cwd=BASE_DIR,
                    env={**os.environ, **self.env},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # Ctrl-C reaches us; we stop them in order
                )
            )

    def wait_ready(self, app, timeout: float = 60) -> float:
        started = time.monotonic()
        waiting = set(self.names)
        while waiting:
            for process in self.processes:
                if process.poll() is not None:
                    raise BenchError(f"A worker exited at start:\n{self.log_tail()}")
            if time.monotonic() - started > timeout:
                raise BenchError(f"Workers not ready after {timeout:.0f} s:\n{self.log_tail()}")
            for reply in app.control.ping(destination=list(waiting), timeout=0.5) or []:
                waiting -= set(reply)
        return time.monotonic() - started

    def alive(self) -> bool:
        return all(process.poll() is None for process in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # warm shutdown
        deadline = time.monotonic() + 20
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def log_tail(self, lines: int = 30) -> str:
        out = []
        for name, log in zip(self.names, self.logs, strict=False):
            log.seek(0)
            text = log.read().strip().splitlines()[-lines:]
            if text:
                out.append(f"--- {name} ---\n" + "\n".join(text))
        return "\n".join(out) or "(the workers logged nothing)"


# --- Measurements ------------------------------------------------------------------------------


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            return [int(child) for child in listing.read().split()]
    except OSError:
        return []


class CpuMeter:
    """CPU used by the workers (each main process and its pool) and by the PostgreSQL backends
    serving the bench database, sampled from /proc: every sample keeps each process's latest
    figure, so a backend closed between samples loses at most its last half second."""

    def __init__(self, workers: "Workers", dbname: str):
        self.workers, self.dbname = workers, dbname
        self.start: dict[int, float] = {}
        self.latest: dict[int, float] = {}
        self.kind: dict[int, str] = {}

    def _pids(self) -> dict[int, str]:
        from django.db import connection

        pids = {}
        for process in self.workers.processes:
            pids[process.pid] = "workers"
            pids.update(dict.fromkeys(children(process.pid), "workers"))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.dbname],
            )
            pids.update({pid: "postgres" for (pid,) in cursor.fetchall()})
        return pids

    def sample(self, *, first: bool = False) -> None:
        for pid, kind in self._pids().items():
            cpu = process_cpu(pid)
            if first:
                self.start[pid] = cpu
            self.kind[pid] = kind
            self.latest[pid] = max(cpu, self.latest.get(pid, 0.0))

    def used(self) -> dict[str, float]:
        totals = {"workers": 0.0, "postgres": 0.0}
        for pid, cpu in self.latest.items():
            totals[self.kind[pid]] += cpu - self.start.get(pid, 0.0)
        return totals


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def server_stats(dbname: str) -> dict[str, int]:
    """PostgreSQL's own counters for the bench database (flushed by backends within ~1 s and
    when they exit)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_fetched "
            "FROM pg_stat_database WHERE datname = %s",
            [dbname],
        )
        row = cursor.fetchone()
    return dict(zip(["commit", "rollback", "inserted", "updated", "fetched"], row, strict=True))


def wait_until_done(
    batch_id: int, total: int, timeout: float, workers: Workers, meter: CpuMeter
) -> dict:
    from django.db.models import Count

    from donations.models import Disbursement

    finished = (Disbursement.Status.SUCCEEDED, Disbursement.Status.FAILED)
    deadline = time.monotonic() + timeout
    last_report = time.monotonic()
    polls = 0
    while True:
        counts = dict(
            Disbursement.objects.filter(batch_id=batch_id)
            .values_list("status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        polls += 1
        meter.sample()
        done = sum(counts.get(status, 0) for status in finished)
        if done >= total:
            return {"counts": counts, "timed_out": False, "polls": polls}
        if time.monotonic() > deadline or not workers.alive():
            return {"counts": counts, "timed_out": True, "polls": polls}
        if time.monotonic() - last_report >= 5:
            print(f"  ... {done:,}/{total:,} finished", flush=True)
            last_report = time.monotonic()
        time.sleep(0.5)


def timings(batch_id: int, schedule_started: float) -> dict:
    from donations.models import Disbursement

    rows = list(
        Disbursement.objects.filter(batch_id=batch_id, completed_at__isnull=False).values_list(
            "queued_at", "started_at", "completed_at"
        )
    )
    if not rows:
        return {}
    queued_to_paid = [(done - queued).total_seconds() for queued, _, done in rows]
    run = [(done - started).total_seconds() for _, started, done in rows]
    first_start = min(started for _, started, _ in rows)
    last_done = max(done for _, _, done in rows)
    return {
        "wall": last_done.timestamp() - schedule_started,
        "first_start": first_start.timestamp() - schedule_started,
        "paying": (last_done - first_start).total_seconds(),
        "latency": queued_to_paid,
        "run": run,
    }


def exactly_once(batch_id: int, fund_id: int) -> tuple[list[str], list[str]]:
    """(failures, notes): every grant disbursed, one paid sandbox payment per key, asked once,
    amounts adding up."""
    from django.db.models import Count, Sum

    from donations.models import Disbursement, Fund, Grant, SandboxPayment

    failures, notes = [], []
    disbursements = Disbursement.objects.filter(batch_id=batch_id)
    grant_ids = disbursements.values("grant_id")
    n = disbursements.count()
    grants = Grant.objects.filter(pk__in=grant_ids)
    grant_statuses = dict(grants.values_list("status").annotate(c=Count("pk")).order_by())
    not_disbursed = n - grant_statuses.get(Grant.Status.DISBURSED, 0)
    notes.append(f"grants disbursed: {grant_statuses.get('disbursed', 0):,}/{n:,}")
    if not_disbursed:
        failures.append(f"{not_disbursed:,} grants not disbursed: {grant_statuses}")
    succeeded = disbursements.filter(status=Disbursement.Status.SUCCEEDED).count()
    if succeeded != n:
        failures.append(f"{n - succeeded:,} disbursements not succeeded")
    retried = disbursements.filter(attempts__gt=1).count()
    notes.append(f"disbursements with more than one attempt: {retried:,}")

    keys = disbursements.values("idempotency_key")
    payments = SandboxPayment.objects.filter(idempotency_key__in=keys)
    paid = payments.filter(paid_at__isnull=False)
    stray = SandboxPayment.objects.exclude(idempotency_key__in=keys).count()
    paid_count = paid.count()
    distinct = paid.values("idempotency_key").distinct().count()
    notes.append(f"sandbox payments paid: {paid_count:,} ({distinct:,} distinct keys)")
    if paid_count != n or distinct != n:
        failures.append(f"{paid_count:,} paid sandbox payments for {n:,} grants")
    if stray:
        failures.append(f"{stray:,} sandbox payments for keys outside the batch")
    asked_again = payments.filter(requests__gt=1).count()
    notes.append(f"payments asked for more than once (idempotent, still paid once): {asked_again}")
    if payments.filter(requests__lt=1).exists():
        failures.append("a sandbox payment recorded no request")
    mismatched = disbursements.exclude(provider_reference__in=paid.values("reference")).count()
    if mismatched:
        failures.append(f"{mismatched:,} disbursements whose reference is not the sandbox's")

    grant_sum = grants.aggregate(s=Sum("amount"))["s"] or Decimal(0)
    paid_sum = paid.aggregate(s=Sum("amount"))["s"] or Decimal(0)
    fund = Fund.objects.get(pk=fund_id)
    notes.append(
        f"amounts: grants {grant_sum:,} = paid {paid_sum:,} = fund disbursed {fund.disbursed:,}"
    )
    if not grant_sum == paid_sum == fund.disbursed:
        failures.append("the amounts paid, granted and disbursed differ")
    return failures, notes


def count_queries(*, fund, actor, probes: int, show: bool) -> dict:
    """Query counts of the real service calls, in this process: schedule fresh grants and pay
    `probes` of them one at a time with `disbursement_pay` (a small batch, a retry), then
    PAYOUT_BATCH_CHUNK at a time with `disbursements_pay` (a large batch's chunks), each under
    CaptureQueriesContext."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from donations.models import Disbursement
    from donations.services import disbursement_pay, disbursements_pay, grants_schedule

    chunk = settings.PAYOUT_BATCH_CHUNK
    _, ids = seed(grants=probes + 1 + 2 * chunk, tag="probe", fund=fund)
    with CaptureQueriesContext(connection) as scheduling:
        batch = grants_schedule(grants=ids, actor=actor)
    disbursement_ids = list(
        Disbursement.objects.filter(batch=batch).order_by("pk").values_list("pk", flat=True)
    )
    alone, chunks = disbursement_ids[: probes + 1], disbursement_ids[probes + 1 :]
    disbursement_pay(disbursement_id=alone[0])  # warm-up, not counted
    single = [_paid_queries([pk], disbursement_pay=disbursement_pay) for pk in alone[1:]]
    chunked = [
        _paid_queries(chunks[start : start + chunk], disbursements_pay=disbursements_pay)
        for start in range(0, len(chunks), chunk)
    ]
    if show:
        print("\nSQL of one payment (disbursement_pay), in order:")
        for sql in single[-1]["sql"]:
            print(f"  {sql[:150]}")
        print(f"\nSQL of one chunk of {chunk} (disbursements_pay), in order:")
        for sql in chunked[-1]["sql"]:
            print(f"  {sql[:150]}")
    return {
        "schedule_probe": len(scheduling.captured_queries),
        "probes": probes,
        "app": statistics.mean(p["app"] for p in single),
        "sandbox": statistics.mean(p["sandbox"] for p in single),
        "transactions": statistics.mean(p["transactions"] for p in single),
        "chunk": chunk,
        "chunk_app": statistics.mean(p["app"] for p in chunked),
        "chunk_transactions": statistics.mean(p["transactions"] for p in chunked),
    }


def _paid_queries(ids, *, disbursement_pay=None, disbursements_pay=None) -> dict:
    """Pay `ids` (one alone, or a chunk together) and count what it asked of the database:
    the app's statements, the sandbox provider's (it stands for the provider's API, so it is
    counted apart) and the transactions."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from donations.models import Disbursement

    with CaptureQueriesContext(connection) as paying:
        if disbursements_pay is not None:
            paid = list(disbursements_pay(disbursement_ids=ids).values())
        else:
            paid = [disbursement_pay(disbursement_id=ids[0])]
    assert all(d.status == Disbursement.Status.SUCCEEDED for d in paid), paid
    sqls = [q["sql"] for q in paying.captured_queries]
    statements = [sql for sql in sqls if sql not in TRANSACTION_CONTROL]
    sandbox = sum("donations_sandboxpayment" in sql for sql in statements)
    return {
        "app": len(statements) - sandbox,
        "sandbox": sandbox,
        "transactions": sqls.count("COMMIT"),
        "sql": sqls,
    }


# --- Main --------------------------------------------------------------------------------------


def _interrupt(signum, frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv=None) -> int:
    args = parse_args(argv)
    # Ctrl-C, `kill` and a closed terminal all stop the workers first (SIGINT explicitly too:
    # a shell starting us in the background would otherwise leave it ignored).
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    env = bench_environment(args)
    os.environ.update(env)
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    print(
        f"Disbursement benchmark: {args.grants:,} grants, {args.workers} worker(s) x "
        f"{args.concurrency} ({args.pool})"
    )
    print(
        f"machine: {cpus} CPUs ({usable} usable), load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )

    try:
        print(recreate_database(args.database_url))
        print(flush_redis(args.redis_url))
    except BenchError as error:
        print(f"bench-disburse: {error}", file=sys.stderr)
        return 2

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from changemakers.celery import app
    from donations.services import grants_schedule

    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"migrate: {time.monotonic() - started:.1f} s")

    started = time.monotonic()
    actor = get_user_model().objects.create(
        username="bench-staff", is_staff=True, is_superuser=True
    )
    fund, grant_ids = seed(grants=args.grants, tag="bench")
    print(
        f"seed: {len(grant_ids):,} approved grants, fund committed {fund.committed:,} "
        f"in {time.monotonic() - started:.1f} s"
    )

    workers = Workers(count=args.workers, concurrency=args.concurrency, pool=args.pool, env=env)
    failures: list[str] = []
    try:
        workers.start()
        ready = workers.wait_ready(app)
        print(f"workers: {args.workers} x {args.concurrency} ready in {ready:.1f} s")
        connection.close()  # a fresh connection, and fresh server counters
        before = server_stats(connection.settings_dict["NAME"])
        meter = CpuMeter(workers, connection.settings_dict["NAME"])
        meter.sample(first=True)

        schedule_started = time.time()
        with CaptureQueriesContext(connection) as scheduling:
            batch = grants_schedule(grants=grant_ids, actor=actor)
        schedule_time = time.time() - schedule_started
        print(
            f"schedule: {schedule_time:.2f} s ({len(scheduling.captured_queries)} queries), "
            f"waiting for payments..."
        )

        outcome = wait_until_done(batch.pk, len(grant_ids), args.timeout, workers, meter)
        meter.sample()
        workers.stop()
        time.sleep(1.0)  # the backends that exited have flushed their counters
        after = server_stats(connection.settings_dict["NAME"])
    except KeyboardInterrupt:
        print("\ninterrupted: stopping the workers", file=sys.stderr)
        return 130
    except BenchError as error:
        print(f"bench-disburse: {error}", file=sys.stderr)
        return 2
    finally:
        workers.stop()

    counts = outcome["counts"]
    if outcome["timed_out"]:
        failures.append(f"not finished after {args.timeout:.0f} s (or a worker died): {counts}")
        print(workers.log_tail(), file=sys.stderr)

    n = len(grant_ids)
    t = timings(batch.pk, schedule_started)
    print()
    print("=" * 72)
    print(f"grants              {n:,}")
    print(
        f"workers             {args.workers} x {args.concurrency} ({args.pool}), "
        f"{cpus} CPUs, load average now "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(f"schedule            {schedule_time:.2f} s (grants_schedule, in-process)")
    if t:
        print(
            f"total wall time     {t['wall']:.1f} s (schedule start to last payment); first "
            f"payment started at {t['first_start']:.2f} s"
        )
        print(
            f"throughput          {n / t['wall']:,.0f} grants/s end to end; "
            f"{n / t['paying']:,.0f} grants/s while paying"
        )
        print(
            f"goal                at least {GOAL} grants/s end to end: "
            f"{'met' if n / t['wall'] >= GOAL else 'NOT met'}"
        )
        lat, run = t["latency"], t["run"]
        print(
            f"latency, queued to paid   p50 {percentile(lat, 50):.2f} s  p95 "
            f"{percentile(lat, 95):.2f} s  max {max(lat):.2f} s"
        )
        print(
            f"task run time (started to paid)   p50 {percentile(run, 50) * 1000:.1f} ms  "
            f"p95 {percentile(run, 95) * 1000:.1f} ms  max {max(run) * 1000:.1f} ms"
        )

    once_failures, notes = exactly_once(batch.pk, fund.pk)  # before the probe grants exist
    failures += once_failures
    probe = count_queries(fund=fund, actor=actor, probes=PROBE_GRANTS, show=args.show_queries)
    flush_redis(args.redis_url)  # the probe batch's task, which no worker will take now
    # Server side, all clients of the bench database during the run, the bench's polls included.
    delta = {key: after[key] - before[key] for key in before}
    per_grant = probe["chunk_app"] / probe["chunk"] + probe["sandbox"]
    print(
        f"queries per grant   {per_grant:.2f} in a chunk of {probe['chunk']} (a large batch) = "
        f"{probe['chunk_app']:.0f} app statements a chunk + {probe['sandbox']:.0f} sandbox "
        f"provider (its own table) a grant, in {probe['chunk_transactions']:.0f} transactions a "
        f"chunk [disbursements_pay of 2 fresh chunks]"
    )
    print(
        "                    "
        f"{probe['app'] + probe['sandbox']:.1f} to pay one grant alone (a small batch, a retry) "
        f"= {probe['app']:.1f} app + {probe['sandbox']:.1f} sandbox, in "
        f"{probe['transactions']:.0f} transactions (BEGIN/COMMIT not counted) "
        f"[disbursement_pay of {probe['probes']} fresh grants; both in-process, under "
        f"CaptureQueriesContext]"
    )
    print(
        f"                    schedule: {len(scheduling.captured_queries)} queries for "
        f"{n:,} grants = {len(scheduling.captured_queries) / n:.4f} per grant "
        f"[CaptureQueriesContext around grants_schedule]; fan-out task: ~1 per 2,000"
    )
    print(
        f"                    server side (pg_stat_database, every client during the run, "
        f"{outcome['polls']} progress polls included): "
        f"{delta['commit'] / n:.1f} transactions, {delta['inserted'] / n:.1f} rows inserted, "
        f"{delta['updated'] / n:.1f} rows updated per grant, {delta['rollback']} rollbacks"
    )

    cpu = meter.used()
    print(
        f"CPU per grant       {cpu['workers'] / n * 1000:.1f} ms in the workers (Celery + app) "
        f"+ {cpu['postgres'] / n * 1000:.1f} ms in PostgreSQL backends = "
        f"{(cpu['workers'] + cpu['postgres']) / n * 1000:.1f} ms, so at most "
        f"~{cpus * n / (cpu['workers'] + cpu['postgres']):,.0f} grants/s on {cpus} idle CPUs "
        f"[/proc, sampled; Redis and this process not counted]"
    )
    print("exactly once        " + "; ".join(notes))
    print("=" * 72)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print("OK: every grant paid exactly once.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
