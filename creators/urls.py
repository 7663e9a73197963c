from django.urls import path

from . import views

app_name = "creators"

urlpatterns = [
    path("", views.home, name="home"),
    path("list/", views.list_latest, name="list"),
    path("list/<int:year>/", views.list_year, name="list-year"),
    path("creators/<str:handle>/", views.creator_detail, name="creator-detail"),
    path("creators/<str:handle>/photo/", views.creator_photo, name="creator-photo"),
    path("portal/profile/", views.profile_edit, name="profile-edit"),
]
