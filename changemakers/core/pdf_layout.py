"""WeasyPrint, narrowed to our own static files: imported only by `pdf.pdf_render`, the first
time a process makes a PDF (the library takes seconds to import)."""

from weasyprint import HTML, URLFetcher
from weasyprint.urls import URLFetcherResponse

from .pdf import RESOURCE_ORIGIN, RESOURCE_TYPES, static_file_path


class StaticFileFetcher(URLFetcher):
    """WeasyPrint's fetcher, narrowed to our static files on disk: no network, no `file:`,
    no `data:`, no redirects. Subclassed (not a plain function) because WeasyPrint reads its
    settings from the fetcher."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        path = static_file_path(url)
        content_type = RESOURCE_TYPES[path.suffix.lower()]
        return URLFetcherResponse(
            url, body=path.read_bytes(), headers={"Content-Type": content_type}
        )


def html_to_pdf(html: str) -> bytes:
    """The PDF of `html`, whose relative URLs name our static files."""
    document = HTML(string=html, base_url=RESOURCE_ORIGIN + "/", url_fetcher=StaticFileFetcher())
    return document.write_pdf()
