"""A QR code as inline SVG, drawn here: the secret it carries never leaves the server."""

import qrcode
import qrcode.image.svg
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def qr_svg(text: str, *, label: str) -> SafeString:
    """`text` as an SVG QR code (one path, no style attribute, so the CSP holds), named
    `label` for assistive technology (the page shows the secret as text beside it)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode").replace('id="qr-path" ', "", 1)
    svg = svg.replace("<svg ", f'<svg class="qr-code" role="img" aria-label="{escape(label)}" ', 1)
    return mark_safe(svg)  # nosec B308 B703 # drawn by qrcode from our own URL, label escaped
