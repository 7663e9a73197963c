"""The creator's side of their donation, under /portal/donation/."""

from django.urls import path

from . import portal_views

app_name = "portal-donations"

urlpatterns = [
    path("", portal_views.donation_status, name="status"),
    path("nominate/", portal_views.nominate, name="nominate"),
]
