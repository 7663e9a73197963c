"""The Django admin: every page loads with a query count that does not grow with the rows,
state moves only through actions that call the services (audited), and the audit log and
disbursements cannot be edited by hand."""

import datetime
import html
import itertools
import re
from decimal import Decimal

import pytest
from django import forms
from django.contrib.admin import helpers
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from changemakers.core.audit import audit_record
from changemakers.core.models import AuditEvent
from creators.admin import NewListEntryForm
from creators.models import Cause, ChangeMakersList, Creator, CreatorLink, ListEntry
from donations.models import (
    Disbursement,
    DisbursementBatch,
    Fund,
    Grant,
    Nonprofit,
    NonprofitContact,
)
from donations.services import grant_approve, nonprofit_verify
from programs.models import Cohort, Enrolment, Milestone, ProgressUpdate
from tests.donations.payees import payee_changed
from tests.factories import (
    ChangeMakersListFactory,
    CohortFactory,
    CreatorFactory,
    DisbursementFactory,
    EnrolmentFactory,
    FundFactory,
    GrantFactory,
    ListEntryFactory,
    MilestoneFactory,
    NonprofitContactFactory,
    NonprofitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


_years = itertools.count()


def make_list(**kwargs) -> ChangeMakersList:
    # The factory's year sequence runs past the 2000-2100 constraint in a long session; each
    # test is rolled back, so cycling through a century cannot collide within one test.
    return ChangeMakersListFactory(year=2000 + next(_years) % 100, **kwargs)


def _list_entry() -> ListEntry:
    return ListEntryFactory(change_makers_list=make_list())


def _progress_update():
    return ProgressUpdate.objects.create(
        milestone=MilestoneFactory(), author=UserFactory(), body="Filmed the first lesson."
    )


def _audit_event():
    return audit_record(
        actor=UserFactory(), obj=NonprofitFactory(), action="created", to_state="pending"
    )


# How to make one row of each registered model.
MAKERS = {
    Creator: lambda: CreatorFactory(user=UserFactory()),
    ChangeMakersList: make_list,
    ListEntry: _list_entry,
    AuditEvent: _audit_event,
    Cohort: CohortFactory,
    Enrolment: EnrolmentFactory,
    Milestone: MilestoneFactory,
    ProgressUpdate: _progress_update,
    Nonprofit: NonprofitFactory,
    NonprofitContact: NonprofitContactFactory,
    Fund: FundFactory,
    Grant: GrantFactory,
    Disbursement: DisbursementFactory,
}
READ_ONLY = {AuditEvent, ProgressUpdate, Disbursement}


def admin_url(model, view: str, *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def form_data(response) -> dict:
    """What a browser would post back, unchanged, for the admin form on `response`."""
    data = {}

    def add(form):
        for name, field in form.fields.items():
            bound = form[name]
            value = bound.value()
            if isinstance(field.widget, forms.CheckboxInput):
                if value:
                    data[bound.html_name] = "on"
            elif value is None:
                data[bound.html_name] = ""
            elif isinstance(value, list | tuple):
                data[bound.html_name] = [str(v) for v in value]
            else:
                data[bound.html_name] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def run_action(client, model, action: str, objects, **extra):
    data = {
        "action": action,
        "index": "0",
        helpers.ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects],
        **extra,
    }
    return client.post(admin_url(model, "changelist"), data, follow=True)


def audited(obj, action: str) -> AuditEvent | None:
    return AuditEvent.objects.for_object(obj).filter(action=action).last()


# --- Every page loads, with bounded queries ---------------------------------------------------


@pytest.mark.parametrize("model", MAKERS, ids=lambda m: m._meta.model_name)
def test_changelist_query_count_does_not_grow_with_rows(staff_client, model):
    make = MAKERS[model]
    for _ in range(3):
        make()
    url = admin_url(model, "changelist")
    staff_client.get(url)  # warm per-process caches (content types, sessions)

    with CaptureQueriesContext(connection) as with_three:
        response = staff_client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 3

    for _ in range(27):
        make()
    with CaptureQueriesContext(connection) as with_thirty:
        response = staff_client.get(url)
    assert response.context["cl"].result_count == 30
    assert len(with_thirty) == len(with_three), [q["sql"] for q in with_thirty]


@pytest.mark.parametrize("model", MAKERS, ids=lambda m: m._meta.model_name)
def test_add_and_change_pages_load(staff_client, model):
    obj = MAKERS[model]()
    add = staff_client.get(admin_url(model, "add"))
    assert add.status_code == (403 if model in READ_ONLY else 200)

    with CaptureQueriesContext(connection) as queries:
        change = staff_client.get(admin_url(model, "change", obj.pk))
    assert change.status_code == 200
    assert len(queries) < 20


def test_list_change_page_queries_do_not_grow_with_entries(staff_client):
    small, large = make_list(), make_list()
    for _ in range(3):
        ListEntryFactory(change_makers_list=small)
    for _ in range(30):
        ListEntryFactory(change_makers_list=large)
    staff_client.get(admin_url(ChangeMakersList, "change", small.pk))

    with CaptureQueriesContext(connection) as with_three:
        assert staff_client.get(admin_url(ChangeMakersList, "change", small.pk)).status_code == 200
    with CaptureQueriesContext(connection) as with_thirty:
        assert staff_client.get(admin_url(ChangeMakersList, "change", large.pk)).status_code == 200
    assert len(with_thirty) == len(with_three)


def test_changelists_show_money_with_currency_and_separators(staff_client):
    fund = FundFactory(currency="EUR", total=Decimal("1250000.00"))
    GrantFactory(fund=fund, amount=Decimal("25000.00"))
    assert "EUR 1,250,000.00" in staff_client.get(admin_url(Fund, "changelist")).text
    assert "EUR 25,000.00" in staff_client.get(admin_url(Grant, "changelist")).text


def test_milestone_changelist_flags_overdue_from_the_date(staff_client):
    late = MilestoneFactory(due_date=datetime.date(2000, 1, 1), title="Long ago")
    MilestoneFactory(due_date=datetime.date(2099, 1, 1), title="Far ahead")
    response = staff_client.get(admin_url(Milestone, "changelist"), {"overdue": "yes"})
    assert [m.pk for m in response.context["cl"].result_list] == [late.pk]


# --- Search and filters -----------------------------------------------------------------------


def test_creator_search_by_handle(staff_client):
    joel = CreatorFactory(handle="joelbervell", display_name="Joel Bervell")
    CreatorFactory(handle="karaxlewis", display_name="Kara Lewis")
    response = staff_client.get(admin_url(Creator, "changelist"), {"q": "joelb"})
    assert list(response.context["cl"].result_list) == [joel]


def test_creator_filter_by_cause(staff_client):
    green = CreatorFactory(causes=[Cause.ENVIRONMENT, Cause.ARTS])
    CreatorFactory(causes=[Cause.EDUCATION])
    response = staff_client.get(admin_url(Creator, "changelist"), {"cause": "environment"})
    assert list(response.context["cl"].result_list) == [green]


def test_grant_filter_by_status(staff_client):
    approved = GrantFactory(status=Grant.Status.APPROVED)
    GrantFactory()
    response = staff_client.get(admin_url(Grant, "changelist"), {"status__exact": "approved"})
    assert list(response.context["cl"].result_list) == [approved]


# --- Adding goes through the create services (audited) ---------------------------------------


def test_adding_a_fund_goes_through_the_service(staff_client, staff_user):
    response = staff_client.post(
        admin_url(Fund, "add"), {"name": "Fund 2027", "currency": "EUR", "total": "500000"}
    )
    assert response.status_code == 302
    fund = Fund.objects.get(name="Fund 2027")
    assert (fund.total, fund.committed, fund.currency) == (Decimal("500000.00"), 0, "EUR")
    assert audited(fund, "created").actor == staff_user


def test_adding_a_grant_proposes_it_in_the_funds_currency(staff_client, staff_user):
    fund, nonprofit, creator = FundFactory(currency="EUR"), NonprofitFactory(), CreatorFactory()
    response = staff_client.post(
        admin_url(Grant, "add"),
        {
            "fund": fund.pk,
            "nonprofit": nonprofit.pk,
            "creator": creator.pk,
            "amount": "25000",
            "purpose": "Clinics",
        },
    )
    assert response.status_code == 302
    grant = Grant.objects.get()
    assert (grant.status, grant.currency, grant.amount) == ("proposed", "EUR", Decimal("25000"))
    assert audited(grant, "proposed").actor == staff_user


def test_adding_a_cohort_computes_its_end_and_stamps_the_plan(staff_client, staff_user):
    response = staff_client.post(
        admin_url(Cohort, "add"),
        {"name": "Cohort 9", "start_date": "2027-08-31", "capacity": "10", "description": ""},
    )
    assert response.status_code == 302
    cohort = Cohort.objects.get(name="Cohort 9")
    assert cohort.end_date == datetime.date(2028, 2, 29)
    assert cohort.plan_items.count() == 4
    assert audited(cohort, "created").actor == staff_user


def test_adding_a_creator_with_causes_and_links(staff_client, staff_user):
    data = form_data(staff_client.get(admin_url(Creator, "add")))
    data.update(
        {
            "display_name": "Eli Virkina",
            "handle": "elivirkina",
            "country": "FI",
            "causes": ["environment", "arts"],
            "follower_count": "1500000",
            "links-0-label": "TikTok",
            "links-0-url": "https://www.tiktok.com/@elivirkina",
        }
    )
    response = staff_client.post(admin_url(Creator, "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    creator = Creator.objects.get(handle="elivirkina")
    assert creator.causes == ["environment", "arts"]
    assert list(CreatorLink.objects.filter(creator=creator).values_list("label", flat=True)) == [
        "TikTok"
    ]
    assert audited(creator, "created").actor == staff_user


def test_adding_a_creator_refuses_an_unknown_handle_format(staff_client):
    data = form_data(staff_client.get(admin_url(Creator, "add")))
    data.update({"display_name": "X", "handle": "no spaces!", "country": "KE", "causes": []})
    response = staff_client.post(admin_url(Creator, "add"), data)
    assert response.status_code == 200
    assert {"handle", "causes"} <= set(response.context["adminform"].form.errors)
    assert not Creator.objects.exists()


def test_adding_a_nonprofit_and_a_list_go_through_their_services(staff_client, staff_user):
    data = form_data(staff_client.get(admin_url(Nonprofit, "add")))
    data.update(
        {
            "legal_name": "Clean Water Kenya",
            "registration_number": "KE-1",
            "country": "KE",
            "reach": "local",
            "contact_email": "grants@water.example",
        }
    )
    assert staff_client.post(admin_url(Nonprofit, "add"), data).status_code == 302
    nonprofit = Nonprofit.objects.get(registration_number="KE-1")
    assert nonprofit.verification_status == "pending"
    assert audited(nonprofit, "created").actor == staff_user

    creator = CreatorFactory(country="NG")
    data = form_data(staff_client.get(admin_url(ChangeMakersList, "add")))
    data.update(
        {
            "year": "2027",
            "title_en": "Change Makers 2027",
            "entries-2-0-position": "1",
            "entries-2-0-creator": str(creator.pk),
            "entries-2-0-cause": "education",
            "entries-2-0-citation_en": "Teaches millions.",
        }
    )
    response = staff_client.post(admin_url(ChangeMakersList, "add"), data)
    assert response.status_code == 302
    listing = ChangeMakersList.objects.get(year=2027)
    assert listing.status == "draft"
    entry = listing.entries.get()
    assert (entry.creator, entry.country.code) == (creator, "NG")  # the creator's country
    assert audited(listing, "created").actor == staff_user


def test_inviting_a_creator_from_the_admin_goes_through_the_service(staff_client, staff_user):
    cohort, creator = CohortFactory(), CreatorFactory()
    response = staff_client.post(
        admin_url(Enrolment, "add"),
        {"cohort": cohort.pk, "creator": creator.pk, "mission": "Health literacy"},
    )
    assert response.status_code == 302
    enrolment = Enrolment.objects.get()
    assert enrolment.status == "invited"
    assert audited(enrolment, "invited").actor == staff_user


def test_a_rule_only_the_service_checks_shows_in_the_form_keeping_the_input(staff_client):
    cohort = CohortFactory(status=Cohort.Status.COMPLETED)
    response = staff_client.post(
        admin_url(Enrolment, "add"),
        {"cohort": cohort.pk, "creator": CreatorFactory().pk, "mission": "Health literacy"},
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "has ended; invite the creator to a later cohort" in content
    assert "Health literacy" in content
    assert not Enrolment.objects.exists()


# --- State fields are read-only ---------------------------------------------------------------


def test_posting_a_changed_grant_status_does_not_change_it(staff_client):
    grant = GrantFactory(purpose="Old")
    url = admin_url(Grant, "change", grant.pk)
    data = form_data(staff_client.get(url))
    data.update({"purpose": "New", "status": "disbursed", "approved_at": "2026-01-01 00:00"})
    assert staff_client.post(url, data).status_code == 302
    grant.refresh_from_db()
    assert (grant.purpose, grant.status, grant.approved_at) == ("New", "proposed", None)


def test_posting_changed_state_fields_of_a_nonprofit_fund_and_cohort_does_nothing(staff_client):
    nonprofit, fund, cohort = NonprofitFactory(), FundFactory(), CohortFactory()
    changes = [
        (nonprofit, {"verification_status": "verified", "website": "https://new.example"}),
        (fund, {"committed": "999", "disbursed": "5", "total": "1", "name": "Renamed"}),
        (cohort, {"status": "completed", "end_date": "2030-01-01", "capacity": "12"}),
    ]
    for obj, update in changes:
        url = admin_url(type(obj), "change", obj.pk)
        data = form_data(staff_client.get(url))
        data.update(update)
        response = staff_client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors
    nonprofit.refresh_from_db()
    fund.refresh_from_db()
    cohort.refresh_from_db()
    assert (nonprofit.verification_status, nonprofit.website) == ("pending", "https://new.example")
    assert (fund.committed, fund.disbursed, fund.total, fund.name) == (
        0,
        0,
        Decimal("1000000.00"),
        "Renamed",
    )
    assert (cohort.status, cohort.end_date, cohort.capacity) == (
        "planning",
        datetime.date(2027, 3, 1),
        12,
    )


def test_an_edit_in_the_admin_is_audited_by_field_name_without_the_values(staff_client, staff_user):
    nonprofit = NonprofitFactory(payout_reference="acct-old-0001")
    url = admin_url(type(nonprofit), "change", nonprofit.pk)
    data = form_data(staff_client.get(url))
    data.update({"payout_reference": "acct-new-0002", "website": "https://new.example"})

    assert staff_client.post(url, data).status_code == 302

    events = AuditEvent.objects.for_object(nonprofit).filter(action="updated")
    assert {event.actor for event in events} == {staff_user}
    # The payout reference is read-only here (it changes through a reviewed request).
    assert sorted(event.note for event in events) == ["Changed in the admin: website"]
    nonprofit.refresh_from_db()
    assert nonprofit.payout_reference == "acct-old-0001"
    assert not any("acct-" in event.note for event in events)
    staff_client.post(url, data)  # nothing changed this time: nothing to record
    assert AuditEvent.objects.for_object(nonprofit).filter(action="updated").count() == 1


def test_moving_a_planned_cohort_moves_its_end_date(staff_client):
    cohort = CohortFactory()
    url = admin_url(Cohort, "change", cohort.pk)
    data = form_data(staff_client.get(url))
    data["start_date"] = "2027-01-15"
    assert staff_client.post(url, data).status_code == 302
    cohort.refresh_from_db()
    assert cohort.end_date == datetime.date(2027, 7, 15)


def test_lowering_capacity_below_the_places_taken_is_refused_in_the_form(staff_client):
    cohort = CohortFactory(capacity=3)
    EnrolmentFactory.create_batch(2, cohort=cohort)
    url = admin_url(Cohort, "change", cohort.pk)
    data = form_data(staff_client.get(url))
    data["capacity"] = "1"
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "2 creators already hold a place" in response.content.decode()
    cohort.refresh_from_db()
    assert cohort.capacity == 3


# --- Actions call the services ----------------------------------------------------------------


def test_verify_action(staff_client, staff_user):
    nonprofit = NonprofitFactory()
    response = run_action(staff_client, Nonprofit, "verify", [nonprofit])
    nonprofit.refresh_from_db()
    assert nonprofit.verification_status == "verified"
    assert audited(nonprofit, "verified").actor == staff_user
    assert any("Verified" in m for m in messages_of(response))


def test_reject_action_asks_for_a_reason_first(staff_client, staff_user):
    nonprofit = NonprofitFactory()
    page = run_action(staff_client, Nonprofit, "reject", [nonprofit])
    assert page.status_code == 200
    assert 'name="transition-reason"' in page.text
    nonprofit.refresh_from_db()
    assert nonprofit.verification_status == "pending"

    empty = run_action(
        staff_client,
        Nonprofit,
        "reject",
        [nonprofit],
        **{"transition-apply": "Reject", "transition-reason": "  "},
    )
    assert empty.status_code == 200
    assert empty.context["form"].errors
    nonprofit.refresh_from_db()
    assert nonprofit.verification_status == "pending"
    assert audited(nonprofit, "rejected") is None

    run_action(
        staff_client,
        Nonprofit,
        "reject",
        [nonprofit],
        **{"transition-apply": "Reject", "transition-reason": "Registration not found"},
    )
    nonprofit.refresh_from_db()
    assert (nonprofit.verification_status, nonprofit.rejection_reason) == (
        "rejected",
        "Registration not found",
    )
    event = audited(nonprofit, "rejected")
    assert (event.actor, event.note) == (staff_user, "Registration not found")


def test_approve_action_commits_the_grant(staff_client, staff_user):
    nonprofit = nonprofit_verify(nonprofit=NonprofitFactory(), actor=staff_user)
    grant = GrantFactory(nonprofit=nonprofit)
    run_action(staff_client, Grant, "approve", [grant])
    grant.refresh_from_db()
    grant.fund.refresh_from_db()
    assert grant.status == "approved"
    assert grant.approved_at is not None
    assert grant.fund.committed == Decimal("25000.00")
    assert audited(grant, "approved").actor == staff_user


def test_a_refused_approval_shows_why_and_does_not_stop_the_others(staff_client, staff_user):
    fund = FundFactory()
    unverified = GrantFactory(fund=fund, nonprofit=NonprofitFactory(legal_name="Unvetted"))
    fine = GrantFactory(
        fund=fund, nonprofit=nonprofit_verify(nonprofit=NonprofitFactory(), actor=staff_user)
    )
    response = run_action(staff_client, Grant, "approve", [unverified, fine])
    assert any("Unvetted is not verified yet" in m for m in messages_of(response))
    unverified.refresh_from_db()
    fine.refresh_from_db()
    fund.refresh_from_db()
    assert (unverified.status, fine.status) == ("proposed", "approved")
    assert fund.committed == Decimal("25000.00")
    assert audited(unverified, "approved") is None


def test_approving_beyond_the_budget_is_refused(staff_client, staff_user):
    fund = FundFactory(total=Decimal("10000.00"))
    nonprofit = nonprofit_verify(nonprofit=NonprofitFactory(), actor=staff_user)
    grant = GrantFactory(fund=fund, nonprofit=nonprofit)
    response = run_action(staff_client, Grant, "approve", [grant])
    assert any("Not enough left" in m for m in messages_of(response))
    grant.refresh_from_db()
    fund.refresh_from_db()
    assert (grant.status, fund.committed) == ("proposed", 0)


def test_cancel_action_needs_a_reason_and_releases_the_money(staff_client, staff_user):
    nonprofit = nonprofit_verify(nonprofit=NonprofitFactory(), actor=staff_user)
    grant = GrantFactory(nonprofit=nonprofit)
    run_action(staff_client, Grant, "approve", [grant])

    empty = run_action(staff_client, Grant, "cancel", [grant], **{"transition-apply": "1"})
    assert empty.status_code == 200
    assert "reason" in empty.context["form"].errors
    grant.refresh_from_db()
    assert grant.status == "approved"

    run_action(
        staff_client,
        Grant,
        "cancel",
        [grant],
        **{"transition-apply": "1", "transition-reason": "Nonprofit closed"},
    )
    grant.refresh_from_db()
    grant.fund.refresh_from_db()
    assert (grant.status, grant.status_reason, grant.fund.committed) == (
        "cancelled",
        "Nonprofit closed",
        0,
    )
    assert audited(grant, "cancelled").note == "Nonprofit closed"


def test_actions_run_from_the_change_page(staff_client):
    nonprofit = NonprofitFactory()
    url = admin_url(Nonprofit, "change", nonprofit.pk)
    response = staff_client.post(
        url,
        {"CHANGE_FORM-action": "verify", helpers.ACTION_CHECKBOX_NAME: str(nonprofit.pk)},
    )
    assert response.status_code == 302
    nonprofit.refresh_from_db()
    assert nonprofit.verification_status == "verified"


def test_cohort_start_and_complete_actions(staff_client, staff_user):
    cohort = CohortFactory()
    run_action(staff_client, Cohort, "start", [cohort])
    cohort.refresh_from_db()
    assert cohort.status == "active"
    run_action(staff_client, Cohort, "complete", [cohort])
    cohort.refresh_from_db()
    assert cohort.status == "completed"
    assert audited(cohort, "started").actor == staff_user
    assert audited(cohort, "completed").actor == staff_user


def test_enrolment_actions(staff_client, staff_user):
    cohort = CohortFactory()
    cohort.plan_items.create(title="Kickoff", offset_days=14)
    staying, leaving = EnrolmentFactory(cohort=cohort), EnrolmentFactory(cohort=cohort)

    run_action(staff_client, Enrolment, "activate", [staying, leaving])
    staying.refresh_from_db()
    assert staying.status == "active"
    assert list(staying.milestones.values_list("title", flat=True)) == ["Kickoff"]

    run_action(staff_client, Enrolment, "complete", [staying])
    confirm = run_action(staff_client, Enrolment, "withdraw", [leaving])
    assert confirm.status_code == 200  # a confirmation page; the reason is optional
    run_action(staff_client, Enrolment, "withdraw", [leaving], **{"transition-apply": "1"})
    staying.refresh_from_db()
    leaving.refresh_from_db()
    assert (staying.status, leaving.status) == ("completed", "withdrawn")
    for enrolment, action in [(staying, "completed"), (leaving, "withdrawn")]:
        assert audited(enrolment, action).actor == staff_user


def test_milestone_actions(staff_client, staff_user):
    done = MilestoneFactory(status=Milestone.Status.SUBMITTED)
    thin = MilestoneFactory(status=Milestone.Status.SUBMITTED)
    pending = MilestoneFactory()

    response = run_action(staff_client, Milestone, "approve", [done, pending])
    assert any("cannot go from" in m for m in messages_of(response))
    run_action(
        staff_client,
        Milestone,
        "request_changes",
        [thin],
        **{"transition-apply": "1", "transition-reason": "Add the video link"},
    )
    for milestone in (done, thin, pending):
        milestone.refresh_from_db()
    assert (done.status, thin.status, pending.status) == (
        "approved",
        "changes_requested",
        "pending",
    )
    assert thin.feedback == "Add the video link"
    assert audited(done, "approved").actor == staff_user


def test_list_publish_and_unpublish_actions(staff_client, staff_user):
    empty, full = make_list(), make_list()
    ListEntryFactory(change_makers_list=full)
    response = run_action(staff_client, ChangeMakersList, "publish", [empty, full])
    assert any("empty list cannot be published" in m for m in messages_of(response))
    empty.refresh_from_db()
    full.refresh_from_db()
    assert (empty.status, full.status) == ("draft", "published")
    assert full.published_at is not None

    run_action(staff_client, ChangeMakersList, "unpublish", [full], **{"transition-apply": "1"})
    full.refresh_from_db()
    assert (full.status, full.published_at) == ("draft", None)
    assert audited(full, "unpublished").actor == staff_user


def _view_on_site(response) -> str:
    match = re.search(r'<a href="([^"]*)" class="viewsitelink"', response.text)
    assert match, "no “View on site” link"
    return html.unescape(match[1])


def test_view_on_site_of_a_draft_list_opens_the_staff_preview(staff_client):
    """A draft is not public (its public page is a 404): the admin's link leads staff to the
    staff preview instead; a published list's leads to its public page."""
    draft, published = make_list(), make_list()
    ListEntryFactory(change_makers_list=draft)
    ListEntryFactory(change_makers_list=published)
    run_action(staff_client, ChangeMakersList, "publish", [published])
    published.refresh_from_db()
    assert published.status == "published"

    link = _view_on_site(staff_client.get(admin_url(ChangeMakersList, "change", draft.pk)))
    assert link == reverse("creators:edition-preview", kwargs={"year": draft.year})
    assert staff_client.get(link).status_code == 200
    assert staff_client.get(draft.get_absolute_url()).status_code == 404

    link = _view_on_site(staff_client.get(admin_url(ChangeMakersList, "change", published.pk)))
    assert link == reverse("creators:list-year", kwargs={"year": published.year})
    assert staff_client.get(link).status_code == 200


def test_tabular_inline_inputs_are_named_after_their_column(staff_client):
    """Django's tabular inline renders its rows' inputs without a <label>: each gets its
    column's label as aria-label (the browser sweep checks the page with axe-core)."""
    draft = make_list()
    ListEntryFactory(change_makers_list=draft)
    page = staff_client.get(admin_url(ChangeMakersList, "change", draft.pk)).text
    for field, label in [
        ("entries-0-position", "Position"),
        ("entries-0-DELETE", "Delete"),
        ("entries-2-0-creator", "Creator"),
        ("entries-2-0-country", "Country"),
        # the row "Add another" copies, a column per language
        ("entries-2-__prefix__-citation_en", "Citation [en]"),
        ("entries-2-__prefix__-citation_ar", "Citation [ar]"),
    ]:
        tag = re.search(rf'<(?:input|select|textarea)[^>]*name="{field}"[^>]*>', page)
        assert tag, field
        assert f'aria-label="{label}"' in tag[0], tag[0]
    assert 'lang="ar" dir="rtl"' in tag[0]
    # Only the rows' widgets are named: the form class's own fields are left as they were.
    assert "aria-label" not in NewListEntryForm.base_fields["creator"].widget.attrs


# --- Read-only models and access ---------------------------------------------------------------


def test_audit_events_cannot_be_added_changed_or_deleted(staff_client):
    event = _audit_event()
    assert staff_client.get(admin_url(AuditEvent, "add")).status_code == 403
    assert staff_client.post(admin_url(AuditEvent, "add"), {"action": "x"}).status_code == 403
    assert staff_client.get(admin_url(AuditEvent, "delete", event.pk)).status_code == 403
    assert staff_client.post(admin_url(AuditEvent, "delete", event.pk)).status_code == 403
    change = admin_url(AuditEvent, "change", event.pk)
    assert staff_client.get(change).status_code == 200  # view only
    assert staff_client.post(change, {"action": "forged"}).status_code == 403
    changelist = staff_client.get(admin_url(AuditEvent, "changelist"))
    assert "delete_selected" not in changelist.text
    event.refresh_from_db()
    assert event.action == "created"


def test_disbursements_are_read_only(staff_client):
    disbursement = DisbursementFactory()
    assert staff_client.get(admin_url(Disbursement, "add")).status_code == 403
    change = admin_url(Disbursement, "change", disbursement.pk)
    assert staff_client.post(change, {"status": "succeeded"}).status_code == 403
    assert staff_client.get(admin_url(Disbursement, "delete", disbursement.pk)).status_code == 403
    disbursement.refresh_from_db()
    assert disbursement.status == "pending"


@pytest.mark.parametrize("model", [Creator, Grant, AuditEvent], ids=lambda m: m._meta.model_name)
def test_non_staff_are_sent_to_the_admin_login(client, creator_user, model):
    client.force_login(creator_user)
    url = admin_url(model, "changelist")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_schedule_and_retry_actions_pay_through_the_services(
    staff_client, staff_user, django_capture_on_commit_callbacks
):
    fine = grant_approve(
        grant=GrantFactory(
            nonprofit=nonprofit_verify(nonprofit=NonprofitFactory(), actor=staff_user)
        ),
        actor=staff_user,
    )
    refused = grant_approve(
        grant=GrantFactory(
            nonprofit=nonprofit_verify(
                nonprofit=NonprofitFactory(payout_reference="sandbox-fail"), actor=staff_user
            )
        ),
        actor=staff_user,
    )
    with django_capture_on_commit_callbacks(execute=True):
        pay_reviewed(staff_client, run_action(staff_client, Grant, "schedule", [fine, refused]))
    fine.refresh_from_db()
    refused.refresh_from_db()
    assert (fine.status, refused.status) == ("disbursed", "failed")
    assert audited(fine, "scheduled").actor == staff_user
    assert fine.disbursement.batch == refused.disbursement.batch  # one batch for the selection

    payee_changed(refused, "acct-fixed")
    with django_capture_on_commit_callbacks(execute=True):
        run_action(staff_client, Grant, "retry", [refused])
    refused.refresh_from_db()
    assert refused.status == "disbursed"
    assert audited(refused, "retried").actor == staff_user


def test_payment_records_are_read_only_in_the_admin(staff_client):
    for model in ("disbursement", "disbursementbatch", "sandboxpayment"):
        assert staff_client.get(f"/admin/donations/{model}/").status_code == 200
        assert staff_client.get(f"/admin/donations/{model}/add/").status_code == 403


def pay_reviewed(client, review):
    """Press the review's "Pay" button: its form posts the ids and the review's digest."""
    shown = review.context["review"]
    return client.post(
        reverse("donations:grants-schedule"), {"grants": shown.ids, "expected": shown.digest}
    )


def test_the_schedule_action_pays_nothing_before_its_review(
    staff_client, staff_user, django_capture_on_commit_callbacks
):
    nonprofit = nonprofit_verify(nonprofit=NonprofitFactory(), actor=staff_user)
    approved = grant_approve(grant=GrantFactory(nonprofit=nonprofit), actor=staff_user)
    proposed = GrantFactory(nonprofit=nonprofit)

    review = run_action(staff_client, Grant, "schedule", [approved, proposed])

    # The staff pages' review: the approved grant, the other named as left out, nothing paid.
    assert review.redirect_chain[-1][0].startswith(reverse("donations:grants-review"))
    assert review.context["review"].ids == [approved.pk]
    assert review.context["review"].left_out == 1
    assert 'href="/admin/donations/grant/"' in review.content.decode()  # back to the admin
    assert not DisbursementBatch.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        paid = pay_reviewed(staff_client, review)
    assert paid.status_code == 302
    approved.refresh_from_db()
    proposed.refresh_from_db()
    assert (approved.status, proposed.status) == ("disbursed", "proposed")


def test_an_update_attachment_opens_through_the_checked_download_in_the_admin(
    staff_client, settings, tmp_path
):
    """The admin links the attachment to the view that checks who asks and serves it as a
    download, not to MEDIA_URL, which nothing serves."""
    from tests.uploads import pdf_file

    settings.MEDIA_ROOT = tmp_path
    update = ProgressUpdate.objects.create(
        milestone=MilestoneFactory(), author=UserFactory(), body="Report", attachment=pdf_file()
    )
    page = staff_client.get(admin_url(ProgressUpdate, "change", update.pk)).content.decode()
    download = reverse("programs:update-attachment", kwargs={"pk": update.pk})
    assert f'<a href="{download}">Download</a>' in page
    assert settings.MEDIA_URL not in page
    response = staff_client.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")


def test_every_model_of_the_product_has_its_admin():
    from django.apps import apps
    from django.contrib import admin

    ours = ("core", "creators", "programs", "donations", "webhooks", "backoffice")
    # A model edited only with its parent (a creator's links, a cohort's plan) is an inline.
    inlined = {
        inline.model
        for model_admin in admin.site._registry.values()
        for inline in model_admin.inlines
    }
    missing = [
        model._meta.label
        for app in ours
        for model in apps.get_app_config(app).get_models()
        if model not in admin.site._registry and model not in inlined
    ]
    assert missing == []


def test_the_program_page_text_is_edited_in_the_admin_through_its_service(staff_client):
    from changemakers.backoffice.models import ProgramHub

    assert staff_client.get(admin_url(ProgramHub, "add")).status_code == 200
    data = {"title_en": "The hub", "hashtag": "#Hub", "introduction_en": "Hello.", "body_en": ""}
    response = staff_client.post(admin_url(ProgramHub, "add"), data)
    assert response.status_code == 302
    hub = ProgramHub.objects.get()
    assert audited(hub, "created").actor.is_staff
    # One row: no second add, no delete.
    assert staff_client.get(admin_url(ProgramHub, "add")).status_code == 403
    assert staff_client.get(admin_url(ProgramHub, "delete", hub.pk)).status_code == 403
    response = staff_client.post(
        admin_url(ProgramHub, "change", hub.pk), {**data, "title_en": "New", "title_fr": "Neuf"}
    )
    assert response.status_code == 302
    assert ProgramHub.objects.get().title == "New"
    assert ProgramHub.objects.get().title_fr == "Neuf"
    assert audited(hub, "updated").note == "title, title_fr"
