from changemakers.core.roles import role_of


def roles(request) -> dict:
    """`role` for every template, so navigation fits who is signed in."""
    return {"role": str(role_of(request.user))}
