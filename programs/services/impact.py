"""Impact figures: staff define the indicators; creators report values with their milestone
updates; staff may correct a value while they review the milestone; approving the milestone
decides which values count in the totals (`ImpactValue.counted`)."""

from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from changemakers.core.audit import audit_record, fields_update
from changemakers.core.roles import permission_require

from ..models import ImpactIndicator, ImpactValue, Milestone, ProgressUpdate

INDICATOR_FIELDS = (
    "name",
    "unit",
    "description",
    "aggregation",
    "whole_numbers",
    "active",
    "position",
)


def field_name(indicator: ImpactIndicator) -> str:
    """The update form's field for an indicator; a refusal about a value names it."""
    return f"impact_{indicator.pk}"


def _value_check(indicator: ImpactIndicator, value: Decimal, *, field: str) -> Decimal:
    if value < 0:
        raise ValidationError({field: _("An impact figure cannot be negative.")}, code="negative")
    if indicator.whole_numbers and value != value.to_integral_value():
        raise ValidationError(
            {field: _("%(indicator)s is counted in whole numbers.") % {"indicator": indicator}},
            code="not_whole",
        )
    if value.as_tuple().exponent < -2 or value >= Decimal("1e12"):
        raise ValidationError(
            {field: _("Enter a number below a trillion, with at most two decimals.")},
            code="too_precise",
        )
    return value.quantize(Decimal("0.01"))


def _shown(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)


# --- Indicators -----------------------------------------------------------------------------


@transaction.atomic
def impact_indicator_create(*, actor, **fields) -> ImpactIndicator:
    permission_require(actor, "programs.add_impactindicator", doing=_("define impact indicators"))
    indicator = ImpactIndicator(
        **{name: fields[name] for name in INDICATOR_FIELDS if name in fields}
    )
    indicator.full_clean()
    indicator.save()
    audit_record(actor=actor, obj=indicator, action="created")
    return indicator


def impact_indicator_update(*, indicator: ImpactIndicator, actor, **fields) -> list[str]:
    """Change an indicator; a new aggregation re-decides which approved values count."""
    permission_require(
        actor, "programs.change_impactindicator", doing=_("change impact indicators")
    )
    with transaction.atomic():
        locked = ImpactIndicator.objects.select_for_update().get(pk=indicator.pk)
        values = {name: fields[name] for name in INDICATOR_FIELDS if name in fields}
        changed = fields_update(locked=locked, values=values, actor=actor)
        if "aggregation" in changed:
            _recount(locked)
        return changed


# --- Values -----------------------------------------------------------------------------------


def impact_values_report(
    *,
    milestone: Milestone,
    update: ProgressUpdate,
    values: Mapping[ImpactIndicator, Decimal | None],
    actor,
) -> list[ImpactValue]:
    """The creator's figures sent with `update`: each replaces the milestone's value for its
    indicator, an empty one removes it. Call inside the update's transaction (it holds the
    enrolment's lock). Refusals name the form field (`field_name`)."""
    current = {
        value.indicator_id: value
        for value in ImpactValue.objects.select_for_update().filter(milestone=milestone)
    }
    stored = []
    for indicator, amount in values.items():
        field = field_name(indicator)
        existing = current.get(indicator.pk)
        if amount is None:
            if existing is not None:
                audit_record(
                    actor=actor, obj=existing, action="removed", from_state=_shown(existing.value)
                )
                existing.delete()
            continue
        if not indicator.active:
            raise ValidationError(
                {field: _("%(indicator)s is no longer reported.") % {"indicator": indicator}},
                code="indicator_inactive",
            )
        amount = _value_check(indicator, amount, field=field)
        if existing is None:
            existing = ImpactValue(
                milestone=milestone, indicator=indicator, update=update, value=amount
            )
            existing.full_clean()
            existing.save()
            audit_record(actor=actor, obj=existing, action="reported", to_state=_shown(amount))
        elif existing.value != amount or existing.update_id != update.pk:
            before = existing.value
            existing.value, existing.update = amount, update
            existing.save(update_fields=["value", "update", "updated_at"])
            if before != amount:
                audit_record(
                    actor=actor,
                    obj=existing,
                    action="reported",
                    from_state=_shown(before),
                    to_state=_shown(amount),
                )
        stored.append(existing)
    return stored


def impact_value_correct(
    *, value: ImpactValue, actor, amount: Decimal, reason: str = ""
) -> ImpactValue:
    """Staff correct a figure while its milestone awaits review (once approved it is final)."""
    permission_require(actor, "programs.change_impactvalue", doing=_("correct impact figures"))
    with transaction.atomic():
        locked = (
            ImpactValue.objects.select_for_update().select_related("indicator").get(pk=value.pk)
        )
        milestone = Milestone.objects.select_for_update().get(pk=locked.milestone_id)
        if milestone.status != Milestone.Status.SUBMITTED:
            raise ValidationError(
                _("Figures can be corrected only while their milestone awaits review."),
                code="not_under_review",
            )
        amount = _value_check(locked.indicator, amount, field="amount")
        if amount == locked.value:
            return locked
        before = locked.value
        locked.value = amount
        locked.save(update_fields=["value", "updated_at"])
        audit_record(
            actor=actor,
            obj=locked,
            action="corrected",
            from_state=_shown(before),
            to_state=_shown(amount),
            note=reason,
        )
        return locked


def impact_values_count(*, milestone: Milestone) -> None:
    """Called as a milestone is approved, in that transaction: decide again which values of
    the place count, for each indicator the milestone has a value for."""
    indicator_ids = list(milestone.impact_values.values_list("indicator_id", flat=True))
    for indicator in ImpactIndicator.objects.filter(pk__in=indicator_ids):
        _recount(indicator, enrolment_id=milestone.enrolment_id)


def _recount(indicator: ImpactIndicator, *, enrolment_id: int | None = None) -> None:
    """Mark the values that count for `indicator` (in one place, or everywhere): of the
    approved milestones, every value when it adds up, else per place the highest (ties: the
    later milestone) or the latest."""
    values = ImpactValue.objects.filter(indicator=indicator)
    if enrolment_id is not None:
        values = values.filter(milestone__enrolment_id=enrolment_id)
    approved = values.filter(milestone__status=Milestone.Status.APPROVED).values_list(
        "pk", "milestone__enrolment_id", "value", "milestone__due_date", "milestone_id"
    )
    by_place = defaultdict(list)
    for pk, place, amount, due, milestone_id in approved:
        by_place[place].append((pk, amount, due, milestone_id))
    chosen = set()
    for rows in by_place.values():
        if indicator.aggregation == ImpactIndicator.Aggregation.SUM:
            chosen.update(pk for pk, *_rest in rows)
        elif indicator.aggregation == ImpactIndicator.Aggregation.MAX:
            chosen.add(max(rows, key=lambda row: (row[1], row[2], row[3]))[0])
        else:
            chosen.add(max(rows, key=lambda row: (row[2], row[3]))[0])
    values.filter(counted=True).exclude(pk__in=chosen).update(counted=False)
    values.filter(pk__in=chosen, counted=False).update(counted=True)
