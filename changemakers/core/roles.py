"""Who is looking: anonymous, staff, or a person whose account is linked to one of the
program's parties (a creator, a nonprofit contact). Views and templates ask here.

The kernel knows no app: each app that links accounts to its rows declares the role and the
reverse accessor from the user to its row (`role_link_declare`, in its `AppConfig.ready()`),
in the order `INSTALLED_APPS` loads them.

Staff hold one or more staff roles (`StaffRole`): Django groups whose permissions each app
declares for its own models (`staff_role_grants_declare`, in its `AppConfig.ready()`). The
groups are created and brought in line with the declarations after every `migrate`
(`staff_roles_sync`), so a permission given or taken away in the code reaches every
database. Pages ask `staff_required(perm=...)`; the services that move money ask
`permission_require` again, so no page, admin action, task or script can skip the check.
"""

from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


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


creator_required = role_required(Role.CREATOR)
nonprofit_required = role_required(Role.NONPROFIT)


# --- Staff roles ------------------------------------------------------------------------------


class StaffRole(models.TextChoices):
    """The staff roles, each a Django group of this name. One person may hold several."""

    PROGRAM_MANAGER = "Program manager", _("Program manager")
    FINANCE_APPROVER = "Finance approver", _("Finance approver")
    NONPROFIT_VETTER = "Nonprofit vetter", _("Nonprofit vetter")
    AUDITOR = "Auditor", _("Auditor")


# In a declaration, every model's view permission of the declaring app.
VIEW_EVERY_MODEL = "view_*"

# role -> {"app_label.codename", ...}, from every app's declaration.
_GRANTS: dict[StaffRole, set[str]] = {role: set() for role in StaffRole}


def staff_role_grants_declare(app_label: str, grants: Mapping[StaffRole, Iterable[str]]) -> None:
    """What each role holds of `app_label`'s models: codenames of that app's permissions
    (`"approve_grant"`, or `VIEW_EVERY_MODEL`); a full `"app.codename"` for another app's."""
    for role, codenames in grants.items():
        _GRANTS[role].update(
            codename if "." in codename else f"{app_label}.{codename}" for codename in codenames
        )


def staff_role_permissions(role: StaffRole, *, using: str = "default"):
    """The Permission rows `role` holds by the declarations (those that exist yet)."""
    from django.contrib.auth.models import Permission

    wanted = models.Q(pk__in=[])
    for permission in sorted(_GRANTS[role]):
        app_label, codename = permission.split(".", 1)
        if codename == VIEW_EVERY_MODEL:
            wanted |= models.Q(content_type__app_label=app_label, codename__startswith="view_")
        else:
            wanted |= models.Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.using(using).filter(wanted)


def staff_roles_sync(*, using: str = "default") -> None:
    """Create each role's group and give it exactly the declared permissions (safe to repeat:
    a permission added to a group by hand is taken away again)."""
    from django.contrib.auth.models import Group

    for role in StaffRole:
        group, _created = Group.objects.using(using).get_or_create(name=role.value)
        group.permissions.set(staff_role_permissions(role, using=using))


def staff_roles_sync_after_migrate(sender, using: str = "default", **kwargs) -> None:
    """post_migrate receiver: once the last app has had its permissions created (migrate
    signals every app with models, in INSTALLED_APPS order)."""
    from django.apps import apps as global_apps

    state = kwargs.get("apps")
    if state is not None:
        try:
            state.get_model("auth", "Group")
        except LookupError:
            return  # migrated back to before the auth tables
    configs = [c for c in global_apps.get_app_configs() if c.models_module is not None]
    if configs and sender is configs[-1]:
        staff_roles_sync(using=using)


def staff_role_group(role: StaffRole):
    """The group of `role` (synced first if a flushed database lost it)."""
    from django.contrib.auth.models import Group

    group = Group.objects.filter(name=role.value).first()
    if group is None:
        staff_roles_sync()
        group = Group.objects.get(name=role.value)
    return group


def staff_roles_of(user) -> list[StaffRole]:
    """The staff roles `user` holds, in the order of `StaffRole`."""
    if not getattr(user, "is_authenticated", False) or not user.is_staff:
        return []
    held = set(user.groups.values_list("name", flat=True))
    return [role for role in StaffRole if role.value in held]


def _as_tuple(perms: str | Iterable[str]) -> tuple[str, ...]:
    return (perms,) if isinstance(perms, str) else tuple(perms)


def staff_required(
    view: Callable | None = None,
    /,
    *,
    perm: str | Iterable[str] = (),
    any_perm: str | Iterable[str] = (),
    post_perm: str | Iterable[str] = (),
) -> Callable:
    """View decorator: sign-in required, then 403 unless the user is staff holding every
    permission of `perm`, one of `any_perm` when given, and for a POST every one of
    `post_perm` too (a page that shows a form to read to some). Bare (`@staff_required`):
    any staff member."""
    every, one_of, posting = _as_tuple(perm), _as_tuple(any_perm), _as_tuple(post_perm)

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            user = request.user
            if role_of(user) != Role.STAFF or not user.has_perms(every):
                raise PermissionDenied
            if one_of and not any(user.has_perm(name) for name in one_of):
                raise PermissionDenied
            if request.method == "POST" and not user.has_perms(posting):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator(view) if view is not None else decorator


def may(user, perm: str) -> bool:
    """Whether `user` is staff holding `perm` (a superuser holds every permission)."""
    return role_of(user) == Role.STAFF and user.has_perm(perm)


def permission_require(actor, perm: str, *, doing: str) -> None:
    """Refuse unless `actor` is an active staff account holding `perm`. For the services of
    people's decisions: a missing actor is refused too (workers call other services).
    `doing` says what was refused, translated: "approve grants"."""
    if actor is None or not may(actor, perm):
        raise ValidationError(
            gettext("Your staff roles do not let you %(doing)s.") % {"doing": doing},
            code="not_permitted",
        )
