"""What a token may do: read with any token, write only with a write token; a staff
integration's account must hold the view permission of what it reads (as a person on the
page would); a nonprofit's integration reads its own grants and nothing else. What a write
may do is the services' to say, as for the pages."""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions

from changemakers.core.roles import may

from .models import ApiToken, Integration


def token_of(request) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


class TokenAccess(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        token = token_of(request)
        if token is None:
            raise exceptions.NotAuthenticated(
                _("Send a token staff issued you: Authorization: Bearer <token>.")
            )
        if request.method not in permissions.SAFE_METHODS and not token.may_write:
            raise exceptions.PermissionDenied(_("This token may only read."))
        if token.integration.kind == Integration.Kind.NONPROFIT:
            if not getattr(view, "nonprofit_readable", False):
                raise exceptions.PermissionDenied(
                    _("A nonprofit's token reads its own grants only.")
                )
            return True
        perm = getattr(view, "read_permission", None)
        if perm and not may(request.user, perm):
            raise exceptions.PermissionDenied(
                _("This integration's staff roles do not let it read this.")
            )
        return True
