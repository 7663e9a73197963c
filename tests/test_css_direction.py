"""The stylesheets mirror for right-to-left languages (Arabic): boxes are placed with CSS
logical properties (`margin-inline-start`, `inset-inline-start`, `text-align: start`), never
with physical left/right, so `dir="rtl"` on <html> mirrors the whole layout."""

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parent.parent / "static" / "css"
# A property naming a physical side, or a four-value margin/padding whose sides differ.
PHYSICAL = re.compile(
    r"^\s*(?:(?:margin|padding|border)-(?:left|right)|left|right|float|clear)\s*:"
    r"|^\s*text-align\s*:\s*(?:left|right)\b"
)
FOUR_SIDES = re.compile(r"^\s*(?:margin|padding)\s*:\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*;")


def physical_rules(css: str) -> list[str]:
    found = []
    # Page margin boxes (@bottom-left...) of the PDF are sides of the paper, not of the text.
    for number, line in enumerate(css.splitlines(), start=1):
        if PHYSICAL.search(line):
            found.append(f"{number}: {line.strip()}")
        four = FOUR_SIDES.search(line)
        if four and four.group(2) != four.group(4):
            found.append(f"{number}: {line.strip()}")
    return found


@pytest.mark.parametrize("name", ["app.css", "pdf.css"])
def test_stylesheets_use_logical_sides(name):
    css = (STATIC / name).read_text()
    if name == "pdf.css":
        # The page's own footer boxes are placed on the paper, whatever the language.
        css = re.sub(r"@bottom-(?:left|right)\s*\{[^}]*\}", "", css)
    assert physical_rules(css) == []


def test_the_check_finds_a_physical_side():
    assert physical_rules(".a {\n  margin-left: 1rem;\n  padding: 0 1rem 0 0;\n}") == [
        "2: margin-left: 1rem;",
        "3: padding: 0 1rem 0 0;",
    ]
