"""Loaded as a pytest plugin (`-p tests.env`) so it runs before Django reads its settings.

Each test process (each xdist worker) gets its own data directory, Celery queue and Redis
prefix: parallel runs share PostgreSQL and Redis without seeing each other's work.
"""

import os
import tempfile
from pathlib import Path

_worker_id = os.environ.get("PYTEST_XDIST_WORKER", "main")
_tag = f"studio-test-{_worker_id}-{os.getpid()}"
os.environ["STUDIO_DATA_DIR"] = tempfile.mkdtemp(prefix=f"{_tag}-")
# Images are built once (`make images`, into the checkout's ./var) and shared by test runs.
os.environ.setdefault(
    "STUDIO_IMAGES_DIR", str(Path(__file__).resolve().parent.parent / "var" / "images")
)
os.environ["STUDIO_CELERY_QUEUE"] = _tag
os.environ["STUDIO_REDIS_PREFIX"] = _tag
# Separate pytest runs on one machine must not share (and drop) each other's test database.
os.environ["DATABASE_TEST_NAME"] = _tag.replace("-", "_")
# A secret only the platform's own processes hold (the worker and web servers the tests start
# inherit it): attack tests assert it never reaches a tenant (tests/attacks/).
os.environ.setdefault("STUDIO_TEST_CANARY", f"canary-env-{os.urandom(12).hex()}")
