"""Roles: the kernel knows no app; each app declares how an account links to its rows."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.utils import translation

from changemakers.core import roles
from changemakers.core.roles import Role, StaffRole, linked_roles, role_of, staff_roles_of
from tests.factories import CreatorFactory, NonprofitContactFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_each_app_declares_its_account_link_once_in_load_order():
    assert roles._LINKS == [(Role.CREATOR, "creator"), (Role.NONPROFIT, "nonprofit_contact")]
    roles.role_link_declare(Role.CREATOR, "creator")  # a second ready() changes nothing
    assert roles._LINKS == [(Role.CREATOR, "creator"), (Role.NONPROFIT, "nonprofit_contact")]


def test_who_is_looking():
    creator = CreatorFactory(user=UserFactory())
    contact = NonprofitContactFactory()
    assert role_of(AnonymousUser()) == Role.ANONYMOUS
    assert role_of(UserFactory(is_staff=True)) == Role.STAFF
    assert role_of(creator.user) == Role.CREATOR
    assert role_of(contact.user) == Role.NONPROFIT
    assert role_of(UserFactory()) == Role.MEMBER
    assert linked_roles(contact.user) == [Role.NONPROFIT]
    assert linked_roles(AnonymousUser()) == []


def test_a_nonprofit_contacts_account_cannot_also_be_a_creators():
    contact = NonprofitContactFactory()
    creator = CreatorFactory.build(user=contact.user)
    with pytest.raises(ValidationError) as refused:
        creator.full_clean()
    assert "user" in refused.value.error_dict
    # The creator's own account is no refusal.
    CreatorFactory.build(user=UserFactory()).full_clean()


# --- Staff roles -----------------------------------------------------------------------------


def _held(role: StaffRole) -> set[str]:
    group = Group.objects.get(name=role.value)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_migrate_leaves_one_group_per_staff_role_with_what_each_app_declared():
    assert set(Group.objects.values_list("name", flat=True)) >= {role.value for role in StaffRole}
    manager, finance = _held(StaffRole.PROGRAM_MANAGER), _held(StaffRole.FINANCE_APPROVER)
    vetter, auditor = _held(StaffRole.NONPROFIT_VETTER), _held(StaffRole.AUDITOR)
    assert {"donations.add_grant", "programs.change_milestone"} <= manager
    assert {"donations.approve_grant", "donations.schedule_grant"} <= finance
    assert {"donations.approve_payoutdetailschange", "donations.add_fund"} <= finance
    assert {"donations.verify_nonprofit", "donations.add_nonprofitcontact"} <= vetter
    # Whoever proposes does not approve; whoever vets does not pay; nobody approves their vetting.
    assert "donations.approve_grant" not in manager | vetter | auditor
    assert "donations.add_grant" not in finance | vetter | auditor
    assert "donations.verify_nonprofit" not in manager | finance | auditor
    # The auditor reads every model of every app, and changes none.
    views = set(
        Permission.objects.filter(
            content_type__app_label__in=["core", "creators", "programs", "donations", "backoffice"],
            codename__startswith="view_",
        ).values_list("content_type__app_label", "codename")
    )
    assert {f"{app}.{codename}" for app, codename in views} <= auditor
    assert all(p.split(".")[1].startswith("view_") for p in auditor)


def test_every_declared_permission_exists():
    """A misspelt codename in an app's declaration would quietly grant nothing."""
    for role, permissions in roles._GRANTS.items():
        for permission in permissions:
            app_label, codename = permission.split(".")
            if codename == roles.VIEW_EVERY_MODEL:
                continue
            assert Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).exists(), f"{role.label}: no permission {permission}"


