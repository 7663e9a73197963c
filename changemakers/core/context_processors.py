from changemakers.core.roles import role_of


def roles(request) -> dict:
    """`role` for every template, so navigation fits who is signed in; `second_factor_owed`
    while a signed-in session has still to pass (or set up) its second factor, when the staff
    pages would only send it back there."""
    from .twofactor.middleware import owed_step

    return {
        "role": str(role_of(request.user)),
        "second_factor_owed": owed_step(request) is not None,
    }
