"""Notebooks: the worker side of JupyterLab apps, and what the web side asks of them.

- `access`: who may reach a space's server, and where its socket and boot files live.
- `credentials`: the short-lived access key each server holds, and the API forwarder it runs.
- `volumes`: homes and domain volumes on the host.
- `launcher`: one server's container, started and waited for until it answers.
- `warm_pool`: servers launched ahead of a click, claimed by the next start.
- `servers`: start, stop and reconcile an app (the worker's side of CreateApp/DeleteApp).
- `culler`: stop apps idle past their IdleTimeoutInMinutes.

`domains.tasks` runs these for Celery; nothing here imports it (work is enqueued by task
name), and the services enqueue work rather than call in here.
"""
