"""Creators, the yearly list's editions and their entries (adding one as the edition page
does, through `list_entry_add`)."""

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.response import Response

from changemakers.core.roles import permission_require
from creators import services
from creators.models import ChangeMakersList, Creator, ListEntry
from creators.selectors import list_entries

from .. import inputs
from ..pagination import ByPosition, Oldest
from ..problems import BadInput
from ..serializers import CreatorSerializer, EditionSerializer, ListEntrySerializer
from .base import ApiViewSet, is_id


class CreatorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Creators in the program, oldest first. Filter by country, cause, or a name or
    @handle (`q`)."""

    serializer_class = CreatorSerializer
    read_permission = "creators.view_creator"
    filter_class = inputs.CreatorFilters
    pagination_class = Oldest

    def get_queryset(self):
        creators = Creator.objects.prefetch_related("links")
        if self.action != "list":
            return creators
        filters = self.filters()
        if "country" in filters:
            creators = creators.filter(country=filters["country"])
        if "cause" in filters:
            creators = creators.with_cause(filters["cause"])
        text = filters.get("q", "").strip().lstrip("@")
        if text:
            creators = creators.filter(Q(display_name__icontains=text) | Q(handle__icontains=text))
        return creators

    @extend_schema(parameters=[inputs.CreatorFilters])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class EditionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """The yearly Change Makers list's editions, drafts included, by year."""

    serializer_class = EditionSerializer
    read_permission = "creators.view_changemakerslist"
    filter_class = inputs.EditionFilters
    lookup_field = "year"
    pagination_class = Oldest

    def get_queryset(self):
        editions = ChangeMakersList.objects.annotate(entry_count=Count("entries"))
        if self.action == "list" and (wanted := self.filters().get("status")):
            editions = editions.filter(status=wanted)
        return editions

    @extend_schema(parameters=[inputs.EditionFilters])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


def _edition(year) -> ChangeMakersList:
    if not is_id(year) or int(year) > 9999:
        raise exceptions.NotFound(_("There is no edition for this year."))
    return get_object_or_404(ChangeMakersList, year=int(year))


YEAR = OpenApiParameter("year", int, OpenApiParameter.PATH, description="The edition's year.")


@extend_schema(parameters=[YEAR])
class ListEntryViewSet(mixins.ListModelMixin, ApiViewSet):
    """One edition's entries in their order. Filter by country, cause, or a name or @handle
    (`q`), as the public list does."""

    serializer_class = ListEntrySerializer
    read_permission = "creators.view_listentry"
    filter_class = inputs.EntryFilters
    pagination_class = ByPosition

    def get_queryset(self):
        edition = _edition(self.kwargs["year"])
        if self.action != "list":
            return ListEntry.objects.none()
        entries = list_entries(edition, **self.filters()).select_related("change_makers_list")
        return entries.order_by()  # the paginator orders by position

    @extend_schema(parameters=[inputs.EntryFilters])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=inputs.EntryAddInput, responses={201: ListEntrySerializer})
    def create(self, request, year):
        """Put a creator on a draft edition (as the edition page does)."""
        permission_require(
            request.user, "creators.add_listentry", doing=_("add entries to the list")
        )
        edition = _edition(year)
        body = inputs.EntryAddInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        creator = Creator.objects.with_handle(data["handle"]).first()
        if creator is None:
            raise BadInput("handle", _("No creator has the handle @%(handle)s.") % data)
        entry = self.write(
            lambda: services.list_entry_add(
                change_makers_list=edition,
                creator=creator,
                country=data.get("country") or None,
                cause=data.get("cause") or (creator.causes[0] if creator.causes else ""),
                citation=data["citation"],
                position=data.get("position"),
                actor=request.user,
            ),
            what=lambda entry: f"list entry {entry.pk}",
        )
        return Response(ListEntrySerializer(entry).data, status=status.HTTP_201_CREATED)
