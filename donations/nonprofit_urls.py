"""The nonprofit's pages and its sign-in by link, under /nonprofit/."""

from django.urls import path

from . import nonprofit_views as views

app_name = "nonprofit"

urlpatterns = [
    path("", views.grant_list, name="grant-list"),
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-in/sent/", views.sign_in_sent, name="sign-in-sent"),
    path("sign-in/<int:pk>/<str:token>/", views.link_open, name="link"),
    path("grants/<int:pk>/", views.grant_detail, name="grant-detail"),
    path(
        "grants/<int:pk>/confirm-receipt/",
        views.grant_confirm_receipt,
        name="grant-confirm-receipt",
    ),
    path("grants/<int:pk>/receipt/", views.grant_receipt, name="grant-receipt"),
    path("grants/<int:pk>/receipt/pdf/", views.grant_receipt_pdf, name="grant-receipt-pdf"),
    path("details/", views.details, name="details"),
    path("public-page/", views.public_page, name="public-page"),
    path("payouts/", views.payouts, name="payouts"),
    path("payouts/set-up/", views.payouts_setup, name="payouts-setup"),
    path("payouts/manage/", views.payouts_manage, name="payouts-manage"),
    path("password/", views.password_set, name="password"),
    path("opportunities/", views.opportunity_list, name="opportunity-list"),
    path("opportunities/<int:pk>/sign-up/", views.opportunity_signup, name="opportunity-signup"),
    path(
        "opportunities/<int:pk>/withdraw/",
        views.opportunity_withdraw,
        name="opportunity-withdraw",
    ),
]
