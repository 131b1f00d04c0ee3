"""Starting the test identity provider in a process of its own, and driving it."""

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import ROOT, wait_for


class IdentityProvider:
    """The provider, served by uvicorn at http://127.0.0.1:`port`, its issuer under /o."""

    def __init__(self, directory: Path, port: int):
        self.url = f"http://127.0.0.1:{port}"
        self.issuer = f"{self.url}/o"
        self.port = port
        self.log = directory / "idp.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
            "IDP_DIR": str(directory),
            "IDP_ISSUER": self.issuer,
        }
        self.proc: subprocess.Popen | None = None

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "tests.oidc_provider.manage", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"idp {' '.join(args)} failed:\n{done.stderr}"
        return done.stdout.strip()

    def start(self) -> None:
        self.manage("migrate", "--verbosity", "0")
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "tests.oidc_provider.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(lambda: self._answers() or self.proc.poll() is not None, 30, "the IdP to start")
        assert self.proc.poll() is None, f"the IdP exited at start:\n{self.log.read_text()}"

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.issuer}/.well-known/openid-configuration").is_success
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)

    def user(self, username: str, *, password: str, email: str, groups: list[str]) -> str:
        """Make or update a user at the provider, with exactly `groups`; returns its subject."""
        # Values joined to their option: a generated one may start with "-".
        return self.manage(
            "idp",
            "user",
            username,
            f"--password={password}",
            f"--email={email}",
            f"--groups={','.join(groups)}",
        )

    def set_groups(self, username: str, groups: list[str]) -> None:
        self.manage("idp", "user", username, f"--groups={','.join(groups)}")

    def client(self, client_id: str, secret: str, redirect_uri: str) -> None:
        self.manage(
            "idp", "client", client_id, f"--secret={secret}", f"--redirect-uri={redirect_uri}"
        )
