"""Tenancy: domains, the user profiles in them, their policies and API access keys."""

import secrets
import string
from pathlib import Path

from django.conf import settings
from django.db import models

from metering.meters import Holder, Meter, Metered
from studio.core.events import domain_group, profile_group, resource_group
from studio.core.lifecycle import LifecycleModel

_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_domain_id() -> str:
    return "d-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


def new_file_system_id() -> str:
    return "fs-" + secrets.token_hex(8)


def new_account_id() -> str:
    """A domain's own 12-digit account id: its resources' ARNs carry it, as an AWS account's
    do, so nothing in one domain's ARNs names another's."""
    return "".join(secrets.choice(string.digits) for _ in range(12))


# The role SageMaker's ExecutionRole names when nobody set one: roles mean nothing here (policies
# replace IAM), but the SDK reads one, and jobs' RoleArn defaults to it.
DEFAULT_ROLE_NAME = "studio"


def role_arn(account_id: str | None = None, name: str = DEFAULT_ROLE_NAME) -> str:
    """An IAM role ARN in `account_id` (a domain's), else in the installation's account."""
    return f"arn:aws:iam::{account_id or settings.STUDIO_ACCOUNT_ID}:role/{name}"


def arn(resource: str, account_id: str | None = None) -> str:
    """A SageMaker ARN; `account_id` is the owning domain's, else the installation's
    (STUDIO_ACCOUNT_ID) for what belongs to no domain (images, lifecycle configs)."""
    account = account_id or settings.STUDIO_ACCOUNT_ID
    return f"arn:aws:sagemaker:{settings.STUDIO_REGION}:{account}:{resource}"


class StudioStatus(models.TextChoices):
    """Statuses shared by Domain, UserProfile and Space (SageMaker's DomainStatus)."""

    PENDING = "Pending"
    IN_SERVICE = "InService"
    UPDATING = "Updating"
    DELETING = "Deleting"
    FAILED = "Failed"
    UPDATE_FAILED = "Update_Failed"
    DELETE_FAILED = "Delete_Failed"


S = StudioStatus
STUDIO_TRANSITIONS = {
    S.PENDING: {S.IN_SERVICE, S.FAILED, S.DELETING},
    S.IN_SERVICE: {S.UPDATING, S.DELETING},
    S.UPDATING: {S.IN_SERVICE, S.UPDATE_FAILED},
    S.UPDATE_FAILED: {S.UPDATING, S.IN_SERVICE, S.DELETING},
    S.FAILED: {S.DELETING},
    S.DELETING: {S.DELETE_FAILED},
    S.DELETE_FAILED: {S.DELETING},
}


class AppNetworkAccessType(models.TextChoices):
    PUBLIC_INTERNET_ONLY = "PublicInternetOnly"
    VPC_ONLY = "VpcOnly"  # containers of this domain get no network at all


class RetentionType(models.TextChoices):
    RETAIN = "Retain"
    DELETE = "Delete"


