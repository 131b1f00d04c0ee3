"""What this machine can run; a missing capability skips its tests unless STUDIO_REQUIRE names
it (CI sets it), and then it fails them: nothing CI is meant to prove is silently skipped."""

import os
import shutil

import pytest


def required() -> set[str]:
    return {c.strip() for c in os.environ.get("STUDIO_REQUIRE", "").split(",") if c.strip()}


def need(capability: str, available: bool, why: str) -> None:
    if available:
        return
    if capability in required():
        pytest.fail(f"STUDIO_REQUIRE includes {capability}, but {why}", pytrace=False)
    pytest.skip(f"{capability} unavailable: {why}")


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")
