"""Who is looking: anonymous, staff, or a person whose account is linked to one of the
program's parties (a creator, a nonprofit contact). Views and templates ask here.

The kernel knows no app: each app that links accounts to its rows declares the role and the
reverse accessor from the user to its row (`role_link_declare`, in its `AppConfig.ready()`),
in the order `INSTALLED_APPS` loads them.
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
    MEMBER = "member"  # signed in, but neither staff nor linked to one of the program's parties


# (role, accessor on the user) in the order the apps declared them.
_LINKS: list[tuple[Role, str]] = []


def role_link_declare(role: Role, accessor: str) -> None:
    """An app's rows link to user accounts through `user.<accessor>` (a one-to-one's reverse
    name): a user with such a row holds `role`."""
    if (role, accessor) not in _LINKS:
        _LINKS.append((role, accessor))


def linked(user, accessor: str):
    """The row `user.<accessor>` leads to, or None (also for anonymous users)."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return getattr(user, accessor)
    except ObjectDoesNotExist:
        return None


def linked_roles(user) -> list[Role]:
    """Every party role the user's account is linked to (normally one, or none)."""
    return [role for role, accessor in _LINKS if linked(user, accessor) is not None]


def role_of(user) -> Role:
    if not getattr(user, "is_authenticated", False):
        return Role.ANONYMOUS
    if user.is_staff:
        return Role.STAFF
    for role, accessor in _LINKS:
        if linked(user, accessor) is not None:
            return role
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
