"""Staff pages about nonprofits, funds, grants and payments, mounted under /staff/."""

from django.urls import path

from . import views

app_name = "donations"

urlpatterns = [
    path("grants/", views.grant_list, name="grant-list"),
    path("grants/new/", views.grant_create, name="grant-create"),
    path("grants/schedule/", views.grants_schedule, name="grants-schedule"),
    path("grants/<int:pk>/", views.grant_detail, name="grant-detail"),
    path("grants/<int:pk>/approve/", views.grant_approve, name="grant-approve"),
    path("grants/<int:pk>/schedule/", views.grant_schedule, name="grant-schedule"),
    path("grants/<int:pk>/cancel/", views.grant_cancel, name="grant-cancel"),
    path("grants/<int:pk>/retry/", views.grant_retry, name="grant-retry"),
    path("batches/", views.batch_list, name="batch-list"),
    path("batches/<int:pk>/", views.batch_detail, name="batch-detail"),
    path("funds/", views.fund_list, name="fund-list"),
    path("nonprofits/", views.nonprofit_list, name="nonprofit-list"),
    path("nonprofits/new/", views.nonprofit_create, name="nonprofit-create"),
    path("nonprofits/<int:pk>/verify/", views.nonprofit_verify, name="nonprofit-verify"),
    path("nonprofits/<int:pk>/reject/", views.nonprofit_reject, name="nonprofit-reject"),
    path("nonprofits/<int:pk>/contacts/", views.nonprofit_contacts, name="nonprofit-contacts"),
    path(
        "nonprofits/<int:pk>/contacts/<int:contact_pk>/send-link/",
        views.contact_send_link,
        name="contact-send-link",
    ),
    path(
        "nonprofits/<int:pk>/contacts/<int:contact_pk>/revoke-links/",
        views.contact_revoke_links,
        name="contact-revoke-links",
    ),
    path("payout-changes/", views.payout_change_list, name="payout-change-list"),
    path(
        "payout-changes/<int:pk>/approve/",
        views.payout_change_approve,
        name="payout-change-approve",
    ),
    path(
        "payout-changes/<int:pk>/reject/", views.payout_change_reject, name="payout-change-reject"
    ),
]
