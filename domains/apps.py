from django.apps import AppConfig


class DomainsConfig(AppConfig):
    name = "domains"
    verbose_name = "Domains"
    default_auto_field = "django.db.models.BigAutoField"
