"""The staff page for a colleague's lost second factor, under /staff/two-factor/."""

from django.urls import path

from . import views

app_name = "twofactor-staff"

urlpatterns = [
    path("", views.staff_list, name="list"),
    path("<int:user_id>/reset/", views.staff_reset, name="reset"),
]
