"""Sign-in, sign-out and password reset under the standard, un-namespaced names that
LOGIN_URL and the admin refer to. A second factor, when owed, is asked right after the password
(changemakers.core.twofactor). Rate limiting is django-axes (see settings) for sign-in,
and creators.views.PasswordResetView for reset emails."""

from django.contrib.auth import views as auth_views
from django.urls import path

from changemakers.core.twofactor.middleware import second_factor_exempt

from . import views

urlpatterns = [
    # Reachable by a session that still owes its second factor: to start again, or leave.
    path("login/", second_factor_exempt(views.LoginView.as_view()), name="login"),
    path("logout/", second_factor_exempt(auth_views.LogoutView.as_view()), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "invitation/<int:pk>/<str:token>/",
        views.invitation_accept,
        name="invitation-accept",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
