"""Messages shown where the action happened, not only at the top of the page: a form that
posts and redirects back (without JavaScript) leaves its confirmation for the place it came
from, which shows it beside the form; the page's message list leaves it out.

    message_place(request, _("Saved."), place="profile-form")
    {% load placed_messages %}{% placed_messages "profile-form" as saved %}
"""

from django.contrib import messages
from django.http import HttpRequest

_PREFIX = "place-"


def place_tag(place: str) -> str:
    return f"{_PREFIX}{place}"


def message_place(
    request: HttpRequest, text: str, *, place: str, level: int = messages.SUCCESS
) -> None:
    """A message for the page's `place` (an element's id), shown there."""
    messages.add_message(request, level, text, extra_tags=place_tag(place))


def is_placed(message) -> bool:
    return any(tag.startswith(_PREFIX) for tag in (message.extra_tags or "").split())


def placed_in(messages_, place: str) -> list:
    tag = place_tag(place)
    return [message for message in messages_ if tag in (message.extra_tags or "").split()]


def unplaced(messages_) -> list:
    return [message for message in messages_ if not is_placed(message)]
