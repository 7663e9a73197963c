"""`{% pagecache "name" vary_on... %}…{% endpagecache %}`: the enclosed markup, rendered once
per data version, language and `vary_on` (core/page_cache.py). Only for markup that is the
same for everyone who may see the page: no user, no CSRF token inside. A `vary_on` value that
is None renders the markup afresh, uncached (for keys a visitor could vary without bound)."""

from django import template
from django.utils.safestring import mark_safe

from changemakers.core import page_cache

register = template.Library()


class PageCacheNode(template.Node):
    def __init__(self, nodelist, name, vary_on):
        self.nodelist, self.name, self.vary_on = nodelist, name, vary_on

    def render(self, context) -> str:
        vary_on = [value.resolve(context) for value in self.vary_on]
        if any(value is None for value in vary_on):
            return self.nodelist.render(context)
        html = page_cache.cached(
            f"fragment:{self.name.resolve(context)}",
            lambda: str(self.nodelist.render(context)),
            *vary_on,
        )
        # The template's own output, escaped as it rendered the first time.
        return mark_safe(html)  # nosec B308 B703


@register.tag
def pagecache(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% pagecache %} needs a name")
    nodelist = parser.parse(("endpagecache",))
    parser.delete_first_token()
    return PageCacheNode(
        nodelist, parser.compile_filter(bits[1]), [parser.compile_filter(b) for b in bits[2:]]
    )
