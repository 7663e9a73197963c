from django.urls import path

from .views import impact, opportunities, portal, public, staff

app_name = "programs"

urlpatterns = [
    # Staff
    path("staff/cohorts/", staff.cohort_list, name="cohort-list"),
    path("staff/cohorts/new/", staff.cohort_create, name="cohort-create"),
    path("staff/cohorts/<int:pk>/", staff.cohort_detail, name="cohort-detail"),
    path(
        "staff/cohorts/<int:pk>/creator-search/",
        staff.cohort_creator_search,
        name="cohort-creator-search",
    ),
    path(
        "staff/cohorts/<int:pk>/<str:action>/",
        staff.cohort_transition,
        name="cohort-transition",
    ),
    path("staff/cohorts/<int:pk>/invite/existing/", staff.cohort_invite, name="cohort-invite"),
    path("staff/cohorts/<int:pk>/invite/new/", staff.cohort_invite_new, name="cohort-invite-new"),
    path(
        "staff/enrolments/<int:pk>/resend-invitation/",
        staff.enrolment_invitation_resend,
        name="enrolment-invitation-resend",
    ),
    path(
        "staff/enrolments/<int:pk>/<str:action>/",
        staff.enrolment_transition,
        name="enrolment-transition",
    ),
    path("staff/reviews/", staff.review_list, name="review-list"),
    path("staff/milestones/<int:pk>/", staff.milestone_review, name="milestone-review"),
    path(
        "staff/updates/<int:pk>/highlight/",
        staff.update_highlight_review,
        name="update-highlight-review",
    ),
    path("staff/impact/", impact.indicator_list, name="indicator-list"),
    path("staff/impact/new/", impact.indicator_create, name="indicator-create"),
    path("staff/impact/<int:pk>/", impact.indicator_edit, name="indicator-edit"),
    path(
        "staff/impact-values/<int:pk>/correct/", impact.value_correct, name="impact-value-correct"
    ),
    path("staff/applications/", staff.application_list, name="application-list"),
    path("staff/applications/<int:pk>/", staff.application_detail, name="application-detail"),
    path("staff/opportunities/", opportunities.opportunity_list, name="opportunity-list"),
    path("staff/opportunities/new/", opportunities.opportunity_create, name="opportunity-create"),
    path(
        "staff/opportunities/<int:pk>/",
        opportunities.opportunity_detail,
        name="opportunity-detail",
    ),
    path(
        "staff/opportunities/<int:pk>/edit/",
        opportunities.opportunity_edit,
        name="opportunity-edit",
    ),
    path(
        "staff/opportunities/<int:pk>/publish/",
        opportunities.opportunity_publish,
        name="opportunity-publish",
    ),
    path(
        "staff/opportunities/<int:pk>/cancel/",
        opportunities.opportunity_cancel,
        name="opportunity-cancel",
    ),
    path(
        "staff/opportunities/<int:pk>/sign-ups.csv",
        opportunities.opportunity_signups_csv,
        name="opportunity-signups-csv",
    ),
    path(
        "staff/opportunity-sign-ups/<int:pk>/attendance/",
        opportunities.signup_attendance,
        name="opportunity-attendance",
    ),
    # Public
    path("apply/", public.apply, name="apply"),
    path("apply/thanks/", public.apply_done, name="apply-done"),
    # The creator's portal
    path("portal/", portal.portal, name="portal"),
    path(
        "portal/enrolments/<int:pk>/accept/",
        portal.portal_enrolment_accept,
        name="portal-enrolment-accept",
    ),
    path(
        "portal/opportunities/",
        opportunities.portal_opportunity_list,
        name="portal-opportunity-list",
    ),
    path(
        "portal/opportunities/<int:pk>/sign-up/",
        opportunities.portal_opportunity_signup,
        name="portal-opportunity-signup",
    ),
    path(
        "portal/opportunities/<int:pk>/withdraw/",
        opportunities.portal_opportunity_withdraw,
        name="portal-opportunity-withdraw",
    ),
    path("portal/milestones/<int:pk>/", portal.portal_milestone, name="portal-milestone"),
    path(
        "portal/updates/<int:pk>/highlight/",
        portal.portal_update_highlight,
        name="portal-update-highlight",
    ),
    path("updates/<int:pk>/attachment/", portal.update_attachment, name="update-attachment"),
    path("tiktok/<int:pk>/thumbnail/", portal.tiktok_thumbnail, name="tiktok-thumbnail"),
]
