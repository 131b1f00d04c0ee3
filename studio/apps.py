from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Studio platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from studio import health  # noqa: F401  (connects the worker heartbeat signals)
