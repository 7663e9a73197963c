"""pip-audit on every locked dependency: `python -m tests.security.dependency_audit`.

uv exports the lock (uv.lock, dev tools included) as pinned requirements, and pip-audit checks
each pin against a vulnerability service, without resolving or installing anything. The
service is PyPI's advisories (pip-audit's default) when PyPI answers per-release questions,
else OSV's; `--service` chooses one. Any known vulnerability, or a pin that cannot be checked,
fails.

When neither service can be reached the dependencies cannot be audited: that fails too, unless
`--unreachable warn` (what .ci/run passes: its machines reach PyPI only through a proxy that
answers neither), which prints that nothing was audited and why, and passes.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from importlib.metadata import version
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VENV_BIN = Path(sys.executable).parent
PYPI_RELEASE_URL = "https://pypi.org/pypi/{name}/{version}/json"
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
    parser.add_argument("--service", choices=["auto", "pypi", "osv"], default="auto")
    parser.add_argument("--osv-url", default=OSV_URL)
    parser.add_argument("--unreachable", choices=["fail", "warn"], default="fail")
    args = parser.parse_args(argv)

    answers = {"pypi": pypi_answers, "osv": lambda: osv_answers(args.osv_url)}
    candidates = ["pypi", "osv"] if args.service == "auto" else [args.service]
    service = next((name for name in candidates if answers[name]()), "none")
    if service == "none":
        where = {"pypi": f"PyPI's per-release data ({PYPI_RELEASE_URL})", "osv": args.osv_url}
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


if __name__ == "__main__":
    sys.exit(main())
