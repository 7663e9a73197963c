"""The public pages of the nonprofits the program supports, mounted at /nonprofits/."""

from django.urls import path

from . import public_views as views

app_name = "nonprofits"

urlpatterns = [
    path("", views.nonprofit_list, name="nonprofit-list"),
    path("<slug:slug>/", views.nonprofit_detail, name="nonprofit-detail"),
]
