"""Staff pages of the outbound webhooks, mounted under /staff/webhooks/."""

from django.urls import path

from . import views

app_name = "outbound"

urlpatterns = [
    path("", views.endpoint_list, name="endpoint-list"),
    path("new/", views.endpoint_create, name="endpoint-create"),
    path("<int:pk>/", views.endpoint_detail, name="endpoint-detail"),
    path("<int:pk>/edit/", views.endpoint_edit, name="endpoint-edit"),
    path("<int:pk>/secret/", views.endpoint_secret, name="endpoint-secret"),
    path("<int:pk>/switch-off/", views.endpoint_switch_off, name="endpoint-switch-off"),
    path("<int:pk>/switch-on/", views.endpoint_switch_on, name="endpoint-switch-on"),
    path("<int:pk>/test/", views.endpoint_test, name="endpoint-test"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery-detail"),
    path("deliveries/<int:pk>/resend/", views.delivery_resend, name="delivery-resend"),
]
