from django.urls import path

from . import views

app_name = "programs"

urlpatterns = [
    # Staff
    path("staff/cohorts/", views.cohort_list, name="cohort-list"),
    path("staff/cohorts/new/", views.cohort_create, name="cohort-create"),
    path("staff/cohorts/<int:pk>/", views.cohort_detail, name="cohort-detail"),
    path(
        "staff/cohorts/<int:pk>/<str:action>/",
        views.cohort_transition,
        name="cohort-transition",
    ),
    path("staff/cohorts/<int:pk>/invite/existing/", views.cohort_invite, name="cohort-invite"),
    path("staff/cohorts/<int:pk>/invite/new/", views.cohort_invite_new, name="cohort-invite-new"),
    path(
        "staff/enrolments/<int:pk>/resend-invitation/",
        views.enrolment_invitation_resend,
        name="enrolment-invitation-resend",
    ),
    path(
        "staff/enrolments/<int:pk>/<str:action>/",
        views.enrolment_transition,
        name="enrolment-transition",
    ),
    path("staff/reviews/", views.review_list, name="review-list"),
    path("staff/milestones/<int:pk>/", views.milestone_review, name="milestone-review"),
    path("staff/applications/", views.application_list, name="application-list"),
    path("staff/applications/<int:pk>/", views.application_detail, name="application-detail"),
    # Public
    path("apply/", views.apply, name="apply"),
    path("apply/thanks/", views.apply_done, name="apply-done"),
    # The creator's portal
    path("portal/", views.portal, name="portal"),
    path(
        "portal/enrolments/<int:pk>/accept/",
        views.portal_enrolment_accept,
        name="portal-enrolment-accept",
    ),
    path("portal/milestones/<int:pk>/", views.portal_milestone, name="portal-milestone"),
    path("updates/<int:pk>/attachment/", views.update_attachment, name="update-attachment"),
]
