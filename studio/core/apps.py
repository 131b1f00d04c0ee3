from django.apps import AppConfig


class StudioConfig(AppConfig):
    """The core below the apps. Its label stays "studio": its tables and migrations predate
    the split into core and web."""

    name = "studio.core"
    label = "studio"
    verbose_name = "Studio platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from studio.core import health  # noqa: F401  (connects the worker heartbeat signals)
