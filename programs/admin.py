"""Admin for cohorts, enrolments, milestones and progress updates (with their TikTok videos
and impact figures).

Statuses are read-only; cohorts start and complete, enrolments activate, complete and
withdraw, milestones are approved or sent back, all through actions that call the services.
"""

from django import forms
from django.contrib import admin
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from changemakers.core.admin import (
    BOTH_LOCATIONS,
    LanguageInputsMixin,
    ReadOnlyAdmin,
    ReadOnlyMixin,
    ServiceModelAdmin,
    TabularInline,
    TranslatedTabularInline,
    run_transitions,
    transition_with_reason,
)
from changemakers.core.content_languages import in_default_language, texts_of, translations_of

from .clock import program_today
from .models import (
    COHORT_MONTHS,
    Application,
    Cohort,
    Enrolment,
    ImpactIndicator,
    ImpactValue,
    Milestone,
    MilestonePlanItem,
    MilestoneQuerySet,
    MilestoneReminder,
    Opportunity,
    OpportunitySignup,
    ProgressUpdate,
    StaffDigest,
    StaffDigestDelivery,
    TikTokVideo,
    add_months,
)
from .services import (
    cohort_complete,
    cohort_create,
    cohort_start,
    enrolment_activate,
    enrolment_complete,
    enrolment_invite,
    enrolment_withdraw,
    milestone_add,
    milestone_approve,
    milestone_request_changes,
)

MILESTONE_TEXTS = ("title", "description")

# --- Cohorts --------------------------------------------------------------------------------


class CohortAdminForm(forms.ModelForm):
    class Meta:
        model = Cohort
        fields = ["name", "start_date", "capacity", "manager", "description"]

    def clean(self):
        cleaned = super().clean()
        # The end date is not a form field: it always follows the start date.
        if cleaned.get("start_date"):
            self.instance.end_date = add_months(cleaned["start_date"], COHORT_MONTHS)
        return cleaned


class MilestonePlanItemInline(TranslatedTabularInline):
    model = MilestonePlanItem
    extra = 0
    fields = ["title", "offset_days", "description"]


