"""Refuse a request whose body is announced as larger than `MAX_REQUEST_BYTES`, with 413
and a page of the site, before anything reads that body.

Django's own caps (`DATA_UPLOAD_MAX_MEMORY_SIZE`, and the forms' per-file limits) apply only
once the body is being parsed: by then a huge upload has been received and spooled to disk.
The announced length is checked here instead, in `__call__`, which runs before any view or
`process_view` (CSRF's included) touches `request.POST` or `request.FILES`. A body sent
without a length is not read by Django's WSGI handler at all, and a proxy in front should
cap bodies too (nginx's `client_max_body_size`).
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class RequestSizeLimitMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # as Django reads it: a garbled length is an empty body
        if length > limit:
            response = render(request, "413.html", {"limit": limit}, status=413)
            # Most of the body is still on its way: do not keep this connection for another.
            response.headers["Connection"] = "close"
            return response
        return self.get_response(request)
