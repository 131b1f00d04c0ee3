from django.urls import path

from studio.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("switch/", views.switch_profile, name="switch"),
    path("domain/", views.domain, name="domain"),
]
