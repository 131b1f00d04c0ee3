from django.apps import AppConfig


class WebConfig(AppConfig):
    """The web layer above the apps; an app so that Django finds its `up` and `images`
    commands."""

    name = "studio.web"
    label = "web"
    verbose_name = "Studio web"
