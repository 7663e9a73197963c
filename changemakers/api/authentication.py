"""Who is asking: the integration whose token the request carries (`Authorization: Bearer
cm_...`). Never a session cookie, so no other site can make a browser call the API, and the
API needs no CSRF token."""

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .services import token_for

SCHEME = "Bearer"


class TokenAuthentication(authentication.BaseAuthentication):
    """(the integration's account, its token); a nonprofit's integration has no account: it
    reads as an anonymous user holding its token."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != SCHEME.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the token as: Authorization: Bearer <token>.")
            )
        try:
            value = header[1].decode("ascii")
        except UnicodeDecodeError:
            value = ""
        token = token_for(value)
        if token is None:
            raise exceptions.AuthenticationFailed(
                _("This token is not valid: unknown, revoked or mistyped.")
            )
        return (token.integration.account or AnonymousUser(), token)

    def authenticate_header(self, request) -> str:
        # With it, a missing or wrong token is a 401, not a 403.
        return f'{SCHEME} realm="api"'


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "token"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token staff issued for your integration: `cm_<prefix>_<secret>`.",
        }
