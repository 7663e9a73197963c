"""`{% share_meta %}`: a page's Open Graph and Twitter card tags (components/open_graph.html).

Every address in them is absolute (`request.build_absolute_uri`: https behind the production
proxy). A page names its own image; any other page shows the program's. Images are drawn in
the page's language (`?lang=`), the default language's without it.
"""

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils import translation

register = template.Library()

# Open Graph wants a territory; each language's usual one.
OG_LOCALES = {"en": "en_GB", "fr": "fr_FR", "es": "es_ES", "ar": "ar_AR"}
SHARE_IMAGE_SIZE = (1200, 630)


def og_locale(code: str) -> str:
    return OG_LOCALES.get(code, code.replace("-", "_"))


def share_image_path(path: str, language: str | None = None) -> str:
    """`path` of a share image, for the language the page is read in."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    return path if language == settings.LANGUAGE_CODE else f"{path}?lang={language}"


@register.inclusion_tag("components/open_graph.html", takes_context=True)
def share_meta(
    context,
    *,
    title: str,
    description: str,
    og_type: str = "website",
    image: str = "",
    image_alt: str = "",
) -> dict:
    """`image` is a share image's path (the program's when empty); `image_alt` says what it
    shows."""
    request = context.get("request")

    def absolute(path: str) -> str:
        # A page rendered without a request (none is, today) still gets whole addresses.
        if request is None:
            return f"{settings.SITE_URL.rstrip('/')}{path}"
        return request.build_absolute_uri(path)

    language = translation.get_language() or settings.LANGUAGE_CODE
    if not image:
        image = reverse("share:program-image")
        image_alt = image_alt or translation.gettext(
            "Change Makers: creators using their voice for social impact"
        )
    width, height = SHARE_IMAGE_SIZE
    return {
        "title": title,
        "description": description,
        "og_type": og_type,
        # The page itself, without its query string: filtered and paged views point at it.
        "url": absolute(request.path if request is not None else "/"),
        "image": absolute(share_image_path(image, language)),
        "image_alt": image_alt or title,
        "image_width": width,
        "image_height": height,
        "locale": og_locale(language),
        "alternates": [og_locale(code) for code, _ in settings.LANGUAGES if code != language],
        "social_account": settings.PROGRAM_SOCIAL_ACCOUNT,
    }
