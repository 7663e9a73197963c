"""Nonprofits (without their payout details), funds, and grants with their timeline:
proposing, approving and cancelling one through the same services as the grant pipeline, so
the separation of duties holds (a grant the integration proposed is approved by someone else).

A nonprofit's token reads its own grants and nothing else: another nonprofit's grant is a 404."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from creators.models import Creator
from donations import selectors, services
from donations.models import Fund, Grant, Nonprofit
from donations.models.money import money_check

from .. import inputs
from ..models import Integration
from ..pagination import Oldest
from ..problems import BadInput
from ..serializers import (
    FundSerializer,
    GrantDetailSerializer,
    GrantSerializer,
    NonprofitSerializer,
)
from .base import ApiViewSet


class NonprofitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Nonprofits and where their verification stands. Filter by verification status, or a
    name, registration number or email (`q`)."""

    serializer_class = NonprofitSerializer
    read_permission = "donations.view_nonprofit"
    filter_class = inputs.NonprofitFilters
    pagination_class = Oldest

    def get_queryset(self):
        if self.action != "list":
            return Nonprofit.objects.all()
        filters = self.filters()
        nonprofits = selectors.nonprofits_for_vetting(
            status=filters.get("status", ""), search=filters.get("q", "")
        )
        return nonprofits.order_by()

    @extend_schema(parameters=[inputs.NonprofitFilters])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class FundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Funds and their budgets: total, committed, paid out, overspent and what remains."""

    serializer_class = FundSerializer
    read_permission = "donations.view_fund"
    pagination_class = Oldest
    queryset = Fund.objects.all()


class GrantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Grants, newest first, with the staff pipeline's filters: fund, cohort, the
    nonprofit's country, status (`held` for those on hold) and a search (`q`) on the
    nonprofit, the creator and the purpose. A grant's own page adds its timeline."""

    serializer_class = GrantSerializer
    read_permission = "donations.view_grant"
    nonprofit_readable = True
    filter_class = inputs.GrantFilters

    def get_serializer_class(self):
        return GrantDetailSerializer if self.action == "retrieve" else GrantSerializer

    def get_queryset(self):
        if self.token() is None:  # the schema's generator asking what the rows are
            return Grant.objects.none()
        if self.action == "list":
            filters = self.filters()
            grants = selectors.grants_filtered(
                fund=filters.get("fund"),
                cohort=filters.get("cohort"),
                country=filters.get("country", ""),
                status=filters.get("status", ""),
                search=filters.get("q", ""),
            ).order_by()
        else:
            grants = Grant.objects.with_related()
        integration = self.token().integration
        if integration.kind == Integration.Kind.NONPROFIT:
            grants = grants.filter(nonprofit_id=integration.nonprofit_id)
        return grants

    def get_object(self):
        grant = super().get_object()
        if self.action == "retrieve":
            grant.timeline = selectors.grant_timeline(grant)
        return grant

    @extend_schema(parameters=[inputs.GrantFilters])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _answer(self, grant: Grant, code: int = status.HTTP_200_OK) -> Response:
        grant = Grant.objects.with_related().get(pk=grant.pk)
        grant.timeline = selectors.grant_timeline(grant)
        return Response(GrantDetailSerializer(grant).data, status=code)

    @extend_schema(request=inputs.GrantProposeInput, responses={201: GrantDetailSerializer})
    def create(self, request):
        """Propose a grant (as the grant pipeline's form does): from a fund, to a nonprofit
        that is verified or pending review, optionally in a creator's name. Someone else
        approves it."""
        body = inputs.GrantProposeInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        fund = Fund.objects.filter(pk=data["fund"]).first()
        if fund is None:
            raise BadInput("fund", _("There is no fund with this id."))
        nonprofit = (
            Nonprofit.objects.exclude(verification_status=Nonprofit.Verification.REJECTED)
            .filter(pk=data["nonprofit"])
            .first()
        )
        if nonprofit is None:
            raise BadInput(
                "nonprofit", _("There is no verified or pending nonprofit with this id.")
            )
        creator = None
        if data.get("creator") is not None:
            creator = Creator.objects.filter(pk=data["creator"]).first()
            if creator is None:
                raise BadInput("creator", _("There is no creator with this id."))
        try:
            money_check(data["amount"], fund.currency)
        except DjangoValidationError as error:  # finer than the currency's smallest unit
            raise BadInput("amount", " ".join(error.messages)) from None
        grant = self.write(
            lambda: services.grant_propose(
                fund=fund,
                nonprofit=nonprofit,
                amount=data["amount"],
                creator=creator,
                purpose=data["purpose"],
                actor=request.user,
            ),
            what=lambda grant: f"grant {grant.pk} proposed",
        )
        return self._answer(grant, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: GrantDetailSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk):
        """Approve a proposed grant, committing its amount (or record the first of two
        approvals of a large one). Refused with a 409 to whoever proposed it."""
        grant = self.get_object()
        grant = self.write(
            lambda: services.grant_approve(grant=grant, actor=request.user),
            what=lambda grant: f"grant {grant.pk} approved ({grant.status})",
        )
        return self._answer(grant)

    @extend_schema(request=inputs.ReasonInput, responses={200: GrantDetailSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk):
        """Cancel a grant that is not being paid; a committed one gives its amount back."""
        grant = self.get_object()
        body = inputs.ReasonInput(data=request.data)
        body.is_valid(raise_exception=True)
        grant = self.write(
            lambda: services.grant_cancel(
                grant=grant, actor=request.user, reason=body.validated_data["reason"]
            ),
            what=lambda grant: f"grant {grant.pk} cancelled",
        )
        return self._answer(grant)
