from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from studio.web import accounts, oidc
from studio.web.dashboard import views as dashboard

urlpatterns = [
    path("healthz", dashboard.healthz, name="healthz"),
    path("login/", oidc.LoginPage.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", accounts.PasswordChange.as_view(), name="password_change"),
    path(
        "account/password/done/",
        accounts.PasswordChangeDone.as_view(),
        name="password_change_done",
    ),
    # Single sign-on (OpenID Connect); its views answer 404 while it is not configured.
    path("oidc/", include(oidc)),
    path("presigned/", include("studio.web.presigned_login")),
    path("admin/", admin.site.urls),
    path("", include("studio.web.dashboard.urls")),
]

# Studio's own error pages (studio/web/errors.py), with the navigation for signed-in users.
handler400 = "studio.web.errors.bad_request"
handler403 = "studio.web.errors.permission_denied"
handler404 = "studio.web.errors.page_not_found"
handler500 = "studio.web.errors.server_error"
