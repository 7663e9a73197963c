"""Who is looking: staff, a creator (a user linked to a Creator), or a nonprofit contact
(a user linked to a Nonprofit through NonprofitContact). Views and templates ask here.

`creators` sits at the bottom of the app graph, so it reads the nonprofit link through the
reverse accessor rather than importing `donations`.
"""

from collections.abc import Callable
from enum import StrEnum
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    STAFF = "staff"
    CREATOR = "creator"
    NONPROFIT = "nonprofit"
    MEMBER = "member"  # signed in, but neither staff nor linked to a creator or nonprofit


def _linked(user, accessor: str):
    try:
        return getattr(user, accessor)
    except ObjectDoesNotExist:
        return None


def creator_of(user):
    """The Creator this user is, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return _linked(user, "creator")


def nonprofit_contact_of(user):
    """The NonprofitContact this user is, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return _linked(user, "nonprofit_contact")


def role_of(user) -> Role:
    if not getattr(user, "is_authenticated", False):
        return Role.ANONYMOUS
    if user.is_staff:
        return Role.STAFF
    if creator_of(user) is not None:
        return Role.CREATOR
    if nonprofit_contact_of(user) is not None:
        return Role.NONPROFIT
    return Role.MEMBER


def role_required(*roles: Role) -> Callable:
    """View decorator: sign-in required, then 403 unless the user has one of `roles`."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if role_of(request.user) not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


staff_required = role_required(Role.STAFF)
creator_required = role_required(Role.CREATOR)
nonprofit_required = role_required(Role.NONPROFIT)
