"""Impact figures: indicators staff define, values creators report with their updates, staff
correcting them in review, approval deciding what counts, and the totals per indicator, per
cohort and per country (program page, dashboard, creators export)."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from changemakers.core.models import AuditEvent
from changemakers.core.roles import StaffRole, staff_role_group
from programs.models import ImpactIndicator, ImpactValue, Milestone
from programs.selectors import impact_totals
from programs.services import (
    cohort_create,
    enrolment_activate,
    enrolment_invite,
    impact_indicator_create,
    impact_indicator_update,
    impact_value_correct,
    milestone_approve,
    milestone_request_changes,
    progress_update_submit,
)
from tests.factories import CreatorFactory, UserFactory
from tests.programs.conftest import COHORT_START

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


@pytest.fixture
def views(staff_user):
    return impact_indicator_create(actor=staff_user, name="Views", unit="views", position=1)


@pytest.fixture
def raised(staff_user):
    return impact_indicator_create(
        actor=staff_user, name="Donations raised", unit="USD", whole_numbers=False, position=2
    )


@pytest.fixture
def followers(staff_user):
    return impact_indicator_create(
        actor=staff_user,
        name="Followers",
        unit="people",
        aggregation=ImpactIndicator.Aggregation.LATEST,
        position=3,
    )


def _milestones(enrolment):
    return list(enrolment.milestones.order_by("due_date"))


def _report(milestone, user, **values):
    return progress_update_submit(
        milestone=milestone, author=user, body="Figures.", impact=values_by_indicator(values)
    )


def values_by_indicator(values):
    return {
        ImpactIndicator.objects.get(name=name): (None if v is None else Decimal(v))
        for name, v in values.items()
    }


def test_values_are_reported_with_the_update_and_audited(enrolment, creator_user, views, raised):
    kickoff = _milestones(enrolment)[0]
    update = _report(kickoff, creator_user, Views="1200", **{"Donations raised": "350.50"})

    stored = {v.indicator.name: v for v in ImpactValue.objects.select_related("indicator")}
    assert stored["Views"].value == Decimal("1200.00")
    assert stored["Donations raised"].value == Decimal("350.50")
    assert all(v.update == update and not v.counted for v in stored.values())
    assert AuditEvent.objects.filter(action="reported", to_state="1200").exists()


def test_a_new_update_replaces_the_milestones_figure_and_an_empty_one_removes_it(
    enrolment, creator_user, staff_user, views, raised
):
    kickoff = _milestones(enrolment)[0]
    _report(kickoff, creator_user, Views="1200", **{"Donations raised": "10"})
    milestone_request_changes(milestone=kickoff, actor=staff_user, feedback="Check views.")
    second = _report(kickoff, creator_user, Views="1500", **{"Donations raised": None})

    value = ImpactValue.objects.get()
    assert (value.indicator, value.value, value.update) == (views, Decimal("1500"), second)
    assert AuditEvent.objects.filter(action="reported", from_state="1200", to_state="1500").exists()
    assert AuditEvent.objects.filter(action="removed", from_state="10").exists()


@pytest.mark.parametrize(
    ("indicator", "value", "message"),
    [
        ("Views", "-1", "cannot be negative"),
        ("Views", "10.5", "whole numbers"),
        ("Donations raised", "-0.01", "cannot be negative"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_stored(
    enrolment, creator_user, views, raised, indicator, value, message
):
    kickoff = _milestones(enrolment)[0]
    with pytest.raises(ValidationError) as refused:
        _report(kickoff, creator_user, **{indicator: value})
    assert message in " ".join(refused.value.messages)
    assert not kickoff.updates.exists()
    assert not ImpactValue.objects.exists()
    kickoff.refresh_from_db()
    assert kickoff.status == Milestone.Status.PENDING


def test_the_database_refuses_a_negative_value_whatever_the_code(enrolment, creator_user, views):
    from django.db import IntegrityError, transaction

    update = _report(_milestones(enrolment)[0], creator_user, Views="5")
    with pytest.raises(IntegrityError), transaction.atomic():
        ImpactValue.objects.filter(update=update).update(value=Decimal("-5"))


def test_an_inactive_indicator_is_not_reported(enrolment, creator_user, staff_user, views):
    impact_indicator_update(indicator=views, actor=staff_user, active=False)
    views.refresh_from_db()
    with pytest.raises(ValidationError, match="no longer reported"):
        _report(_milestones(enrolment)[0], creator_user, Views="5")


def test_only_approved_milestones_count_in_the_totals(
    enrolment, creator_user, staff_user, views, raised
):
    kickoff, month_two, *_ = _milestones(enrolment)
    _report(kickoff, creator_user, Views="1000", **{"Donations raised": "20.25"})
    _report(month_two, creator_user, Views="500")
    assert [t.total for t in impact_totals()] == [Decimal(0), Decimal(0)]

    milestone_approve(milestone=kickoff, actor=staff_user)
    totals = {t.indicator.name: t.total for t in impact_totals()}
    assert totals == {"Views": Decimal("1000"), "Donations raised": Decimal("20.25")}

    milestone_approve(milestone=month_two, actor=staff_user)
    assert impact_totals()[0].total == Decimal("1500")


def test_latest_and_highest_count_one_value_per_place(
    enrolment, creator_user, staff_user, followers
):
    kickoff, month_two, month_four, _final = _milestones(enrolment)
    for milestone, count in ((kickoff, "900"), (month_two, "1500"), (month_four, "1400")):
        _report(milestone, creator_user, Followers=count)
        milestone_approve(milestone=milestone, actor=staff_user)
    # Latest: month four's 1400 stands, although month two's was higher.
    assert impact_totals()[0].total == Decimal("1400")
    assert ImpactValue.objects.filter(counted=True).get().milestone == month_four

    impact_indicator_update(
        indicator=followers, actor=staff_user, aggregation=ImpactIndicator.Aggregation.MAX
    )
    assert impact_totals()[0].total == Decimal("1500")
    impact_indicator_update(
        indicator=followers, actor=staff_user, aggregation=ImpactIndicator.Aggregation.SUM
    )
    assert impact_totals()[0].total == Decimal("3800")


def test_totals_per_cohort_and_per_country(staff_user, views):
    cohorts = [
        cohort_create(name=name, start_date=COHORT_START, actor=staff_user)
        for name in ("Autumn", "Spring")
    ]
    people = [("KE", cohorts[0], "100"), ("KE", cohorts[1], "30"), ("SG", cohorts[0], "7")]
    for country, cohort, count in people:
        creator = CreatorFactory(user=UserFactory(), country=country)
        place = enrolment_activate(
            enrolment=enrolment_invite(cohort=cohort, creator=creator, actor=staff_user),
            actor=creator.user,
        )
        kickoff = place.milestones.order_by("due_date").first()
        _report(kickoff, creator.user, Views=count)
        milestone_approve(milestone=kickoff, actor=staff_user)

    (total,) = impact_totals()
    assert total.total == Decimal("137")
    assert [(g.label, g.total) for g in total.by_cohort] == [
        ("Autumn", Decimal("107")),
        ("Spring", Decimal("30")),
    ]
    assert [(g.label, g.total) for g in total.by_country] == [
        ("Kenya", Decimal("130")),
        ("Singapore", Decimal("7")),
    ]
    (narrowed,) = impact_totals(cohort=cohorts[1].pk)
    assert narrowed.total == Decimal("30")


# --- Staff: correcting in review, defining indicators, who may --------------------------------


def test_staff_correct_a_figure_in_review_audited_and_not_after_approval(
    enrolment, creator_user, staff_user, views
):
    kickoff = _milestones(enrolment)[0]
    _report(kickoff, creator_user, Views="12000")
    value = ImpactValue.objects.get()
    impact_value_correct(value=value, actor=staff_user, amount=Decimal("1200"), reason="Typo")

    value.refresh_from_db()
    assert value.value == Decimal("1200")
    event = AuditEvent.objects.get(action="corrected")
    assert (event.from_state, event.to_state, event.note) == ("12000", "1200", "Typo")

    with pytest.raises(ValidationError, match="whole numbers"):
        impact_value_correct(value=value, actor=staff_user, amount=Decimal("1.5"))
    milestone_approve(milestone=kickoff, actor=staff_user)
    with pytest.raises(ValidationError, match="only while their milestone awaits review"):
        impact_value_correct(value=value, actor=staff_user, amount=Decimal("1"))
    assert impact_totals()[0].total == Decimal("1200")


def _staff(role: StaffRole, name: str):
    user = UserFactory(is_staff=True, username=name)
    user.groups.add(staff_role_group(role))
    return user


@pytest.mark.parametrize("role", [StaffRole.FINANCE_APPROVER, StaffRole.AUDITOR])
def test_other_roles_may_not_define_indicators_or_correct_figures(
    enrolment, creator_user, views, role
):
    other = _staff(role, f"{role}@example.org")
    with pytest.raises(ValidationError, match="do not let you"):
        impact_indicator_create(actor=other, name="Trees", unit="trees")
    with pytest.raises(ValidationError, match="do not let you"):
        impact_indicator_update(indicator=views, actor=other, unit="plays")
    _report(_milestones(enrolment)[0], creator_user, Views="5")
    with pytest.raises(ValidationError, match="do not let you"):
        impact_value_correct(value=ImpactValue.objects.get(), actor=other, amount=Decimal(1))
    with pytest.raises(ValidationError, match="do not let you"):
        impact_indicator_create(actor=creator_user, name="Trees", unit="trees")
    assert ImpactValue.objects.get().value == Decimal(5)
    assert not ImpactIndicator.objects.filter(name="Trees").exists()


def test_the_program_manager_defines_an_indicator_through_the_pages(client):
    manager = _staff(StaffRole.PROGRAM_MANAGER, "pm@example.org")
    client.force_login(manager)
    response = client.post(
        reverse("programs:indicator-create"),
        {
            "name": "People reached",
            "unit": "people",
            "aggregation": "max",
            "whole_numbers": "on",
            "active": "on",
            "position": "2",
        },
    )
    assert response.status_code == 302
    indicator = ImpactIndicator.objects.get(name="People reached")
    assert indicator.aggregation == "max"
    assert AuditEvent.objects.filter(action="created", object_id=indicator.pk).exists()

    response = client.post(
        reverse("programs:indicator-edit", kwargs={"pk": indicator.pk}),
        {
            "name": "People reached",
            "unit": "people",
            "aggregation": "sum",
            "active": "on",
            "position": "2",
        },
    )
    assert response.status_code == 302
    indicator.refresh_from_db()
    assert (indicator.aggregation, indicator.whole_numbers) == ("sum", False)

    refused = client.post(
        reverse("programs:indicator-create"),
        {"name": "People reached", "unit": "", "aggregation": "sum", "position": "0"},
    )
    assert refused.status_code == 422
    assert ImpactIndicator.objects.count() == 1


def test_correcting_through_the_review_page(client, enrolment, creator_user, staff_user, views):
    kickoff = _milestones(enrolment)[0]
    _report(kickoff, creator_user, Views="90")
    value = ImpactValue.objects.get()
    client.force_login(staff_user)
    page = client.get(kickoff.get_review_url()).content.decode()
    assert reverse("programs:impact-value-correct", kwargs={"pk": value.pk}) in page
    assert 'for="amount-' in page

    url = reverse("programs:impact-value-correct", kwargs={"pk": value.pk})
    response = client.post(url, {"amount": "-3"})
    assert response.status_code == 302
    value.refresh_from_db()
    assert value.value == Decimal(90)
    client.post(url, {"amount": "80", "reason": "Double counted"})
    value.refresh_from_db()
    assert value.value == Decimal(80)


# --- The creator's form -------------------------------------------------------------------------


def test_the_portal_form_reports_figures_and_shows_them_back(
    client, enrolment, creator_user, views, raised
):
    client.force_login(creator_user)
    kickoff = _milestones(enrolment)[0]
    url = kickoff.get_portal_url()
    form = client.get(url).content.decode()
    assert f'name="impact_{views.pk}"' in form
    assert "Views (views)" in form

    refused = client.post(url, {"body": "Done.", f"impact_{views.pk}": "-4"})
    assert refused.status_code == 422
    assert not ImpactValue.objects.exists()

    response = client.post(
        url, {"body": "Done.", f"impact_{views.pk}": "2500", f"impact_{raised.pk}": "99.90"}
    )
    assert response.status_code == 302
    assert {v.value for v in ImpactValue.objects.all()} == {Decimal("2500"), Decimal("99.90")}
    page = client.get(url).content.decode()
    assert "My impact figures" in page
    assert "2,500 views" in page


# --- The pages that show totals -----------------------------------------------------------------


@pytest.fixture
def approved_figures(enrolment, creator_user, staff_user, views, raised):
    kickoff, month_two, *_ = _milestones(enrolment)
    _report(kickoff, creator_user, Views="4000", **{"Donations raised": "1250.50"})
    milestone_approve(milestone=kickoff, actor=staff_user)
    _report(month_two, creator_user, Views="999999")  # submitted, not approved: not counted
    return enrolment


def test_the_program_page_shows_the_totals_only(client, approved_figures):
    content = client.get(reverse("hub:program")).content.decode()
    assert "Our impact" in content
    assert "4,000" in content
    assert "1,250.5" in content
    assert "999,999" not in content
    assert "1,003,999" not in content
    assert "Cohort T" in content
    assert approved_figures.creator.display_name not in content


@pytest.mark.parametrize("count", [1, 12])
def test_the_program_page_queries_do_not_grow_with_creators(
    client, staff_user, views, django_assert_num_queries, count
):
    cohort = cohort_create(name="Big", start_date=COHORT_START, capacity=20, actor=staff_user)
    for _ in range(count):
        creator = CreatorFactory(user=UserFactory())
        place = enrolment_activate(
            enrolment=enrolment_invite(cohort=cohort, creator=creator, actor=staff_user),
            actor=creator.user,
        )
        kickoff = place.milestones.order_by("due_date").first()
        _report(kickoff, creator.user, Views="10")
        milestone_approve(milestone=kickoff, actor=staff_user)
    with django_assert_num_queries(8):
        response = client.get(reverse("hub:program"))
    assert f"{10 * count}" in response.content.decode()


def test_the_dashboard_shows_the_totals(client, staff_user, approved_figures):
    client.force_login(staff_user)
    content = client.get(reverse("backoffice:dashboard")).content.decode()
    assert 'id="dashboard-impact"' in content
    assert "4,000" in content


def test_the_creators_export_has_a_column_per_indicator(client, staff_user, approved_figures):
    client.force_login(staff_user)
    response = client.get(reverse("backoffice:export-creators"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header = rows[0]
    assert header[-2:] == ["Views (views)", "Donations raised (USD)"]
    creator_row = next(row for row in rows[1:] if row[1] == approved_figures.creator.handle)
    assert creator_row[-2:] == ["4000.00", "1250.50"]
