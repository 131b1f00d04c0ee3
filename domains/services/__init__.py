"""Service functions: the only code that changes tenancy state (DESIGN.md §3.1).

Each checks the actor's policy, validates, writes in a transaction and enqueues worker
tasks on commit. Views, the admin console, the API and tasks all call these.
"""

from domains.services import taggable  # noqa: F401  (registers tenancy's taggable types)
from domains.services.access_keys import (
    create_access_key,
    delete_access_key,
    list_access_keys,
    update_access_key,
)
from domains.services.apps import (
    create_app,
    delete_app,
    describe_app,
    describe_app_start_wait,
    list_apps,
)
from domains.services.domains import (
    create_domain,
    delete_domain,
    describe_domain,
    list_domains,
    update_domain,
)
from domains.services.policies import create_policy, delete_policy, update_policy
from domains.services.profiles import (
    create_user_profile,
    delete_user_profile,
    describe_user_profile,
    list_user_profiles,
    resume_user_profile,
    suspend_user_profile,
    update_user_profile,
)
from domains.services.spaces import create_space, delete_space, describe_space, list_spaces

__all__ = [
    "create_access_key",
    "create_app",
    "create_domain",
    "create_policy",
    "create_space",
    "create_user_profile",
    "delete_access_key",
    "delete_app",
    "delete_domain",
    "delete_policy",
    "delete_space",
    "delete_user_profile",
    "describe_app",
    "describe_app_start_wait",
    "describe_domain",
    "describe_space",
    "describe_user_profile",
    "list_access_keys",
    "list_apps",
    "list_domains",
    "list_spaces",
    "list_user_profiles",
    "resume_user_profile",
    "suspend_user_profile",
    "update_access_key",
    "update_domain",
    "update_policy",
    "update_user_profile",
]
