"""pip-audit on every locked dependency: `python -m tests.security.dependency_audit`.

uv exports the lock (uv.lock, dev tools included) as pinned requirements, and pip-audit checks
each pin against a vulnerability service, without resolving or installing anything. The
service is PyPI's advisories (pip-audit's default) when PyPI answers per-release questions,
else OSV's, else PyPI's project pages; `--service` chooses one. Any known vulnerability, or a
pin that cannot be checked, fails.

The third, `pypi-latest`, is for machines like ours, whose proxy to PyPI serves each project's
JSON (`/pypi/<name>/json`) but not the per-release JSON pip-audit reads, and no OSV: a bridge on
localhost answers pip-audit's OSV questions from the project JSON, whose `vulnerabilities` are
PyPI's advisories (the same OSV data) for the project's latest release. A pin at the latest
release is audited in full; a pin behind it cannot be, and is listed as not audited (a warning:
a new upstream release must not break the build by itself; upgrade the pin to audit it).

When no service can be reached the dependencies cannot be audited: that fails too, unless
`--unreachable warn`, which prints that nothing was audited and why, and passes.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path

from packaging.version import InvalidVersion, Version

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VENV_BIN = Path(sys.executable).parent
PYPI_RELEASE_URL = "https://pypi.org/pypi/{name}/{version}/json"
PYPI_PROJECT_URL = "https://pypi.org/pypi/{name}/json"
OSV_URL = "https://api.osv.dev/v1/query"
PROBE_TIMEOUT = 10


def _answers(request: urllib.request.Request) -> bool:
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def pypi_answers() -> bool:
    """PyPI's per-release JSON, where pip-audit reads advisories: asked for pip-audit itself."""
    url = PYPI_RELEASE_URL.format(name="pip-audit", version=version("pip-audit"))
    return _answers(urllib.request.Request(url))


def osv_answers(osv_url: str) -> bool:
    query = {"package": {"name": "pip-audit", "ecosystem": "PyPI"}, "version": version("pip-audit")}
    request = urllib.request.Request(
        osv_url, data=json.dumps(query).encode(), headers={"Content-Type": "application/json"}
    )
    return _answers(request)


def pypi_projects_answer(project_url: str) -> bool:
    return _answers(urllib.request.Request(project_url.format(name="pip-audit")))


def _osv_advisory(name: str, advisory: dict) -> dict:
    """One of PyPI's advisories (project JSON) in OSV's shape, as pip-audit reads it."""
    events = [{"introduced": "0"}, *({"fixed": fixed} for fixed in advisory.get("fixed_in") or [])]
    return {
        "id": advisory["id"],
        "aliases": advisory.get("aliases") or [],
        "summary": advisory.get("summary") or "",
        "details": advisory.get("details") or "",
        "affected": [
            {
                "package": {"name": name, "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
    }


class LatestReleaseBridge(BaseHTTPRequestHandler):
    """OSV's query API on localhost, answered from PyPI's project JSON (see the module's doc)."""

    project_url = PYPI_PROJECT_URL
    behind: list[str] = []

    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name, pinned = query["package"]["name"], query["version"]
        try:
            url = self.project_url.format(name=name)
            with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT) as response:
                project = json.load(response)
            latest = project["info"]["version"]
            at_latest = Version(pinned) == Version(latest)
        except (urllib.error.URLError, OSError, KeyError, ValueError, InvalidVersion) as error:
            self._answer(502, {"error": f"{name}: {error}"})
            return
        if not at_latest:
            self.behind.append(f"{name}=={pinned} (latest {latest})")
            self._answer(200, {})
            return
        advisories = [a for a in project.get("vulnerabilities") or [] if not a.get("withdrawn")]
        self._answer(
            200, {"vulns": [_osv_advisory(name, a) for a in advisories]} if advisories else {}
        )

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@contextmanager
def latest_release_bridge() -> Iterator[str]:
    LatestReleaseBridge.behind = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), LatestReleaseBridge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1/query"
    finally:
        server.shutdown()
        server.server_close()


def locked_requirements(path: Path) -> None:
    subprocess.run(
        [
            VENV_BIN / "uv",
            "export",
            *("--frozen", "--no-hashes", "--no-emit-project", "--quiet"),
            *("--format", "requirements-txt", "--output-file", str(path)),
        ],
        cwd=BASE_DIR,
        check=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", choices=["auto", "pypi", "osv", "pypi-latest"], default="auto")
    parser.add_argument("--osv-url", default=OSV_URL)
    parser.add_argument("--pypi-project-url", default=PYPI_PROJECT_URL, help="for pypi-latest")
    parser.add_argument("--unreachable", choices=["fail", "warn"], default="fail")
    args = parser.parse_args(argv)

    answers = {
        "pypi": pypi_answers,
        "osv": lambda: osv_answers(args.osv_url),
        "pypi-latest": lambda: pypi_projects_answer(args.pypi_project_url),
    }
    candidates = ["pypi", "osv", "pypi-latest"] if args.service == "auto" else [args.service]
    service = next((name for name in candidates if answers[name]()), "none")
    if service == "none":
        where = {
            "pypi": f"PyPI's per-release data ({PYPI_RELEASE_URL})",
            "osv": args.osv_url,
            "pypi-latest": f"PyPI's project data ({args.pypi_project_url})",
        }
        asked = " nor ".join(where[name] for name in candidates)
        print(f"pip-audit: NOT AUDITED. No answer from {asked}.", file=sys.stderr)
        return 0 if args.unreachable == "warn" else 1

    with tempfile.TemporaryDirectory() as folder:
        requirements = Path(folder) / "requirements.txt"
        locked_requirements(requirements)
        pinned = sum(
            1 for line in requirements.read_text().splitlines() if "==" in line.split(";")[0]
        )
        print(f"pip-audit: {pinned} locked dependencies against {service}", flush=True)
        command = [
            VENV_BIN / "pip-audit",
            *("--requirement", str(requirements)),
            *("--no-deps", "--disable-pip", "--strict", "--progress-spinner", "off"),
            *("--vulnerability-service", service),
        ]
        if service == "osv":
            command += ["--osv-url", args.osv_url]
            return subprocess.run(command, cwd=BASE_DIR, check=False).returncode
        if service == "pypi":
            return subprocess.run(command, cwd=BASE_DIR, check=False).returncode
        LatestReleaseBridge.project_url = args.pypi_project_url
        with latest_release_bridge() as bridge:
            command[-1] = "osv"
            command += ["--osv-url", bridge]
            status = subprocess.run(command, cwd=BASE_DIR, check=False).returncode
        audited = pinned - len(LatestReleaseBridge.behind)
        print(f"pip-audit: {audited} of {pinned} pins audited (at their latest release).")
        if LatestReleaseBridge.behind:
            print(
                "pip-audit: NOT AUDITED, behind their latest release (upgrade to audit): "
                + ", ".join(sorted(LatestReleaseBridge.behind)),
                file=sys.stderr,
            )
        return status


if __name__ == "__main__":
    sys.exit(main())
