"""The Nu HTML checker (vnu), from the npm package `vnu-jar` pinned in tests/e2e/package.json
(`npm ci --prefix tests/e2e` installs it). It runs on Java, once per batch of files: the JVM
takes seconds to start."""

import json
import shutil
import subprocess
from pathlib import Path

VNU_JAR = Path(__file__).parents[1] / "e2e" / "node_modules" / "vnu-jar" / "build" / "dist"
VNU_JAR = VNU_JAR / "vnu.jar"
MISSING = (
    "the Nu HTML checker needs Java (apt-get install default-jre-headless) and "
    f"{VNU_JAR} (npm ci --prefix tests/e2e)"
)


def available() -> bool:
    return shutil.which("java") is not None and VNU_JAR.exists()


def check(files: list[Path]) -> list[dict]:
    """vnu's error messages about `files` (its JSON `messages`, warnings left out)."""
    result = subprocess.run(
        [
            *(shutil.which("java") or "java", "-Xss4m", "-jar", str(VNU_JAR)),
            *("--format", "json", "--errors-only", *(str(file) for file in files)),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # vnu writes its report to stderr and exits 1 when it found errors.
    try:
        messages = json.loads(result.stderr)["messages"]
    except (json.JSONDecodeError, KeyError) as error:
        raise RuntimeError(
            f"vnu failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
        ) from error
    return [m for m in messages if m.get("type") in {"error", "non-document-error"}]
