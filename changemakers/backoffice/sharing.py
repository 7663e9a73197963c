"""The preview images social networks show when a public page is shared: one per creator, one
per nonprofit and one for the program, 1200x630 PNG drawn here with Pillow (no outside service).

A `Card` is what an image shows, read from the same public fields as the page it previews (a
creator's country and causes only where they chose to show them). Its digest names the image:
the drawn text, the language and the layout's version. So the digest is the ETag, the key of
the rendered PNG in the "pages" cache, and changes exactly when what is drawn changes (a new
name, a new cause, a new hashtag): nothing else retires an image, and nothing needs to.

Fonts: DejaVu Sans, from Debian's fonts-dejavu-core (the Dockerfile installs it for the PDF
receipts). Arabic and Hebrew need shaping and bidirectional layout, which Pillow has only with
libraqm: without it, a name in those scripts is left out (the @handle stands in for it) and
the labels are drawn in English, rather than drawing unjoined, reversed letters. A script the
font has no glyphs for (Chinese, Devanagari, ...) is left out the same way.
"""

import hashlib
import io
import logging
from dataclasses import astuple, dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.utils import translation
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont, features

logger = logging.getLogger(__name__)

WIDTH, HEIGHT = 1200, 630
# Raise when the drawing changes: every image is drawn anew (its digest, hence ETag, changes).
LAYOUT_VERSION = "1"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
# A rendered image is named by its content: it can live long, nothing makes it stale.
CACHE_TIMEOUT = 7 * 24 * 3600

# The site's colours (static/css/app.css).
PRIMARY = "#0b5d5b"
PRIMARY_DARK = "#07403f"
ACCENT = "#f2b544"
SOFT = "#e3f0ee"
WHITE = "#ffffff"
MARGIN = 80

# Scripts DejaVu Sans draws: Latin, Greek, Cyrillic, Armenian and the usual punctuation and
# symbols; Hebrew and Arabic only when they can be shaped (libraqm).
_PLAIN_RANGES = ((0x0000, 0x058F), (0x1D00, 0x2BFF), (0xFB00, 0xFB06))
_SHAPED_RANGES = ((0x0590, 0x06FF), (0x0750, 0x077F), (0xFB1D, 0xFDFF), (0xFE70, 0xFEFF))


@cache
def can_shape() -> bool:
    """Whether Pillow lays text out with libraqm (Arabic joined, right to left)."""
    return bool(features.check("raqm"))


def _in(ranges, code: int) -> bool:
    return any(low <= code <= high for low, high in ranges)


def drawable(text: str) -> bool:
    """Whether every character of `text` can be drawn properly here."""
    shaped = can_shape()
    return all(
        _in(_PLAIN_RANGES, ord(char)) or (shaped and _in(_SHAPED_RANGES, ord(char)))
        for char in text
    )


def is_rtl(text: str) -> bool:
    return any(_in(_SHAPED_RANGES, ord(char)) for char in text)


def card_language(code: str) -> str:
    """The language an image is drawn in: the one asked for, or English for a right-to-left
    language that cannot be shaped here."""
    if code not in dict(settings.LANGUAGES):
        return settings.LANGUAGE_CODE
    if translation.get_language_info(code)["bidi"] and not can_shape():
        return "en"
    return code


@dataclass(frozen=True)
class Card:
    """What one image shows. `title` is empty when it cannot be drawn (the handle leads)."""

    language: str
    kicker: str
    title: str
    handle: str = ""
    details: tuple[str, ...] = field(default_factory=tuple)
    footer: str = ""
    rtl: bool = False

    @property
    def digest(self) -> str:
        parts = "\x1f".join(str(part) for part in (LAYOUT_VERSION, can_shape(), *astuple(self)))
        return hashlib.sha256(parts.encode()).hexdigest()[:32]

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'


def _keep(text: str) -> str:
    return text if drawable(text) else ""


def creator_card(creator, *, year: int | None, language: str) -> Card:
    """A creator's image: their name, @handle, and the country and causes they show."""
    with translation.override(language):
        details = []
        if creator.public_country:
            details.append(_keep(str(creator.public_country.name)))
        causes = " · ".join(creator.public_causes_display)
        if causes:
            details.append(_keep(causes))
        kicker = _("Change Makers %(year)s") % {"year": year} if year else _("Change Makers")
        return Card(
            language=language,
            kicker=kicker,
            title=_keep(creator.display_name),
            handle=creator.at_handle,
            details=tuple(d for d in details if d),
            footer=settings.PROGRAM_HASHTAG,
            rtl=bool(translation.get_language_bidi()),
        )