class Domain(LifecycleModel):
    TRANSITIONS = STUDIO_TRANSITIONS
    RESOURCE_TYPE = "Domain"

    domain_id = models.CharField(max_length=63, unique=True, default=new_domain_id, editable=False)
    # Written into the ARNs of everything in the domain; like domain_id, drawn at random
    # (10^12 values) and never changed.
    account_id = models.CharField(
        max_length=12, unique=True, default=new_account_id, editable=False
    )
    name = models.CharField(max_length=63, unique=True)
    auth_mode = models.CharField(max_length=16, default="IAM", editable=False)
    app_network_access_type = models.CharField(
        max_length=32,
        choices=AppNetworkAccessType.choices,
        default=AppNetworkAccessType.PUBLIC_INTERNET_ONLY,
    )
    default_user_settings = models.JSONField(default=dict, blank=True)
    home_efs_file_system_id = models.CharField(
        max_length=32, default=new_file_system_id, editable=False
    )
    # Chosen by DeleteDomain, read by the worker that finishes the deletion.
    home_retention = models.CharField(
        max_length=8, choices=RetentionType.choices, default=RetentionType.RETAIN, editable=False
    )
    default_policies = models.ManyToManyField(
        "Policy", blank=True, related_name="default_for_domains"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def resource_id(self) -> str:
        return self.domain_id

    @property
    def arn(self) -> str:
        return arn(f"domain/{self.domain_id}", self.account_id)

    @property
    def home_volume(self) -> Path:
        """The domain's home volume: one directory holding each profile's home by uid."""
        return Path(settings.DATA_DIR) / "domains" / self.domain_id / "home"

    @property
    def execution_role(self) -> str:
        """DefaultUserSettings.ExecutionRole: the one set, else the domain's default role."""
        return (self.default_user_settings or {}).get("ExecutionRole") or role_arn(self.account_id)

    def event_groups(self) -> list[str]:
        return [domain_group(self.domain_id), resource_group("Domain", self.domain_id)]


class ProfileRole(models.TextChoices):
    MEMBER = "Member"
    ADMIN = "Admin"  # manages the domain: its profiles, policies and settings


class UserProfile(LifecycleModel):
    TRANSITIONS = STUDIO_TRANSITIONS
    RESOURCE_TYPE = "UserProfile"

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="profiles")
    name = models.CharField(max_length=63)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="studio_profiles"
    )
    role = models.CharField(max_length=8, choices=ProfileRole.choices, default=ProfileRole.MEMBER)
    user_settings = models.JSONField(default=dict, blank=True)
    # Owner of the home directory on the domain volume; never reused, so retained homes of
    # deleted profiles are never handed to someone else.
    home_uid = models.PositiveIntegerField(unique=True, null=True, editable=False)
    suspended_at = models.DateTimeField(null=True, blank=True, editable=False)
    policies = models.ManyToManyField("Policy", blank=True, related_name="profiles")

    class Meta:
        ordering = ["domain__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "name"], name="profile_name_per_domain"),
            models.UniqueConstraint(fields=["domain", "user"], name="one_profile_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.domain.name})"

    @property
    def resource_id(self) -> str:
        return f"{self.domain.domain_id}/{self.name}"

    @property
    def arn(self) -> str:
        return arn(f"user-profile/{self.domain.domain_id}/{self.name}", self.domain.account_id)

    @property
    def is_admin(self) -> bool:
        return self.role == ProfileRole.ADMIN

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def home_directory(self) -> Path:
        return self.domain.home_volume / str(self.home_uid)

    def event_groups(self) -> list[str]:
        return [
            domain_group(self.domain.domain_id),
            profile_group(self.pk),
            resource_group("UserProfile", self.resource_id),
        ]


class Policy(models.Model):
    """A named set of allowed (and explicitly denied) actions, with quotas."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="policies")
    name = models.CharField(max_length=128)
    description = models.CharField(max_length=1000, blank=True)
    allow = models.JSONField(
        default=list, blank=True, help_text="Action patterns, e.g. sagemaker:*"
    )
    deny = models.JSONField(default=list, blank=True, help_text="Explicit denials; they win.")
    max_instances_per_type = models.JSONField(
        default=dict, blank=True, help_text='e.g. {"ml.m5.large": 2}'
    )
    max_concurrent_jobs = models.PositiveIntegerField(null=True, blank=True)
    max_concurrent_apps = models.PositiveIntegerField(
        null=True, blank=True, help_text="Running JupyterLab apps at once, per profile."
    )
    max_runtime_in_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The longest StoppingCondition.MaxRuntimeInSeconds a job may ask for.",
    )
    monthly_budget_usd = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain__name", "name"]
        verbose_name_plural = "policies"
        constraints = [
            models.UniqueConstraint(fields=["domain", "name"], name="policy_name_per_domain")
        ]

    def __str__(self) -> str:
        return self.name


class AccessKeyStatus(models.TextChoices):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


class AccessKey(models.Model):
    """An API credential of one profile. The secret is stored encrypted: SigV4 needs it back."""

    profile = models.ForeignKey(UserProfile, on_delete=models.CASCADE, related_name="access_keys")
    access_key_id = models.CharField(max_length=32, unique=True)
    secret_ciphertext = models.TextField(editable=False)
    status = models.CharField(
        max_length=8, choices=AccessKeyStatus.choices, default=AccessKeyStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Set for the key a running JupyterLab app carries in its environment: issued when the
    # app starts, deleted when it stops. It is not one of the profile's two keys.
    app = models.ForeignKey(
        "App", null=True, blank=True, on_delete=models.CASCADE, related_name="session_keys"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.access_key_id


class SharingType(models.TextChoices):
    PRIVATE = "Private"
    SHARED = "Shared"


class Space(LifecycleModel):
    """Where a JupyterLab app runs and what it sees as home: a Private space is its owner's
    home directory; a Shared space has a volume of its own, open to its members."""

    TRANSITIONS = STUDIO_TRANSITIONS
    RESOURCE_TYPE = "Space"

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="spaces")
    name = models.CharField(max_length=63)
    owner = models.ForeignKey(UserProfile, on_delete=models.CASCADE, related_name="owned_spaces")
    sharing_type = models.CharField(
        max_length=8, choices=SharingType.choices, default=SharingType.PRIVATE
    )
    members = models.ManyToManyField(UserProfile, blank=True, related_name="shared_spaces")
    space_settings = models.JSONField(default=dict, blank=True)
    display_name = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["domain__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "name"], name="space_name_per_domain")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def resource_id(self) -> str:
        return f"{self.domain.domain_id}/{self.name}"

    @property
    def arn(self) -> str:
        return arn(f"space/{self.domain.domain_id}/{self.name}", self.domain.account_id)

    @property
    def home_uid(self) -> int:
        """Whose files the space's home holds: the owner's (private) or the space's own uid
        derived like a profile's, above every profile uid (shared)."""
        if self.sharing_type == SharingType.PRIVATE:
            return self.owner.home_uid
        return settings.STUDIO_HOME_UID_BASE + 100_000_000 + self.pk

    @property
    def home_volume(self) -> Path:
        if self.sharing_type == SharingType.PRIVATE:
            return self.owner.home_directory
        return self.domain.home_volume.parent / "shared" / self.name

    def event_groups(self) -> list[str]:
        return [
            domain_group(self.domain.domain_id),
            profile_group(self.owner_id),
            resource_group("Space", self.resource_id),
        ]


class AppStatus(models.TextChoices):
    PENDING = "Pending"
    IN_SERVICE = "InService"
    DELETING = "Deleting"
    DELETED = "Deleted"
    FAILED = "Failed"


A = AppStatus
APP_TRANSITIONS = {
    A.PENDING: {A.IN_SERVICE, A.FAILED, A.DELETING},
    A.IN_SERVICE: {A.DELETING, A.FAILED},
    A.DELETING: {A.DELETED, A.FAILED},
    # A stopped or failed app starts again as the same app (CreateApp on its name).
    A.DELETED: {A.PENDING},
    A.FAILED: {A.PENDING, A.DELETING},
}


# App.stopped_reason when a domain admin stopped the app (the space page says so).
STOPPED_BY_ADMIN = "admin"


class App(Metered, LifecycleModel):
    """A JupyterLab server running in a space (SageMaker's App, AppType JupyterLab)."""

    TRANSITIONS = APP_TRANSITIONS
    METER_KIND = Meter.APP
    # Starting or serving, it holds an instance of its type, on its space owner's account.
    HOLDING_STATUSES = frozenset({AppStatus.PENDING, AppStatus.IN_SERVICE})
    RESOURCE_TYPE = "App"

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="apps")
    app_type = models.CharField(max_length=32, default="JupyterLab")
    app_name = models.CharField(max_length=63, default="default")
    resource_spec = models.JSONField(default=dict, blank=True)
    # The runtime, container id, socket path and (encrypted) server token: the worker's.
    runtime_state = models.JSONField(default=dict, blank=True)
    last_user_activity_at = models.DateTimeField(null=True, blank=True)
    # Why it stopped, when Studio stopped it ("idle"), for the dashboard to say so.
    stopped_reason = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["space__name", "app_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["space", "app_type", "app_name"], name="app_name_per_space"
            )
        ]

    def __str__(self) -> str:
        return f"{self.space.name}/{self.app_name}"

    @property
    def resource_id(self) -> str:
        return f"{self.space.domain.domain_id}/{self.space.name}/{self.app_type}/{self.app_name}"

    @property
    def arn(self) -> str:
        return arn(f"app/{self.resource_id.lower()}", self.space.domain.account_id)

    def holder(self) -> Holder:
        return Holder(
            domain_id=self.space.domain.domain_id,
            user_profile=self.space.owner.name,
            instance_type=self.resource_spec.get("InstanceType", ""),
        )

    def event_groups(self) -> list[str]:
        return [
            profile_group(self.space.owner_id),
            resource_group("App", self.resource_id),
            resource_group("Space", self.space.resource_id),
        ]


