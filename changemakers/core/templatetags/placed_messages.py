"""`{% placed_messages "place" as found %}` and `messages|unplaced`: see
changemakers.core.placed_messages. Reading the messages twice in one request is fine: the
storage keeps what it loaded until the response is sent."""

from django import template

from changemakers.core import placed_messages as placed

register = template.Library()


@register.simple_tag(takes_context=True)
def placed_messages(context, place: str) -> list:
    return placed.placed_in(context.get("messages") or [], place)


@register.filter
def unplaced(messages_) -> list:
    return placed.unplaced(messages_ or [])
