"""Reading the app's HTML and its Content-Security-Policy header, for the security proofs."""

import json
from html.parser import HTMLParser

from donations.payouts.stripe_connect import STRIPE_HOSTED_ORIGIN

# Attributes whose value is a URL a browser may follow or load.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcset"}
# A strict source list never holds these: each lets inline or foreign code run.
LAX_SOURCES = {
    "'unsafe-inline'",
    "'unsafe-eval'",
    "'unsafe-hashes'",
    "'wasm-unsafe-eval'",
    "*",
    "data:",
    "blob:",
    "http:",
    "https:",
}


class Page(HTMLParser):
    """What a page holds that could run code, and what its forms send."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.body_headers: dict | None = None  # the <body>'s hx-headers, which htmx sends
        self.post_forms: list[dict] = []  # {"action": ..., "token": has csrfmiddlewaretoken}
        self.htmx_posts: list[str] = []  # URLs htmx posts (hx-post, hx-put, ...)

    @classmethod
    def parse(cls, html: str) -> "Page":
        page = cls()
        page.feed(html)
        page.close()
        return page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        where = f"<{tag} {' '.join(f'{k}={v!r}' for k, v in attributes.items())}>"[:160]
        if tag == "script":
            # JSON in <script type="application/json"> (Django's json_script) is data a
            # browser never runs, and no Content-Security-Policy covers it.
            if attributes.get("type", "").lower() == "application/json" and not attributes.get(
                "src"
            ):
                pass
            elif not attributes.get("src"):
                self.problems.append(f"inline script: {where}")
            elif attributes["src"].startswith(("http:", "https:", "//")):
                self.problems.append(f"script from another origin: {where}")
        if tag == "style":
            self.problems.append(f"inline <style>: {where}")
        for name, value in attributes.items():
            if name.startswith("on"):
                self.problems.append(f"event handler attribute {name}: {where}")
            elif name.startswith(("hx-on", "data-hx-on")):
                self.problems.append(f"htmx inline code {name}: {where}")
            elif name == "style":
                self.problems.append(f"style attribute: {where}")
            elif name in URL_ATTRIBUTES and "".join(value.split()).lower().startswith(
                ("javascript:", "vbscript:")
            ):
                self.problems.append(f"script URL in {name}: {where}")
            elif name.removeprefix("data-") in {"hx-vals", "hx-vars", "hx-headers"} and (
                value.strip().startswith(("js:", "javascript:"))
                or name.removeprefix("data-") == "hx-vars"
            ):
                self.problems.append(f"htmx evaluates {name}: {where}")
        headers = attributes.get("data-hx-headers", attributes.get("hx-headers"))
        if tag == "body" and headers is not None:
            self.body_headers = json.loads(headers)
        if tag == "form" and attributes.get("method", "get").lower() == "post":
            self.post_forms.append({"action": attributes.get("action", ""), "token": False})
        if (
            tag == "input"
            and attributes.get("name") == "csrfmiddlewaretoken"
            and self.post_forms
            and attributes.get("value")
        ):
            self.post_forms[-1]["token"] = True
        for verb in ("hx-post", "hx-put", "hx-patch", "hx-delete"):
            for name in (verb, f"data-{verb}"):
                if name in attributes:
                    self.htmx_posts.append(attributes[name])


def policy(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as {directive: [sources]}."""
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def policy_problems(header: str | None) -> list[str]:
    """What makes a page's policy less than strict: inline or foreign script and style,
    plugins, framing, a changed base URL, forms posted elsewhere."""
    if not header:
        return ["no Content-Security-Policy header"]
    directives = policy(header)
    problems = []
    for directive in ("script-src", "style-src"):
        sources = directives.get(directive, directives.get("default-src"))
        if sources is None:
            problems.append(f"no {directive} nor default-src")
        elif lax := LAX_SOURCES.intersection(sources):
            problems.append(f"{directive} allows {sorted(lax)}")
    expected = {
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
    form_action = directives.get("form-action") or []
    # The nonprofit's payouts page sends forms on to Stripe's hosted onboarding (that no other
    # page does: tests/donations/test_stripe_onboarding.py).
    if form_action[1:] == [STRIPE_HOSTED_ORIGIN]:
        directives["form-action"] = form_action[:1]
    for directive, sources in expected.items():
        if directives.get(directive) != sources:
            problems.append(f"{directive} is {directives.get(directive)}, not {sources}")
    return problems
