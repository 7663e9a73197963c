"""Every page of the product is valid HTML: the Nu HTML checker (vnu) finds no error in any of
them, in every language the site speaks.

The pages are those of the authorisation matrix (tests/security/matrix.py), asked with the
test client as each of its roles (each answer checked against the matrix too): every answer
that is an HTML document (the pages a role may open, and the error pages the others get) is
written to a folder, and vnu checks the whole folder in one run per language (the JVM takes
seconds to start). The admin is Django's own and left out; its accessibility is checked in
the browser sweep (tests/e2e).

vnu comes from the npm package `vnu-jar`, pinned in tests/e2e/package.json and installed by
`npm ci --prefix tests/e2e`; it needs Java. Without either the test skips on a laptop and fails
under CI=true.
"""

from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from tests.security import vnu
from tests.security.matrix import MATRIX
from tests.security.probe import mismatch, path_of, read
from tests.security.world import ROLES

pytestmark = pytest.mark.html_checker


def html_pages(world, language: str, folder: Path) -> dict[Path, str]:
    """Each role's HTML answer to each GET of the matrix, written to `folder`; the file's
    description (role, status, path) by file. Each answer is also the one the matrix expects
    (tests/security/test_authorization_matrix.py asks every role in English; here every role
    asks in each language, so a page that breaks only in one language is found)."""
    written: dict[Path, str] = {}
    wrong: list[str] = []
    for role in ROLES:
        client = world.client(role)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        for number, row in enumerate(MATRIX):
            if row.get is None:
                continue
            path = path_of(row, world)
            response = client.get(path)
            body = read(response)
            problem = mismatch(dict(row.get.items())[role], response, path, world)
            if problem:
                wrong.append(f"{role} GET {path} ({language}): {problem}")
            if not response.get("Content-Type", "").startswith("text/html"):
                continue
            if b"<html" not in body:
                continue  # an htmx fragment, checked inside the page that loads it
            assert f'<html lang="{language}"'.encode() in body, f"{role} {path}: not {language}"
            file = folder / f"{role}-{number:03d}-{response.status_code}.html"
            file.write_bytes(body)
            written[file] = f"{role} GET {path} ({response.status_code})"
    assert not wrong, "\n".join(wrong)
    return written


@pytest.mark.django_db
@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_every_page_passes_the_nu_html_checker(world, tmp_path: Path, language: str):
    pages = html_pages(world, language, tmp_path)
    roles = Counter(description.split()[0] for description in pages.values())
    # Every role gets pages; a matrix that lost its pages would pass for nothing.
    assert len(pages) >= 250, roles
    assert set(roles) == set(ROLES), roles

    if not vnu.available():
        pytest.fail(vnu.MISSING)
    errors = vnu.check(sorted(pages))
    lines = []
    for message in errors:
        file = Path(message.get("url", "").removeprefix("file:"))
        where = pages.get(file, str(file))
        line = message.get("lastLine", "?")
        extract = message.get("extract", "").strip().replace("\n", " ")[:160]
        lines.append(f"{where}, line {line}: {message['message']}\n    {extract}")
    assert not lines, f"{len(lines)} vnu errors ({language}):\n" + "\n".join(lines)


def test_the_checker_reports_an_invalid_page(tmp_path: Path):
    """The sweep above passes only because the pages are valid, not because vnu said nothing."""
    if not vnu.available():
        pytest.fail(vnu.MISSING)
    page = tmp_path / "invalid.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>t</title></head>'
        '<body><p><div>in a paragraph</div></p><time datetime="now">now</time></body></html>'
    )
    messages = vnu.check([page])
    assert len(messages) >= 2, messages
    assert all(m["url"].endswith("/invalid.html") for m in messages), messages
