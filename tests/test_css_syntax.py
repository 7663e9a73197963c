"""The stylesheets close every rule they open. A lost `}` is not a parse error in today's
browsers: they read what follows as rules nested inside the unclosed one (CSS nesting), so
every rule after it silently stops matching. The project writes no nested rules, so a rule
opened inside another style rule (not an @media or @supports block) is such a lost brace."""

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parent.parent / "static" / "css"
COMMENTS = re.compile(r"/\*.*?\*/", re.DOTALL)
STRINGS = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")


def unclosed_rules(css: str) -> list[str]:
    """The rules opened inside a style rule, and the ones never closed, with their lines."""
    # Comments and strings are blanked out character for character: line numbers hold.
    css = COMMENTS.sub(lambda match: re.sub(r"[^\n]", " ", match.group()), css)
    css = STRINGS.sub(lambda match: '"' + " " * (len(match.group()) - 2) + '"', css)
    found: list[str] = []
    stack: list[tuple[str, int]] = []
    start = 0
    for index, char in enumerate(css):
        if char in "{};":
            prelude = css[start:index].strip()
            line = css.count("\n", 0, index) + 1
            if char == "{":
                if stack and not stack[-1][0].startswith("@"):
                    found.append(f"{line}: {prelude} (inside {stack[-1][0]}, line {stack[-1][1]})")
                stack.append((prelude, line))
            elif char == "}":
                if not stack:
                    found.append(f"{line}: a '}}' that closes nothing")
                else:
                    stack.pop()
            start = index + 1
    found.extend(f"{line}: {prelude} is never closed" for prelude, line in stack)
    return found


@pytest.mark.parametrize("name", ["app.css", "pdf.css"])
def test_stylesheets_close_every_rule(name):
    assert unclosed_rules((STATIC / name).read_text()) == []


def test_the_check_finds_a_lost_brace():
    css = ".a {\n  color: red;\n\n.b {\n  color: blue;\n}\n"
    assert unclosed_rules(css) == [
        "4: .b (inside .a, line 1)",
        "1: .a is never closed",
    ]
    assert unclosed_rules("@media print {\n  .a { color: red; }\n}\n") == []
