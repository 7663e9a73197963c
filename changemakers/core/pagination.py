"""One way to page a list, for every app's list pages."""

from django.core.paginator import Paginator
from django.http import HttpRequest


def page_context(
    request: HttpRequest, rows, per_page: int, *, number=None, count: int | None = None
) -> dict:
    """The page of `rows` that ?page= (or `number`) asks for (the last page when past the end,
    the first when not a number), with the elided page range that components/pagination.html
    shows. `count`: how many `rows` there are, when the page has counted them already."""
    paginator = Paginator(rows, per_page)
    if count is not None:
        paginator.count = count  # the value Paginator.count would otherwise query and keep
    page_obj = paginator.get_page(number or request.GET.get("page"))
    return {
        "page_obj": page_obj,
        "page_range": page_obj.paginator.get_elided_page_range(page_obj.number),
    }
