from django.urls import path

from . import staff_views, views

app_name = "creators"

urlpatterns = [
    path("", views.home, name="home"),
    path("list/", views.list_latest, name="list"),
    path("list/<int:year>/", views.list_year, name="list-year"),
    # The profile itself ("creator-detail") tells the creator's impact story, from programs
    # and donations too: it is composed above the apps (changemakers/backoffice/creator_urls.py
    # adds it to this namespace).
    path("creators/<str:handle>/photo/", views.creator_photo, name="creator-photo"),
    path("portal/profile/", views.profile_edit, name="profile-edit"),
    path("portal/consent/", views.consent_edit, name="consent-edit"),
    path("portal/consent/withdraw/", views.consent_withdraw, name="consent-withdraw"),
    # Staff: the yearly list editions.
    path("staff/lists/", staff_views.edition_list, name="edition-list"),
    path("staff/lists/new/", staff_views.edition_create, name="edition-create"),
    path(
        "staff/lists/import-template.csv",
        staff_views.import_template,
        name="edition-import-template",
    ),
    path("staff/lists/<int:year>/", staff_views.edition_detail, name="edition-detail"),
    path("staff/lists/<int:year>/edit/", staff_views.edition_edit, name="edition-edit"),
    path("staff/lists/<int:year>/entries/", staff_views.entry_add, name="edition-entry-add"),
    path(
        "staff/lists/<int:year>/creator-search/",
        staff_views.edition_creator_search,
        name="edition-creator-search",
    ),
    path(
        "staff/lists/<int:year>/entries/<int:pk>/",
        staff_views.entry_edit,
        name="edition-entry-edit",
    ),
    path(
        "staff/lists/<int:year>/entries/<int:pk>/remove/",
        staff_views.entry_remove,
        name="edition-entry-remove",
    ),
    path(
        "staff/lists/<int:year>/entries/<int:pk>/move/<str:direction>/",
        staff_views.entry_move,
        name="edition-entry-move",
    ),
    path("staff/lists/<int:year>/import/", staff_views.edition_import, name="edition-import"),
    path("staff/lists/<int:year>/preview/", staff_views.edition_preview, name="edition-preview"),
    path("staff/lists/<int:year>/publish/", staff_views.edition_publish, name="edition-publish"),
    path(
        "staff/lists/<int:year>/consent-reminders/",
        staff_views.edition_consent_remind,
        name="edition-consent-remind",
    ),
    path(
        "staff/lists/<int:year>/unpublish/",
        staff_views.edition_unpublish,
        name="edition-unpublish",
    ),
]
