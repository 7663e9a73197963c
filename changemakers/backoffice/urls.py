"""The back office's staff pages, mounted under /staff/: the dashboard, the CSV exports and
the program page's text."""

from django.urls import path

from . import exports, staff_views

app_name = "backoffice"

urlpatterns = [
    path("", staff_views.dashboard, name="dashboard"),
    path("exports/", exports.export_list, name="export-list"),
    path("exports/creators.csv", exports.creators_csv, name="export-creators"),
    path("exports/milestones.csv", exports.milestones_csv, name="export-milestones"),
    path("exports/grants.csv", exports.grants_csv, name="export-grants"),
    path("exports/list-entries.csv", exports.list_entries_csv, name="export-list-entries"),
    path("program/", staff_views.hub_edit, name="hub-edit"),
]
