"""What the API shows of each resource. Read-only: every change goes through a service (see
inputs.py for what a write takes). Nonprofits are shown without their payout details; grants
without their payee, keys or hold notes."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from creators.models import ChangeMakersList, Creator, ListEntry
from donations.models import Fund, Grant, Nonprofit
from donations.models.money import currency_places
from programs.models import Cohort, Enrolment, Milestone


class CountryField(serializers.Field):
    """A django-countries value as its ISO 3166 code."""

    def to_representation(self, value) -> str:
        return str(getattr(value, "code", value) or "")


CountryField = extend_schema_field(
    {"type": "string", "description": "ISO 3166-1 alpha-2 code", "example": "KE"}
)(CountryField)


class MoneyMixin:
    """Amounts with their currency's decimals (2 for USD, 0 for JPY), as decimal strings."""

    money_fields: tuple[str, ...] = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        places = currency_places(instance.currency)
        for name in self.money_fields:
            if data.get(name) is not None:
                data[name] = f"{getattr(instance, name):.{places}f}"
        return data


class CreatorRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Creator
        fields = ["id", "handle", "display_name"]


class CreatorLinkSerializer(serializers.Serializer):
    label = serializers.CharField()
    url = serializers.CharField()


class CreatorSerializer(serializers.ModelSerializer):
    country = CountryField()
    causes = serializers.ListField(child=serializers.CharField())
    links = CreatorLinkSerializer(many=True, read_only=True)
    has_portal_account = serializers.SerializerMethodField()

    class Meta:
        model = Creator
        fields = [
            "id",
            "display_name",
            "handle",
            "country",
            "causes",
            "bio",
            "follower_count",
            "links",
            "has_portal_account",
            "created_at",
            "updated_at",
        ]

    def get_has_portal_account(self, creator: Creator) -> bool:
        return creator.user_id is not None


class EditionSerializer(serializers.ModelSerializer):
    entry_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ChangeMakersList
        fields = [
            "id",
            "year",
            "title",
            "introduction",
            "status",
            "published_at",
            "entry_count",
            "created_at",
            "updated_at",
        ]


class ListEntrySerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="change_makers_list.year", read_only=True)
    creator = CreatorRefSerializer(read_only=True)
    country = CountryField()

    class Meta:
        model = ListEntry
        fields = ["id", "year", "position", "creator", "country", "cause", "citation"]


class CohortSerializer(serializers.ModelSerializer):
    seats_taken = serializers.IntegerField(read_only=True)
    active_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Cohort
        fields = [
            "id",
            "name",
            "start_date",
            "end_date",
            "capacity",
            "status",
            "description",
            "seats_taken",
            "active_count",
            "created_at",
            "updated_at",
        ]


class EnrolmentSerializer(serializers.ModelSerializer):
    creator = CreatorRefSerializer(read_only=True)

    class Meta:
        model = Enrolment
        fields = ["id", "cohort", "creator", "mission", "status", "created_at", "updated_at"]


class MilestoneSerializer(serializers.ModelSerializer):
    cohort = serializers.IntegerField(source="enrolment.cohort_id", read_only=True)
    creator = CreatorRefSerializer(source="enrolment.creator", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Milestone
        fields = [
            "id",
            "enrolment",
            "cohort",
            "creator",
            "title",
            "description",
            "due_date",
            "status",
            "overdue",
            "feedback",
            "created_at",
            "updated_at",
        ]

    def get_overdue(self, milestone: Milestone) -> bool:
        return milestone.is_overdue(self.context["today"])


class NonprofitSerializer(serializers.ModelSerializer):
    """A nonprofit without its payout details (reference, Stripe account): those stay with
    the staff who vet them."""

    country = CountryField()
    verification_expires_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Nonprofit
        fields = [
            "id",
            "legal_name",
            "registration_number",
            "country",
            "reach",
            "website",
            "contact_email",
            "verification_status",
            "verified_at",
            "verification_expires_at",
            "created_at",
            "updated_at",
        ]


class NonprofitRefSerializer(serializers.ModelSerializer):
    country = CountryField()

    class Meta:
        model = Nonprofit
        fields = ["id", "legal_name", "country"]


class FundSerializer(MoneyMixin, serializers.ModelSerializer):
    money_fields = ("total", "committed", "disbursed", "overspent", "remaining")

    remaining = serializers.DecimalField(max_digits=15, decimal_places=3, read_only=True)

    class Meta:
        model = Fund
        fields = [
            "id",
            "name",
            "currency",
            "total",
            "committed",
            "disbursed",
            "overspent",
            "remaining",
            "created_at",
            "updated_at",
        ]


class FundRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Fund
        fields = ["id", "name", "currency"]


class GrantSerializer(MoneyMixin, serializers.ModelSerializer):
    money_fields = ("amount",)

    fund = FundRefSerializer(read_only=True)
    nonprofit = NonprofitRefSerializer(read_only=True)
    creator = CreatorRefSerializer(read_only=True, allow_null=True)
    is_held = serializers.BooleanField(read_only=True)
    awaiting_second_approval = serializers.SerializerMethodField()

    class Meta:
        model = Grant
        fields = [
            "id",
            "fund",
            "nonprofit",
            "creator",
            "amount",
            "currency",
            "purpose",
            "status",
            "status_reason",
            "is_held",
            "awaiting_second_approval",
            "approved_at",
            "disbursed_at",
            "receipt_confirmed_at",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_awaiting_second_approval(self, grant: Grant) -> bool:
        return grant.status == Grant.Status.PROPOSED and grant.first_approved_by_id is not None


class TimelineStepSerializer(serializers.Serializer):
    step = serializers.CharField(source="code")
    label = serializers.CharField()
    reached_at = serializers.DateTimeField(source="date", allow_null=True)
    current = serializers.BooleanField()


class GrantDetailSerializer(GrantSerializer):
    timeline = TimelineStepSerializer(many=True, read_only=True)

    class Meta(GrantSerializer.Meta):
        fields = [*GrantSerializer.Meta.fields, "timeline"]
