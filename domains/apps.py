from django.apps import AppConfig


class DomainsConfig(AppConfig):
    name = "domains"
    verbose_name = "Domains"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from domains.buckets import owner_of
        from studio.core.storage.buckets import register_owner_lookup

        register_owner_lookup(owner_of)
