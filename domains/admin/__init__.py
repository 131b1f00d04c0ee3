"""The admin console, at /admin/: one module per resource, on a shared base (`base`).

Every change goes through the services (each resource's forms and actions sit beside its admin):
Django's own save and delete paths are replaced, so the console obeys the same policy checks,
validation and worker lifecycle as the API. Who sees what is `scope`'s job.

Domain admins who are not superusers enter the console because it makes them staff when it
gives a profile the Admin role (`accounts.grant_staff`); a user made Admin through the API
needs `is_staff` set once by a superuser. Deleting a domain is a superuser's action: it deletes
every profile first, the domain admin's own included, which would leave them unable to finish.

This package only imports its resource modules, so that Django's admin autodiscovery registers
them; jobs' pages (`jobs.admin`) build on the same base.
"""

from domains.admin import (
    access_keys,
    accounts,
    apps,
    domains,
    identity,
    instance_types,
    policies,
    profiles,
)

__all__ = [
    "access_keys",
    "accounts",
    "apps",
    "domains",
    "identity",
    "instance_types",
    "policies",
    "profiles",
]
