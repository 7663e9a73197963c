"""What every API view shares: its filters validated (a 400 for a bad one), the lookup value
checked before any query (an id that is not one is a 404, never a 500), ETags on every read,
and writes run through a service inside one transaction with the token's use audited."""

import hashlib
from collections.abc import Callable

from django.db import transaction
from django.http import HttpResponseNotModified
from django.utils.cache import parse_etags, patch_vary_headers
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    schema,
    throttle_classes,
)

from ..permissions import token_of
from ..services import api_write_record

ID_MAX = 2**63 - 1


def is_id(value) -> bool:
    value = str(value)
    return value.isascii() and value.isdigit() and 0 < int(value) <= ID_MAX


class ApiViewSet(viewsets.GenericViewSet):
    # The staff permission a staff integration's account needs to read this resource.
    read_permission: str = ""
    # Whether a nonprofit's token may read it (its own rows only: see `get_queryset`).
    nonprofit_readable = False
    # The query parameters' serializer (inputs.py).
    filter_class: type[serializers.Serializer] | None = None

    def filters(self) -> dict:
        if self.filter_class is None:
            return {}
        known = set(self.filter_class().fields)
        data = {name: value for name, value in self.request.query_params.items() if name in known}
        checked = self.filter_class(data=data)
        checked.is_valid(raise_exception=True)
        return {
            name: value for name, value in checked.validated_data.items() if value not in ("", None)
        }

    def get_object(self):
        lookup = self.lookup_url_kwarg or self.lookup_field
        value = self.kwargs[lookup]
        if not is_id(value):
            raise exceptions.NotFound(_("There is nothing here with this identifier."))
        return super().get_object()

    def token(self):
        return token_of(self.request)

    def write(self, act: Callable[[], object], *, what: Callable[[object], str]):
        """Run `act` (one service call) and audit the token's use, in one transaction: a
        refused write records nothing."""
        with transaction.atomic():
            result = act()
            api_write_record(
                token=self.token(),
                what=f"{self.request.method} {self.request.path}: {what(result)}",
            )
        return result

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, ["Authorization", "Accept-Language"])
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        response.render()
        etag = f'W/"{hashlib.sha256(response.content).hexdigest()[:32]}"'
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        wanted = parse_etags(request.headers.get("If-None-Match", ""))
        if "*" in wanted or any(
            tag.removeprefix("W/") == etag.removeprefix("W/") for tag in wanted
        ):
            not_modified = HttpResponseNotModified()
            for header in ("ETag", "Cache-Control", "Vary"):
                not_modified[header] = response[header]
            return not_modified
        return response


@api_view(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
@authentication_classes([])
@permission_classes([])
@throttle_classes([])
@schema(None)
def not_found(request):
    raise exceptions.NotFound(_("There is nothing at this address in the API."))
