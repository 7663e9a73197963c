"""`{% lang_attr obj "field" %}`: ` lang="en"` on an element whose staff-written text is shown
in English because it has no text in the page's language (a screen reader then switches voice),
nothing when the text is the page's own. Load with `{% load content_languages %}`."""

from django import template
from django.utils import translation
from django.utils.html import format_html

from changemakers.core.content_languages import fallback_language, text_direction

register = template.Library()


@register.simple_tag
def lang_attr(obj, field: str) -> str:
    if obj is None:
        return ""
    shown = fallback_language(obj, field)
    if shown == translation.get_language():
        return ""
    return format_html(' lang="{}" dir="{}"', shown, text_direction(shown))
