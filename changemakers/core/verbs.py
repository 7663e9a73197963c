"""The verbs the audit log records, declared by the apps that record them.

Each app declares its own verbs in its `AppConfig.ready()` (`verbs_declare(AuditVerb)`, a
`TextChoices`), so no app's migration exists for another app's vocabulary. The kernel declares
only what its own helpers record.
"""

from django.db import models
from django.utils.translation import gettext_lazy

_VERBS: dict[str, object] = {}


class KernelVerb(models.TextChoices):
    """What the kernel's own helpers record (`fields_update`) and what every app may say."""

    CREATED = "created", gettext_lazy("Created")
    UPDATED = "updated", gettext_lazy("Updated")


def verbs_declare(verbs: type[models.TextChoices]) -> None:
    """Declare an app's audit verbs. Two apps may declare the same verb with the same label
    (both approve things); a verb declared again with another label is refused."""
    for value, label in verbs.choices:
        known = _VERBS.get(value)
        if known is not None and str(known) != str(label):
            raise ValueError(f"Audit verb {value!r} is declared as {known!r} and as {label!r}.")
        _VERBS[value] = label


def verb_label(verb: str) -> str:
    """The verb's label in the active language; an undeclared (retired) verb as it is."""
    return str(_VERBS.get(verb, verb))


def verb_choices() -> list[tuple[str, str]]:
    return sorted(((verb, str(label)) for verb, label in _VERBS.items()), key=lambda c: c[1])


def verb_declared(action: str) -> str:
    """`action` itself, once it is known to be declared."""
    if action not in _VERBS:
        raise ValueError(f"Unknown audit verb {action!r}: declare it in its app's ready().")
    return action


verbs_declare(KernelVerb)
