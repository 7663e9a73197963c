"""The share images of the public pages, mounted at /share/."""

from django.urls import path

from . import share_views

app_name = "share"

urlpatterns = [
    path("program.png", share_views.program_image, name="program-image"),
    path("creators/<str:handle>.png", share_views.creator_image, name="creator-image"),
    path("nonprofits/<slug:slug>.png", share_views.nonprofit_image, name="nonprofit-image"),
]
