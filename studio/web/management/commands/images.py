"""`studio images build-base` and `studio images build [NAME ...]` (docs/images.md)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studio.core.images import BASE_IMAGE, buildable_images, builder, debian
from studio.core.images.docker_build import docker_available
from studio.core.images.progress import Progress, StepFailed


class Command(BaseCommand):
    help = (
        "Build Studio's built-in images: `build-base` makes the air-gapped Debian base, "
        "`build [NAME ...]` builds images/NAME/ on it for Docker and the sandbox runtime."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        base = actions.add_parser(
            "build-base",
            help=f"debootstrap Debian {debian.SUITE} with Python and import it as {BASE_IMAGE}",
        )
        base.add_argument("--mirror", help="Debian mirror URL (default: the host's APT source)")
        build = actions.add_parser(
            "build", help="build images/NAME/ (default: every images/*/Dockerfile)"
        )
        build.add_argument("names", nargs="*", metavar="NAME")
        for sub in (base, build):
            sub.add_argument("--force", action="store_true", help="rebuild even if up to date")
            sub.add_argument(
                "--runtime",
                choices=("auto", "docker", "sandbox"),
                default="auto",
                help="build with Docker (and export a sandbox tree), or without it through "
                "bubblewrap; auto uses Docker when its engine answers",
            )

    def handle(self, *args: Any, **options: Any) -> None:
        # The raw stream: the live progress line rewrites itself with \r, which Django's
        # OutputWrapper would break by ending every write with a newline.
        progress = Progress(self.stdout._out)
        use_docker = self._use_docker(options["runtime"])
        progress.say(f"building with {'Docker' if use_docker else 'bubblewrap (no Docker)'}")
        started = time.monotonic()
        try:
            with builder.build_lock():
                if options["action"] == "build-base":
                    builder.build_base(
                        progress, use_docker=use_docker, force=options["force"],
                        mirror=options["mirror"],
                    )  # fmt: skip
                else:
                    for name in self._names(options["names"]):
                        builder.build_image(
                            name, progress, use_docker=use_docker, force=options["force"]
                        )
        except (StepFailed, builder.BuildError, debian.MirrorNotFound) as error:
            raise CommandError(str(error)) from error
        progress.say(f"finished in {time.monotonic() - started:.1f}s")

    def _use_docker(self, runtime: str) -> bool:
        if runtime == "sandbox":
            return False
        available = docker_available()
        if runtime == "docker" and not available:
            raise CommandError("--runtime docker, but no Docker engine answers (docker info)")
        return available

    def _names(self, names: list[str]) -> list[str]:
        known = buildable_images()
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise CommandError(
                f"no such image: {', '.join(unknown)} (known: {', '.join(known) or 'none'})"
            )
        return names or known
