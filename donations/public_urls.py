"""The public program page, mounted at /program/. It lives in `donations` because its totals
read grants, and apps depend one way (creators <- programs <- donations)."""

from django.urls import path

from . import public_views

app_name = "program"

urlpatterns = [
    path("", public_views.program_page, name="page"),
]