class StudioLifecycleConfig(models.Model):
    """An admin's script run inside a JupyterLab container before the server starts (SageMaker's
    StudioLifecycleConfig); attached through UserSettings' JupyterLabAppSettings.

    A domain admin's belongs to their domain (its ARN carries the domain's account id, and no
    other domain sees it); a superuser's without a domain is the installation's, visible to
    every domain. Names stay unique across the installation because the notebook launcher
    finds a configuration by the name in its ARN."""

    name = models.CharField(max_length=63, unique=True)
    domain = models.ForeignKey(
        Domain,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="lifecycle_configs",
    )
    app_type = models.CharField(max_length=32, default="JupyterLab")
    content = models.TextField(help_text="The script itself (the API takes it base64-encoded).")
    created_at = models.DateTimeField(auto_now_add=True)
    last_modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def arn(self) -> str:
        return arn(
            f"studio-lifecycle-config/{self.name}", self.domain.account_id if self.domain else None
        )


class Tag(models.Model):
    """One tag of a SageMaker resource, by the resource's ARN (AddTags, ListTags, DeleteTags and
    the Tags of Create* requests). `domain` is the resource's domain, null for the installation's
    own resources (images, site-wide lifecycle configurations)."""

    domain = models.ForeignKey(
        Domain, null=True, blank=True, on_delete=models.CASCADE, related_name="tags"
    )
    resource_arn = models.CharField(max_length=256)
    key = models.CharField(max_length=128)
    value = models.CharField(max_length=256, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["resource_arn", "created_at", "key"]
        constraints = [
            models.UniqueConstraint(fields=["resource_arn", "key"], name="tag_key_per_resource")
        ]
        indexes = [models.Index(fields=["resource_arn"])]

    def __str__(self) -> str:
        return f"{self.key}={self.value} on {self.resource_arn}"


class WarmServer(models.Model):
    """A JupyterLab server started ahead of a click, for an app that is stopped: the same
    container a start would run (the space's volume, the owner's uid, its own token and key),
    so that starting the app again only hands it over (domains/notebooks/warm_pool.py)."""

    app = models.OneToOneField(App, on_delete=models.CASCADE, related_name="warm_server")
    runtime = models.CharField(max_length=16)
    container = models.CharField(max_length=128, blank=True)
    token_ciphertext = models.TextField(blank=True)
    # What the server was started with; a start that asks for something else starts afresh.
    fingerprint = models.CharField(max_length=64)
    ready = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"warm {self.app}"


class OneTimePassword(models.Model):
    """Marks an account whose password someone else chose and saw (an admin adding the user,
    `studio up` creating the first admin): its owner must replace it before using Studio, so
    that the password passed on stops working once they have signed in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="one_time_password",
    )
    issued_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"one-time password of {self.user}"


class IdentityMapping(models.Model):
    """An admin's rule for OpenID Connect sign-in (domains/identity.py): whoever signs in with
    the claim `claim` equal to `value`, or listing it (as a `groups` claim does), gets a profile
    in `domain` with `role`."""

    claim = models.CharField(max_length=128)
    value = models.CharField(max_length=256)
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="identity_mappings")
    role = models.CharField(max_length=8, choices=ProfileRole.choices, default=ProfileRole.MEMBER)

    class Meta:
        ordering = ["domain__name", "claim", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "value", "domain"], name="one_mapping_per_claim_value_domain"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim} = {self.value} → {self.role} in {self.domain.name}"


class ExternalIdentity(models.Model):
    """The identity provider account a user signs in with: the issuer and its subject (`sub`)
    name one person for good, where an email address or a username may be reused."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_identities"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "external identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="one_user_per_identity"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