def nonprofit_card(nonprofit, *, language: str) -> Card:
    """A nonprofit's image: its name, country and causes."""
    with translation.override(language):
        details = [
            _keep(str(nonprofit.country.name)),
            _keep(" · ".join(nonprofit.get_causes_display())),
        ]
        return Card(
            language=language,
            kicker=_("Supported by Change Makers"),
            # A name that cannot be drawn: the card still says what it is.
            title=_keep(nonprofit.legal_name) or _("A nonprofit the program supports"),
            details=tuple(d for d in details if d),
            footer=settings.PROGRAM_HASHTAG,
            rtl=bool(translation.get_language_bidi()),
        )


def program_card(*, language: str) -> Card:
    """The program's own image: what every page without one of its own shows."""
    with translation.override(language):
        return Card(
            language=language,
            kicker=settings.PROGRAM_SOCIAL_ACCOUNT,
            title=_("Change Makers"),
            details=(
                _("Creators using their voice for social impact, and the nonprofits they name."),
            ),
            footer=settings.PROGRAM_HASHTAG,
            rtl=bool(translation.get_language_bidi()),
        )


# --- Drawing ---------------------------------------------------------------------------------


def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    engine = ImageFont.Layout.RAQM if can_shape() else ImageFont.Layout.BASIC
    return _loaded_font(path, size, engine)


@cache
def _loaded_font(path: Path, size: int, engine: ImageFont.Layout) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size, layout_engine=engine)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int, max_lines: int) -> list[str]:
    """`text` in lines no wider than `width`, at most `max_lines`, the last cut with "…"."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if font.getlength(candidate) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = f"{lines[-1]}…"
    for i, line in enumerate(lines):
        while font.getlength(line) > width and len(line) > 1:
            line = f"{line[:-2].rstrip()}…"
        lines[i] = line
    return lines


def _fit(text: str, path: Path, sizes: tuple[int, ...], width: int, max_lines: int):
    """The largest of `sizes` at which `text` fits in `max_lines` lines."""
    for size in sizes:
        font = _font(path, size)
        lines = _wrap(text, font, width, max_lines=99)
        if len(lines) <= max_lines:
            return font, lines
    font = _font(path, sizes[-1])
    return font, _wrap(text, font, width, max_lines)


def render(card: Card) -> bytes:
    """The card as a 1200x630 PNG."""
    image = Image.new("RGB", (WIDTH, HEIGHT), PRIMARY)
    draw = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN
    start, anchor_x = (WIDTH - MARGIN, "r") if card.rtl else (MARGIN, "l")
    shaped = can_shape()

    def text(y: int, value: str, font, fill: str, *, ltr: bool = False) -> None:
        options = {}
        if shaped:
            # The handle is Latin and reads left to right, whatever the page's language.
            options["direction"] = "ltr" if ltr else ("rtl" if is_rtl(value) else "ltr")
        draw.text((start, y), value, font=font, fill=fill, anchor=f"{anchor_x}a", **options)

    # A band along the top and the bottom strip, in the site's accent and darker green.
    draw.rectangle((0, 0, WIDTH, 16), fill=ACCENT)
    draw.rectangle((0, HEIGHT - 110, WIDTH, HEIGHT), fill=PRIMARY_DARK)

    y = 70
    text(y, card.kicker, _font(BOLD, 36), ACCENT)
    y += 70
    headline = card.title or card.handle
    font, lines = _fit(headline, BOLD, (84, 72, 60, 52), inner, max_lines=2)
    for line in lines:
        text(y, line, font, WHITE, ltr=not card.title)
        y += int(font.size * 1.2)
    if card.title and card.handle:
        y += 6
        text(y, card.handle, _font(REGULAR, 44), SOFT, ltr=True)
        y += 64
    y += 16 if card.title and card.handle else 28
    detail_font = _font(REGULAR, 34)
    for detail in card.details:
        for line in _wrap(detail, detail_font, inner, max_lines=2):
            if y > HEIGHT - 110 - 50:
                break
            text(y, line, detail_font, SOFT)
            y += 46
    if card.footer:
        footer_font = _font(BOLD, 40)
        draw.text(
            (start, HEIGHT - 55),
            card.footer,
            font=footer_font,
            fill=ACCENT,
            anchor=f"{anchor_x}m",
            **({"direction": "ltr"} if shaped else {}),
        )

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def card_png(card: Card) -> bytes:
    """The card's PNG, drawn once per digest while the "pages" cache keeps it."""
    pages = caches["pages"]
    key = f"share-image:{card.digest}"
    try:
        png = pages.get(key)
    except Exception:
        logger.warning("The pages cache did not answer; drawing the share image", exc_info=True)
        return render(card)
    if png is None:
        png = render(card)
        try:
            pages.set(key, png, timeout=CACHE_TIMEOUT)
        except Exception:
            logger.warning("The pages cache did not answer; share image not kept", exc_info=True)
    return png
