"""`make security`'s dependency audit, run for real (uv export, pip-audit) against a stand-in
OSV service on localhost, since the real ones are outside the product (and out of this
machine's reach): a known vulnerability in a locked package fails it, a clean answer passes,
and a service nobody can reach fails unless told to warn."""

import json
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.security.dependency_audit import BASE_DIR

LOCKED = {
    package["name"]: package["version"]
    for package in tomllib.loads((BASE_DIR / "uv.lock").read_text())["package"]
    if "version" in package
}

ADVISORY = {
    "id": "PYSEC-0000-TEST",
    "summary": "A stand-in advisory",
    "affected": [
        {
            "package": {"name": "django", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99.0"}]}],
        }
    ],
}


class JsonService(BaseHTTPRequestHandler):
    """A stand-in web service on localhost that answers JSON."""

    def answer(self, data: dict) -> None:
        body = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextmanager
def serving(handler: type[JsonService]) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


class FakeOsv(JsonService):
    vulnerable: set[str] = set()
    asked: list[str] = []

    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name = query["package"]["name"]
        self.asked.append(name)
        self.answer({"vulns": [ADVISORY]} if name in self.vulnerable else {})


@pytest.fixture
def osv() -> Iterator[str]:
    FakeOsv.vulnerable, FakeOsv.asked = set(), []
    with serving(FakeOsv) as port:
        yield f"http://127.0.0.1:{port}/v1/query"


class FakePypiProjects(JsonService):
    """PyPI's project JSON (`/pypi/<name>/json`): every project's latest release is the locked
    one, except those in `newer`; those in `vulnerable` carry an advisory."""

    newer: dict[str, str] = {}
    vulnerable: set[str] = set()

    def do_GET(self) -> None:
        name = self.path.split("/")[2]
        if name not in LOCKED:
            self.send_error(404)
            return
        advisory = {
            "id": "PYSEC-0000-LATEST",
            "aliases": ["CVE-0000-0000"],
            "summary": "A stand-in advisory on the latest release",
            "fixed_in": ["99.0"],
            "withdrawn": None,
        }
        project = {
            "info": {"name": name, "version": self.newer.get(name, LOCKED[name])},
            "vulnerabilities": [advisory] if name in self.vulnerable else [],
        }
        self.answer(project)


@pytest.fixture
def pypi_projects() -> Iterator[str]:
    FakePypiProjects.newer, FakePypiProjects.vulnerable = {}, set()
    with serving(FakePypiProjects) as port:
        yield f"http://127.0.0.1:{port}/pypi/{{name}}/json"


def audit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.security.dependency_audit", *args],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_locked_dependency_is_asked_about_and_a_clean_answer_passes(osv):
    result = audit("--service", "osv", "--osv-url", osv)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No known vulnerabilities found" in result.stdout + result.stderr
    # The app's, the worker's and the dev tools' packages all; Windows-only ones are skipped.
    assert {"django", "celery", "pillow", "psycopg", "pytest", "bandit"} <= set(FakeOsv.asked)
    assert "colorama" not in FakeOsv.asked


def test_a_known_vulnerability_fails_the_audit(osv):
    FakeOsv.vulnerable = {"django"}
    result = audit("--service", "osv", "--osv-url", osv)
    assert result.returncode != 0
    assert "PYSEC-0000-TEST" in result.stdout
    assert "django" in result.stdout


def test_an_unreachable_service_fails_unless_told_to_warn(osv):
    nowhere = osv.rsplit(":", 1)[0] + ":9/v1/query"  # the discard port: nobody answers
    failed = audit("--service", "osv", "--osv-url", nowhere)
    assert failed.returncode == 1
    assert "NOT AUDITED" in failed.stderr
    warned = audit("--service", "osv", "--osv-url", nowhere, "--unreachable", "warn")
    assert warned.returncode == 0
    assert "NOT AUDITED" in warned.stderr


def latest(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return audit("--service", "pypi-latest", "--pypi-project-url", url, *args)


def test_pins_at_their_latest_release_are_audited_from_pypi_project_data(pypi_projects):
    clean = latest(pypi_projects)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "No known vulnerabilities found" in clean.stdout + clean.stderr
    pinned = int(clean.stdout.split(" locked dependencies")[0].rsplit(" ", 1)[-1])
    assert f"{pinned} of {pinned} pins audited" in clean.stdout

    FakePypiProjects.vulnerable = {"django"}
    found = latest(pypi_projects)
    assert found.returncode != 0
    assert "PYSEC-0000-LATEST" in found.stdout
    assert "django" in found.stdout


def test_a_pin_behind_its_latest_release_is_named_as_not_audited(pypi_projects):
    FakePypiProjects.newer = {"django": "99.0"}
    result = latest(pypi_projects)
    assert result.returncode == 0, result.stdout + result.stderr
    behind = "NOT AUDITED, behind their latest release (upgrade to audit): "
    assert f"{behind}django=={LOCKED['django']} (latest 99.0)" in result.stderr


def test_unreachable_pypi_project_data_fails(pypi_projects):
    nowhere = pypi_projects.replace(pypi_projects.split("/")[2].split(":")[1], "9", 1)
    result = latest(nowhere)
    assert result.returncode == 1
    assert "NOT AUDITED. No answer from PyPI's project data" in result.stderr
