from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from studio.web import accounts
from studio.web.dashboard import views as dashboard

urlpatterns = [
    path("healthz", dashboard.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", accounts.PasswordChange.as_view(), name="password_change"),
    path(
        "account/password/done/",
        accounts.PasswordChangeDone.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("", include("studio.web.dashboard.urls")),
]
