"""The API, mounted under /api/v1/: the resources, the OpenAPI 3 schema (/api/v1/schema/)
and its browsable documentation (/api/v1/docs/). Anything else under /api/v1/ is a 404
problem detail."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import docs
from .views.base import not_found
from .views.creators import CreatorViewSet, EditionViewSet, ListEntryViewSet
from .views.donations import FundViewSet, GrantViewSet, NonprofitViewSet
from .views.programs import CohortViewSet, EnrolmentViewSet, MilestoneViewSet

app_name = "api"

router = SimpleRouter()
router.register("creators", CreatorViewSet, basename="creator")
router.register("lists", EditionViewSet, basename="edition")
router.register("cohorts", CohortViewSet, basename="cohort")
router.register("enrolments", EnrolmentViewSet, basename="enrolment")
router.register("milestones", MilestoneViewSet, basename="milestone")
router.register("nonprofits", NonprofitViewSet, basename="nonprofit")
router.register("funds", FundViewSet, basename="fund")
router.register("grants", GrantViewSet, basename="grant")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs.docs, name="docs"),
    path(
        "lists/<str:year>/entries/",
        ListEntryViewSet.as_view({"get": "list", "post": "create"}),
        name="edition-entries",
    ),
    *router.urls,
    re_path(r"^.*$", not_found, name="not-found"),
]
