"""Staff pages for the API's integrations and tokens, mounted under /staff/integrations/."""

from django.urls import path

from . import staff_views

app_name = "integrations"

urlpatterns = [
    path("", staff_views.integration_list, name="list"),
    path("new/", staff_views.integration_create, name="create"),
    path("<int:pk>/", staff_views.integration_detail, name="detail"),
    path("<int:pk>/tokens/", staff_views.token_issue, name="token-issue"),
    path("<int:pk>/tokens/<int:token_pk>/revoke/", staff_views.token_revoke, name="token-revoke"),
]
