"""`{% pagecache "name" vary_on... %}…{% endpagecache %}`: the enclosed markup, rendered once
per data version, language and `vary_on` (core/page_cache.py). Only for markup that is the
same for everyone who may see the page with the same `vary_on` (a person's own part names
them in it, as the navigation does): no CSRF token inside. A `vary_on` value that is None
renders the markup afresh, uncached (for keys a visitor could vary without bound).

`{% pagecache_rows "name" rows %}` before a list's loop, then `{% pagecache_row "name" row %}…
{% endpagecache_row %}` inside it: a part of each row, cached per row version
(`page_cache.RowFragments`), all the rows' parts fetched at once. Without the first (a row
rendered alone, as htmx asks after a row action) the row's part is fetched on its own."""

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


def _rows_key(name: str) -> str:
    return f"pagecache_rows:{name}"


class PageCacheRowsNode(template.Node):
    def __init__(self, name, rows):
        self.name, self.rows = name, rows

    def render(self, context) -> str:
        name = self.name.resolve(context)
        context[_rows_key(name)] = page_cache.RowFragments(name, self.rows.resolve(context))
        return ""


class PageCacheRowNode(template.Node):
    def __init__(self, nodelist, name, row):
        self.nodelist, self.name, self.row = nodelist, name, row

    def render(self, context) -> str:
        name, row = self.name.resolve(context), self.row.resolve(context)
        fragments = context.get(_rows_key(name)) or page_cache.RowFragments(name, [row])
        html = fragments.get(row, lambda: str(self.nodelist.render(context)))
        # The template's own output, escaped as it rendered the first time.
        return mark_safe(html)  # nosec B308 B703


@register.tag
def pagecache_rows(parser, token):
    bits = token.split_contents()
    if len(bits) != 3:
        raise template.TemplateSyntaxError('{% pagecache_rows "name" rows %}')
    return PageCacheRowsNode(parser.compile_filter(bits[1]), parser.compile_filter(bits[2]))


@register.tag
def pagecache_row(parser, token):
    bits = token.split_contents()
    if len(bits) != 3:
        raise template.TemplateSyntaxError('{% pagecache_row "name" row %}')
    nodelist = parser.parse(("endpagecache_row",))
    parser.delete_first_token()
    return PageCacheRowNode(
        nodelist, parser.compile_filter(bits[1]), parser.compile_filter(bits[2])
    )
