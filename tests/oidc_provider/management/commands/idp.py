"""The test's hands at the provider: `idp user NAME --password P --email E --groups a,b` makes
or updates a user and sets their groups; `idp client ID --secret S --redirect-uri URI`
registers Studio as a confidential authorization-code client signing with RS256."""

from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandParser
from oauth2_provider.models import Application


class Command(BaseCommand):
    help = "Set up users and clients of the test identity provider."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        user = sub.add_parser("user")
        user.add_argument("username")
        user.add_argument("--password")
        user.add_argument("--email", default="")
        user.add_argument("--groups", default="")
        client = sub.add_parser("client")
        client.add_argument("client_id")
        client.add_argument("--secret", required=True)
        client.add_argument("--redirect-uri", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] == "user":
            user, _ = User.objects.get_or_create(username=options["username"])
            user.email = options["email"] or user.email
            if options["password"]:
                user.set_password(options["password"])
            user.save()
            names = [g for g in options["groups"].split(",") if g]
            user.groups.set([Group.objects.get_or_create(name=name)[0] for name in names])
            self.stdout.write(str(user.pk))
        else:
            Application.objects.update_or_create(
                client_id=options["client_id"],
                defaults={
                    "name": options["client_id"],
                    "client_secret": options["secret"],
                    "client_type": Application.CLIENT_CONFIDENTIAL,
                    "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
                    "redirect_uris": options["redirect_uri"],
                    "algorithm": Application.RS256_ALGORITHM,
                    "skip_authorization": True,
                },
            )