def test_syncing_again_restores_the_declared_permissions_and_nothing_more():
    group = Group.objects.get(name=StaffRole.AUDITOR.value)
    declared = _held(StaffRole.AUDITOR)
    group.permissions.add(Permission.objects.get(codename="approve_grant"))
    Group.objects.filter(name=StaffRole.PROGRAM_MANAGER.value).delete()
    roles.staff_roles_sync()
    roles.staff_roles_sync()
    assert _held(StaffRole.AUDITOR) == declared
    assert "donations.add_grant" in _held(StaffRole.PROGRAM_MANAGER)


def test_role_names_are_translated():
    """The group's name is the role's stable key; what people read is its translated label."""
    assert StaffRole.AUDITOR.value == "Auditor"
    assert str(StaffRole.FINANCE_APPROVER.label) == "Finance approver"
    with translation.override("fr"):
        assert str(StaffRole.FINANCE_APPROVER.label)  # looked up in the catalogue when shown


def test_one_person_may_hold_several_roles():
    both = StaffFactory(roles=[StaffRole.AUDITOR, StaffRole.NONPROFIT_VETTER])
    assert staff_roles_of(both) == [StaffRole.NONPROFIT_VETTER, StaffRole.AUDITOR]
    assert both.has_perm("donations.verify_nonprofit")
    assert both.has_perm("programs.view_cohort")
    assert staff_roles_of(UserFactory()) == []


def _view(request):
    return HttpResponse("ok")


@pytest.mark.parametrize(
    ("options", "method", "roles_held", "expected"),
    [
        ({}, "get", [], 200),  # bare: any member of staff
        ({"perm": "donations.approve_grant"}, "get", [StaffRole.FINANCE_APPROVER], 200),
        ({"perm": "donations.approve_grant"}, "get", [StaffRole.PROGRAM_MANAGER], 403),
        ({"perm": "donations.approve_grant"}, "get", [], 403),
        ({"any_perm": ("donations.view_grant", "x.y")}, "get", [StaffRole.AUDITOR], 200),
        ({"any_perm": ("donations.add_grant", "x.y")}, "get", [StaffRole.AUDITOR], 403),
        (
            {"perm": "programs.view_milestone", "post_perm": "programs.change_milestone"},
            "get",
            [StaffRole.AUDITOR],
            200,
        ),
        (
            {"perm": "programs.view_milestone", "post_perm": "programs.change_milestone"},
            "post",
            [StaffRole.AUDITOR],
            403,
        ),
        (
            {"perm": "programs.view_milestone", "post_perm": "programs.change_milestone"},
            "post",
            [StaffRole.PROGRAM_MANAGER],
            200,
        ),
    ],
)
def test_staff_required_asks_for_the_permissions(rf, options, method, roles_held, expected):
    view = roles.staff_required(**options)(_view) if options else roles.staff_required(_view)
    request = getattr(rf, method)("/staff/x/")
    request.user = StaffFactory(roles=roles_held)
    if expected == 403:
        with pytest.raises(PermissionDenied):
            view(request)
    else:
        assert view(request).status_code == expected


def test_staff_required_refuses_people_outside_the_staff_whatever_they_hold(rf):
    """A permission given to a creator's account by mistake opens no staff page."""
    user = CreatorFactory(user=UserFactory()).user
    user.user_permissions.add(Permission.objects.get(codename="view_grant"))
    request = rf.get("/staff/grants/")
    request.user = get_user_model().objects.get(pk=user.pk)
    with pytest.raises(PermissionDenied):
        roles.staff_required(perm="donations.view_grant")(_view)(request)
    request.user = AnonymousUser()
    assert roles.staff_required(_view)(request).status_code == 302  # to sign in


def test_permission_require_says_what_was_refused():
    with pytest.raises(ValidationError) as refused:
        roles.permission_require(None, "donations.approve_grant", doing="approve grants")
    assert refused.value.code == "not_permitted"
    assert refused.value.messages == ["Your staff roles do not let you approve grants."]
    roles.permission_require(
        StaffFactory(is_superuser=True), "donations.approve_grant", doing="approve grants"
    )
