"""Cohorts, enrolments (inviting a creator into a cohort, as the cohort page does, through
`creator_onboard`) and milestones."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from changemakers.core.roles import permission_require
from creators.models import Creator
from programs import selectors, services
from programs.clock import program_today
from programs.models import Enrolment, Milestone

from .. import inputs
from ..pagination import Oldest
from ..problems import BadInput
from ..serializers import CohortSerializer, EnrolmentSerializer, MilestoneSerializer
from .base import ApiViewSet


class CohortViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Six-month cohorts with their places taken, oldest first."""

    serializer_class = CohortSerializer
    read_permission = "programs.view_cohort"
    filter_class = inputs.CohortFilters
    pagination_class = Oldest

    def get_queryset(self):
        cohorts = selectors.cohorts_with_counts().order_by()
        if self.action == "list" and (wanted := self.filters().get("status")):
            cohorts = cohorts.filter(status=wanted)
        return cohorts

    @extend_schema(parameters=[inputs.CohortFilters])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=inputs.InvitationInput, responses={201: EnrolmentSerializer})
    @action(detail=True, methods=["post"], url_path="invitations", url_name="invite")
    def invite(self, request, pk):
        """Offer a creator a place in the cohort, an existing one or one new to the program,
        with a portal invitation by email when they have no account yet."""
        cohort = self.get_object()
        data = self._invitation(request)
        if "new_creator" in data:
            permission_require(request.user, "creators.add_creator", doing=_("add creators"))
            new = data["new_creator"]
            onboard = {**new, "causes": sorted(new["causes"]), "creator": None}
        else:
            creator = Creator.objects.filter(pk=data["creator"]).select_related("user").first()
            if creator is None:
                raise BadInput("creator", _("There is no creator with this id."))
            user = creator.user
            if not data.get("email") and (user is None or not user.has_usable_password()):
                raise BadInput(
                    "email", _("This creator has no portal account yet: give their email.")
                )
            onboard = {"creator": creator}
        enrolment = self.write(
            lambda: services.creator_onboard(
                cohort=cohort,
                email=data.get("email", ""),
                mission=data["mission"],
                note=data["note"],
                actor=request.user,
                **onboard,
            ),
            what=lambda enrolment: f"enrolment {enrolment.pk}",
        )
        enrolment = Enrolment.objects.select_related("creator").get(pk=enrolment.pk)
        return Response(EnrolmentSerializer(enrolment).data, status=status.HTTP_201_CREATED)

    def _invitation(self, request) -> dict:
        permission_require(request.user, "programs.add_enrolment", doing=_("invite creators"))
        body = inputs.InvitationInput(data=request.data)
        body.is_valid(raise_exception=True)
        return body.validated_data


class EnrolmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Creators' places in cohorts. Filter by cohort, creator and status."""

    serializer_class = EnrolmentSerializer
    read_permission = "programs.view_enrolment"
    filter_class = inputs.EnrolmentFilters
    pagination_class = Oldest

    def get_queryset(self):
        enrolments = Enrolment.objects.select_related("creator").order_by()
        if self.action == "list":
            filters = self.filters()
            for name in ("cohort", "creator"):
                if name in filters:
                    enrolments = enrolments.filter(**{f"{name}_id": filters[name]})
            if "status" in filters:
                enrolments = enrolments.filter(status=filters["status"])
        return enrolments

    @extend_schema(parameters=[inputs.EnrolmentFilters])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class MilestoneViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Milestones of every enrolment. Filter by cohort, creator, status, and whether they are
    overdue (open and past their due date, in the program's time zone)."""

    serializer_class = MilestoneSerializer
    read_permission = "programs.view_milestone"
    filter_class = inputs.MilestoneFilters
    pagination_class = Oldest

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": program_today()}

    def get_queryset(self):
        milestones = Milestone.objects.with_people().order_by()
        if self.action == "list":
            filters = self.filters()
            if "cohort" in filters:
                milestones = milestones.filter(enrolment__cohort_id=filters["cohort"])
            if "creator" in filters:
                milestones = milestones.filter(enrolment__creator_id=filters["creator"])
            if "status" in filters:
                milestones = milestones.filter(status=filters["status"])
            overdue = filters.get("overdue")
            if overdue is not None:
                late = Milestone.objects.overdue(program_today()).values("pk")
                milestones = (
                    milestones.filter(pk__in=late) if overdue else milestones.exclude(pk__in=late)
                )
        return milestones

    @extend_schema(parameters=[inputs.MilestoneFilters])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)
