"""`python manage.py createaccesskey --domain D --user U [--create]`: an access key for a
user profile, printed as environment variables, for scripts and a first setup
(docs/sts-and-logs.md)."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from domains.admin.accounts import attach_or_create_user
from domains.models import Domain, StudioStatus, UserProfile
from domains.services import create_access_key, create_domain, create_user_profile
from domains.tasks import provision_domain, provision_user_profile
from studio.core.errors import StudioError


def operator() -> AbstractBaseUser:
    """Who the command acts as: the installation's operator, a superuser. Never saved, so no
    one can sign in as it; its id, 0, is no account's, so it holds no profile."""
    return get_user_model()(
        pk=0, username="manage.py createaccesskey", is_superuser=True, is_active=True
    )


class Command(BaseCommand):
    help = (
        "Issue an access key for user profile U of domain D (by id or name) and print "
        "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION lines (and "
        "AWS_ENDPOINT_URL with --endpoint-url), ready for `export` or an .env file; what it "
        "did is said on standard error. With --create, the domain, the user account U and "
        "the profile are created first if missing, and provisioned before the key is printed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--domain", required=True, help="domain id (d-...) or name")
        parser.add_argument(
            "--user",
            required=True,
            help="user profile name (and, with --create, the username of its account)",
        )
        parser.add_argument(
            "--create",
            action="store_true",
            help="create the domain, the user account and the profile if they do not exist",
        )
        parser.add_argument(
            "--endpoint-url",
            help="Studio's address as clients reach it (e.g. http://studio.example:8000), "
            "printed as AWS_ENDPOINT_URL",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = operator()
        try:
            domain = self._domain(actor, options["domain"], options["create"])
            profile = self._profile(actor, domain, options["user"], options["create"])
            key, secret = create_access_key(actor, domain.domain_id, profile.name)
        except StudioError as error:
            raise CommandError(error.message) from None
        self.stderr.write(
            f"Issued access key {key.access_key_id} for user profile {profile.name} in domain "
            f"{domain.name} ({domain.domain_id}); its secret is shown only now."
        )
        self.stdout.write(f"AWS_ACCESS_KEY_ID={key.access_key_id}")
        self.stdout.write(f"AWS_SECRET_ACCESS_KEY={secret}")
        self.stdout.write(f"AWS_DEFAULT_REGION={settings.STUDIO_REGION}")
        if options["endpoint_url"]:
            self.stdout.write(f"AWS_ENDPOINT_URL={options['endpoint_url']}")

    def _domain(self, actor: AbstractBaseUser, wanted: str, create: bool) -> Domain:
        domain = Domain.objects.filter(Q(domain_id=wanted) | Q(name=wanted)).first()
        if domain is None:
            if not create:
                raise CommandError(
                    f"No domain has the id or name {wanted!r}; pass --create to create it."
                )
            domain = create_domain(actor, name=wanted)
            self.stderr.write(f"Created domain {domain.name} ({domain.domain_id}).")
        if domain.status == StudioStatus.PENDING:
            # The worker may be busy or not running: provisioning is idempotent, so it is done
            # here (a worker's run of the same task then finds nothing left to do).
            provision_domain(domain.pk)
            domain.refresh_from_db()
        self._check_ready("Domain", domain.name, domain.status, domain.failure_reason)
        return domain

    def _profile(
        self, actor: AbstractBaseUser, domain: Domain, name: str, create: bool
    ) -> UserProfile:
        profile = domain.profiles.filter(name=name).first()
        if profile is None:
            if not create:
                raise CommandError(
                    f"Domain {domain.name} has no user profile {name!r}; pass --create to "
                    "create it (and a user account of that name, if there is none)."
                )
            user, password = attach_or_create_user(name)
            if password is not None:
                self.stderr.write(
                    f"Created user account {name} with the one-time password {password} "
                    "(it must be changed at the first sign-in)."
                )
            profile = create_user_profile(actor, domain.domain_id, name=name, user=user)
            self.stderr.write(f"Created user profile {name} in domain {domain.name}.")
        if profile.status == StudioStatus.PENDING:
            provision_user_profile(profile.pk)
            profile.refresh_from_db()
        self._check_ready("User profile", name, profile.status, profile.failure_reason)
        return profile

    @staticmethod
    def _check_ready(kind: str, name: str, status: str, reason: str) -> None:
        if status != StudioStatus.IN_SERVICE:
            because = f": {reason}" if reason else ""
            raise CommandError(f"{kind} {name} is {status}, not InService{because}.")
