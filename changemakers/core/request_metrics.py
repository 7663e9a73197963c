"""django-prometheus's closing middleware, made to take any request Django takes.

Its `process_request` reads `Content-Length` with a bare `int()`, so a garbled length (which
Django itself reads as an empty body) raised a ValueError and turned the page into a 500.
Here that request is counted as Django reads it: a body of 0 bytes.
"""

from django_prometheus import middleware
from django_prometheus.utils import Time


class PrometheusAfterMiddleware(middleware.PrometheusAfterMiddleware):
    def process_request(self, request):
        try:
            super().process_request(request)
        except ValueError:  # the Content-Length only; the counters before it are counted
            self.label_metric(self.metrics.requests_body_bytes, request).observe(0)
            request.prometheus_after_middleware_event = Time()
