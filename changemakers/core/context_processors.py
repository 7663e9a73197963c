from django.utils.functional import SimpleLazyObject

from changemakers.core.roles import role_of


def roles(request) -> dict:
    """`role` for every template, so navigation fits who is signed in; `second_factor_owed`
    while a signed-in session has still to pass (or set up) its second factor, when the staff
    pages would only send it back there; `staff_access`, read only when the staff navigation
    is drawn afresh."""
    from .twofactor.middleware import owed_step

    return {
        "role": str(role_of(request.user)),
        "staff_access": SimpleLazyObject(lambda: staff_access(request.user)),
        "second_factor_owed": owed_step(request) is not None,
    }


def staff_access(user) -> str:
    """What the staff navigation's tabs depend on, as a key of its cached markup
    (templates/base.html): every permission, or the ones this person holds."""
    if user.is_superuser:
        return "all"
    return ",".join(sorted(user.get_all_permissions()))
