"""The public program page (the social impact hub), mounted at /program/."""

from django.urls import path

from . import public_views

app_name = "hub"

urlpatterns = [
    path("", public_views.program_page, name="program"),
]