@admin.register(Cohort)
class CohortAdmin(ServiceModelAdmin):
    form = CohortAdminForm
    list_display = ["name", "start_date", "end_date", "capacity", "seats_taken", "status"]
    list_filter = ["status"]
    search_fields = ["name"]
    date_hierarchy = "start_date"
    add_fields = ["name", "start_date", "capacity", "description"]
    fields = ["name", "start_date", "end_date", "capacity", "status", "manager", "description"]
    readonly_fields = ["end_date", "status"]
    # On add the service stamps the program's default plan; it is edited on the change page.
    inlines = [MilestonePlanItemInline]
    inlines_on_add = False
    actions = ["start", "complete"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(seats_taken=Count("enrolments", filter=~Q(enrolments__status="withdrawn")))
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        # Once a cohort runs, its dates (and its creators' milestone dates) are settled.
        if obj is not None and obj.status != Cohort.Status.PLANNING:
            readonly = [*readonly, "start_date"]
        return readonly

    @admin.display(description=_("seats taken"), ordering="seats_taken")
    def seats_taken(self, obj: Cohort) -> int:
        return obj.seats_taken

    def save_formset(self, request, form, formset, change):
        # The plan's original title column holds the English one, as the services write it.
        with in_default_language():
            return super().save_formset(request, form, formset, change)

    def create_through_service(self, request, obj, form):
        return cohort_create(
            name=obj.name,
            start_date=obj.start_date,
            capacity=obj.capacity,
            description=obj.description,
            actor=request.user,
        )

    @admin.action(
        description=_("Start the selected cohorts"), permissions=["change"], location=BOTH_LOCATIONS
    )
    def start(self, request, queryset):
        run_transitions(
            self, request, queryset, lambda obj: cohort_start(cohort=obj, actor=request.user)
        )

    @admin.action(
        description=_("Complete the selected cohorts"),
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def complete(self, request, queryset):
        run_transitions(
            self, request, queryset, lambda obj: cohort_complete(cohort=obj, actor=request.user)
        )


# --- Enrolments -----------------------------------------------------------------------------


@admin.display(description=_("overdue"))
def overdue(obj: Milestone) -> str:
    # Words, not the admin's green tick: a tick would read as "all good".
    return _("Overdue") if obj.is_overdue(program_today()) else "—"


class MilestoneInline(TabularInline):
    """An enrolment's milestones: titles and dates can be adjusted, states only move through
    the milestone actions."""

    model = Milestone
    extra = 0
    fields = ["title", "due_date", "status", overdue, "feedback"]
    readonly_fields = ["status", overdue, "feedback"]
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Enrolment)
class EnrolmentAdmin(ServiceModelAdmin):
    list_display = ["creator", "cohort", "status", "created_at"]
    list_select_related = ["creator", "cohort"]
    list_filter = ["status", "cohort"]
    search_fields = ["creator__display_name", "creator__handle", "cohort__name"]
    autocomplete_fields = ["cohort", "creator"]
    add_fields = ["cohort", "creator", "mission"]
    fields = ["cohort", "creator", "mission", "status", "created_at"]
    readonly_fields = ["status", "created_at"]
    readonly_on_change = ["cohort", "creator"]
    inlines = [MilestoneInline]
    inlines_on_add = False
    actions = ["activate", "complete", "withdraw"]

    def has_delete_permission(self, request, obj=None):
        # An enrolment ends by being withdrawn, which keeps its history.
        return False

    def create_through_service(self, request, obj, form):
        return enrolment_invite(
            cohort=obj.cohort, creator=obj.creator, mission=obj.mission, actor=request.user
        )

    @admin.action(
        description=_("Activate the selected enrolments (stamps their milestones)"),
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def activate(self, request, queryset):
        run_transitions(
            self,
            request,
            queryset,
            lambda obj: enrolment_activate(enrolment=obj, actor=request.user),
        )

    @admin.action(
        description=_("Complete the selected enrolments"),
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def complete(self, request, queryset):
        run_transitions(
            self,
            request,
            queryset,
            lambda obj: enrolment_complete(enrolment=obj, actor=request.user),
        )

    @admin.action(
        description=_("Withdraw the selected enrolments…"),
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def withdraw(self, request, queryset):
        return transition_with_reason(
            self,
            request,
            queryset,
            lambda obj, reason: enrolment_withdraw(
                enrolment=obj, actor=request.user, reason=reason
            ),
            title=gettext("Withdraw enrolments"),
            intro=gettext("These creators give up their place in the cohort."),
            submit_label=gettext("Withdraw"),
            reason_label=gettext("Reason (optional)"),
            reason_required=False,
        )


# --- Milestones -----------------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        today = program_today()
        if self.value() == "yes":
            return queryset.overdue(today)
        if self.value() == "no":
            return queryset.exclude(status__in=MilestoneQuerySet.OPEN, due_date__lt=today)
        return queryset


class ProgressUpdateInline(ReadOnlyMixin, admin.StackedInline):
    model = ProgressUpdate
    extra = 0
    fields = ["created_at", "author", "body", "link"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


@admin.register(Milestone)
class MilestoneAdmin(LanguageInputsMixin, ServiceModelAdmin, TranslationAdmin):
    list_display = ["title", "creator", "cohort", "due_date", "status", overdue]
    list_select_related = ["enrolment__creator", "enrolment__cohort"]
    list_filter = ["status", OverdueFilter, "enrolment__cohort"]
    search_fields = ["title", "enrolment__creator__display_name", "enrolment__creator__handle"]
    date_hierarchy = "due_date"
    autocomplete_fields = ["enrolment"]
    fields = ["enrolment", "title", "description", "due_date", "status", "feedback"]
    readonly_fields = ["status", "feedback"]
    readonly_on_change = ["enrolment"]
    inlines = [ProgressUpdateInline]
    inlines_on_add = False
    actions = ["approve", "request_changes"]

    @admin.display(description=_("creator"), ordering="enrolment__creator__display_name")
    def creator(self, obj: Milestone):
        return obj.enrolment.creator

    @admin.display(description=_("cohort"), ordering="enrolment__cohort__start_date")
    def cohort(self, obj: Milestone):
        return obj.enrolment.cohort

    def create_through_service(self, request, obj, form):
        return milestone_add(
            enrolment=obj.enrolment,
            due_date=obj.due_date,
            **texts_of(obj, MILESTONE_TEXTS),
            translations=translations_of(obj, MILESTONE_TEXTS),
            actor=request.user,
        )

    def save_model(self, request, obj, form, change):
        # The original title column holds the English one (its uniqueness is checked there).
        with in_default_language():
            return super().save_model(request, obj, form, change)

    @admin.action(
        description=_("Approve the selected milestones"),
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def approve(self, request, queryset):
        run_transitions(
            self,
            request,
            queryset,
            lambda obj: milestone_approve(milestone=obj, actor=request.user),
        )

    @admin.action(
        description=_("Request changes to the selected milestones…"),
        permissions=["change"],
        location=BOTH_LOCATIONS,
    )
    def request_changes(self, request, queryset):
        return transition_with_reason(
            self,
            request,
            queryset,
            lambda obj, feedback: milestone_request_changes(
                milestone=obj, actor=request.user, feedback=feedback
            ),
            title=gettext("Request changes"),
            intro=gettext("The creators see this feedback and submit again."),
            submit_label=gettext("Send back for changes"),
            reason_label=gettext("What should change"),
        )


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(ReadOnlyAdmin):
    """What creators submitted; written only through the portal's service."""

    list_display = ["milestone", "creator", "author", "created_at"]
    list_select_related = ["milestone__enrolment__creator", "author"]
    search_fields = ["body", "milestone__title", "milestone__enrolment__creator__handle"]
    list_filter = ["milestone__enrolment__cohort"]
    date_hierarchy = "created_at"
    fields = ["milestone", "author", "body", "link", "attachment_download", "created_at"]

    @admin.display(description=_("creator"))
    def creator(self, obj: ProgressUpdate):
        return obj.milestone.enrolment.creator

    @admin.display(description=_("attachment"))
    def attachment_download(self, obj: ProgressUpdate):
        """Through the checked download view: nothing is served from MEDIA_URL."""
        if not obj.attachment:
            return "-"
        url = reverse("programs:update-attachment", kwargs={"pk": obj.pk})
        return format_html('<a href="{}">{}</a>', url, gettext("Download"))


# --- Applications, reminders and digests (decided and sent by the staff pages and jobs) ----


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ["display_name", "handle", "country", "cohort", "status", "created_at"]
    list_select_related = ["cohort"]
    list_filter = ["status", "cohort"]
    search_fields = ["display_name", "handle", "email"]
    date_hierarchy = "created_at"


@admin.register(MilestoneReminder)
class MilestoneReminderAdmin(ReadOnlyAdmin):
    list_display = ["milestone", "creator", "kind", "status", "claimed_at", "sent_at"]
    list_select_related = ["milestone__enrolment__creator"]
    list_filter = ["kind", "status"]
    search_fields = ["milestone__title", "milestone__enrolment__creator__handle"]

    @admin.display(description=_("creator"))
    def creator(self, obj: MilestoneReminder):
        return obj.milestone.enrolment.creator


@admin.register(StaffDigest)
class StaffDigestAdmin(ReadOnlyAdmin):
    list_display = ["week", "claimed_at", "sent_at", "recipients"]


@admin.register(StaffDigestDelivery)
class StaffDigestDeliveryAdmin(ReadOnlyAdmin):
    """Each staff address's copy of a weekly digest: sent, or still waiting for a re-run."""

    list_display = ["digest", "email", "claimed_at", "sent_at"]
    list_select_related = ["digest"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["email"]


# --- TikTok videos and impact figures (written by the portal, the staff pages and the job) --


@admin.register(TikTokVideo)
class TikTokVideoAdmin(ReadOnlyAdmin):
    """The videos of the updates and their previews; the job fetches them."""

    list_display = ["url", "status", "attempts", "next_attempt_at", "fetched_at"]
    list_filter = ["status"]
    search_fields = ["url", "title", "author_name"]
    exclude = ["thumbnail"]  # served only through its checked view, never from MEDIA_URL


@admin.register(ImpactIndicator)
class ImpactIndicatorAdmin(ReadOnlyAdmin):
    """Defined on the staff page /staff/impact/, whose service re-counts the figures when the
    way an indicator adds up changes."""

    list_display = ["name", "unit", "aggregation", "whole_numbers", "active", "position"]
    list_filter = ["aggregation", "active"]


@admin.register(ImpactValue)
class ImpactValueAdmin(ReadOnlyAdmin):
    """Reported with the updates, corrected on the milestone's review page (audited)."""

    list_display = ["indicator", "milestone", "value", "counted", "updated_at"]
    list_select_related = ["indicator", "milestone"]
    list_filter = ["indicator", "counted"]
    search_fields = ["milestone__title", "milestone__enrolment__creator__handle"]


# --- Opportunities (written, published and cancelled on /staff/opportunities/) ------------


class OpportunitySignupInline(ReadOnlyMixin, TabularInline):
    model = OpportunitySignup
    fields = ["name", "role", "organisation", "status", "attended", "created_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Opportunity)
class OpportunityAdmin(ReadOnlyAdmin):
    """Workshops, calls and events: the staff page writes, publishes and cancels them
    (audited, signed-up people told); here they are read."""

    list_display = ["title", "kind", "audience", "starts_at", "capacity", "status"]
    list_filter = ["status", "kind", "audience"]
    search_fields = ["title", "place"]
    date_hierarchy = "starts_at"
    inlines = [OpportunitySignupInline]


@admin.register(OpportunitySignup)
class OpportunitySignupAdmin(ReadOnlyAdmin):
    """Who signed up for what, as the portals and the staff page recorded it."""

    list_display = ["opportunity", "name", "role", "organisation", "status", "attended"]
    list_select_related = ["opportunity"]
    list_filter = ["status", "role", "attended"]
    search_fields = ["name", "organisation", "opportunity__title"]
