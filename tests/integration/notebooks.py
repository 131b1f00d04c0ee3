"""Waiting for JupyterLab apps, for the notebook tests."""

from tests.conftest import wait_for


def running(app, timeout=120):
    def ready():
        app.refresh_from_db()
        return app.status in {"InService", "Failed"}

    wait_for(ready, timeout, f"app {app.resource_id} to start")
    assert app.status == "InService", app.failure_reason
    return app
