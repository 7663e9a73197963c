"""The back office's staff pages, mounted under /staff/: the dashboard, the CSV exports and
the program page's text."""

from django.urls import path

from . import exports, privacy_views, staff_views

app_name = "backoffice"

urlpatterns = [
    path("", staff_views.dashboard, name="dashboard"),
    path("exports/", exports.export_list, name="export-list"),
    path("exports/creators.csv", exports.creators_csv, name="export-creators"),
    path("exports/milestones.csv", exports.milestones_csv, name="export-milestones"),
    path("exports/grants.csv", exports.grants_csv, name="export-grants"),
    path("exports/list-entries.csv", exports.list_entries_csv, name="export-list-entries"),
    path("program/", staff_views.hub_edit, name="hub-edit"),
    path("personal-data/", privacy_views.data_request_list, name="personal-data"),
    path(
        "personal-data/<int:pk>/approve/",
        privacy_views.data_request_approve,
        name="personal-data-approve",
    ),
    path(
        "personal-data/<int:pk>/reject/",
        privacy_views.data_request_reject,
        name="personal-data-reject",
    ),
    path(
        "personal-data/<int:pk>/download/",
        privacy_views.data_export_download,
        name="personal-data-download",
    ),
]
