"""Click → JupyterLab ready through the proxy, per runtime, next to a bare `jupyter lab` start
of the same image; and what the proxy adds to an HTTP request and a websocket message.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/notebook_spawn.py --runs 10 [--json out.json]

Spawn is timed from `create_app` (what the Open JupyterLab button calls) to the first 200 of
`/jupyter/<domain>/<space>/lab` through a real web process (uvicorn, as `studio up` runs it);
warm spawn is the same for a stopped app whose warm-pool server is ready (docs/notebooks.md).
The baseline is the same image started directly (`docker run`, or `bwrap` over the same tree)
until its server answers on its socket. Proxy overhead compares a contents GET and a kernel
execute round trip made through the proxy with the same calls made on the socket directly.
"""

import argparse
import json
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from harness import Platform, bare_command, p50, p95, print_table, start_web, wait

IMAGE = "studio/jupyter:latest"
# Kernel round trips per websocket connection when measuring the proxy's websocket overhead.
WS_BLOCK = 25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--runtimes", default="docker,sandbox")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with Platform() as platform:
        web = start_web()
        try:
            results = run_all(args, platform, web[1])
        finally:
            web[0].terminate()
            web[0].wait(timeout=10)
    print_table(
        "Notebook spawn (seconds) and proxy overhead (milliseconds)",
        [
            "runtime",
            "spawn p50",
            "spawn p95",
            "bare p50",
            "spawn / bare",
            "warm spawn p50",
            "HTTP +ms p50",
            "WS +ms p50",
        ],
        [
            [
                runtime,
                f"{r['spawn_p50_s']:.2f}",
                f"{r['spawn_p95_s']:.2f}",
                f"{r['bare_p50_s']:.2f}",
                f"{r['spawn_p50_s'] / r['bare_p50_s']:.2f}x",
                f"{r['warm_spawn_p50_s']:.2f}",
                f"{r['proxy_http_overhead_p50_ms']:.2f}",
                f"{r['proxy_ws_overhead_p50_ms']:.2f}",
            ]
            for runtime, r in results.items()
        ],
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def run_all(args, platform: Platform, url: str) -> dict:
    import httpx
    from django.conf import settings
    from django.test import Client

    from domains.models import App, Space
    from domains.notebooks.access import proxy_prefix
    from domains.services import create_app, create_space, delete_app
    from studio.core.runtime import get_runtime

    client = Client()
    client.force_login(platform.user)
    session = client.cookies["sessionid"].value
    domain_id = platform.domain.domain_id
    results = {}
    for runtime in args.runtimes.split(","):
        if not get_runtime(runtime).has_image(IMAGE):
            print(f"skipping {runtime}: {IMAGE} is not built for it")
            continue
        settings.STUDIO_RUNTIME = runtime
        name = f"bench-{runtime}"
        space = create_space(platform.user, domain_id, name=name)
        wait(lambda s=space: Space.objects.get(pk=s.pk).status == "InService", 30, "space")
        lab = f"{proxy_prefix(domain_id, name)}lab"
        spawns = []
        with httpx.Client(timeout=30, trust_env=False) as browser:
            for i in range(args.runs):
                clicked = time.perf_counter()
                app = create_app(platform.user, domain_id, space_name=name)
                # As the page does: wait for the app to be InService (the page hears it over
                # its websocket; here a cheap database read), then load JupyterLab through the
                # proxy. Hammering the proxy instead would steal CPU from the starting server.
                wait(
                    lambda a=app: App.objects.filter(pk=a.pk, status="InService").exists(),
                    120,
                    f"spawn {i}",
                    0.01,
                )
                wait(lambda u=lab: open_lab(browser, url, session, u), 30, f"lab {i}", 0.01)
                spawns.append(time.perf_counter() - clicked)
                if i < args.runs - 1:
                    delete_app(platform.user, domain_id, name)
                    wait(lambda a=app: App.objects.get(pk=a.pk).status == "Deleted", 60, "stop")
            app = App.objects.select_related("space__domain").get(pk=app.pk)
            space = open_lab(browser, url, session, lab)
            http_overhead, ws_overhead = proxy_overhead(app, url, space, args.calls)
            delete_app(platform.user, domain_id, name)
            wait(lambda a=app: App.objects.get(pk=a.pk).status == "Deleted", 60, "stop")
            warm_spawns = [
                warm_spawn(platform, app, lambda u=lab: open_lab(browser, url, session, u), i)
                for i in range(args.runs)
            ]
        bare = [bare_start(runtime) for _ in range(args.runs)]
        results[runtime] = {
            "spawn_p50_s": p50(spawns),
            "spawn_p95_s": p95(spawns),
            "warm_spawn_p50_s": p50(warm_spawns),
            "warm_spawn_p95_s": p95(warm_spawns),
            "bare_p50_s": p50(bare),
            "proxy_http_overhead_p50_ms": http_overhead,
            "proxy_ws_overhead_p50_ms": ws_overhead,
        }
    return results


def open_lab(browser, url: str, session: str, lab: str) -> tuple[str, str] | None:
    """ "Open JupyterLab" as a browser follows it: Studio's host hands the session over to the
    space's own host (a ticket), which sets its space cookie and serves the lab page. The
    space's (host, cookie) once the lab page answers, else None."""
    from studio.web.proxy.handoff import COOKIE_NAME

    handed = browser.get(f"{url}{lab}", cookies={"sessionid": session})
    if handed.status_code != 302:
        return None
    enter = urlsplit(handed.headers["location"])
    entered = browser.get(f"{url}{enter.path}?{enter.query}", headers={"Host": enter.netloc})
    cookie = entered.headers.get("set-cookie", "").split(";")[0].partition("=")[2]
    headers = {"Host": enter.netloc, "Cookie": f"{COOKIE_NAME}={cookie}"}
    if entered.status_code != 302 or browser.get(f"{url}{lab}", headers=headers).status_code != 200:
        return None
    return enter.netloc, cookie


def warm_spawn(platform: Platform, app, open_it, i: int) -> float:
    """Click → JupyterLab through the proxy for a stopped app whose warm server is ready
    (STUDIO_WARM_POOL_SIZE): the start takes the server over. Stops the app again after."""
    from domains.models import App, WarmServer
    from domains.notebooks import warm_pool
    from domains.services import create_app, delete_app

    domain_id, name = platform.domain.domain_id, app.space.name
    warm_pool.refill(size=1)
    wait(lambda: WarmServer.objects.filter(app=app, ready=True).exists(), 120, f"warm {i}")
    clicked = time.perf_counter()
    create_app(platform.user, domain_id, space_name=name)
    wait(lambda: App.objects.filter(pk=app.pk, status="InService").exists(), 60, f"claim {i}", 0.01)
    wait(open_it, 30, f"warm lab {i}", 0.01)
    took = time.perf_counter() - clicked
    delete_app(platform.user, domain_id, name)
    wait(lambda: App.objects.get(pk=app.pk).status == "Deleted", 60, "stop")
    return took


def proxy_overhead(app, url: str, space: tuple[str, str], calls: int) -> tuple[float, float]:
    """Median ms the proxy adds to a contents GET and to a kernel execute round trip, made on
    the space's own host with its space cookie, as JupyterLab makes them."""
    import socket

    import httpx
    from websockets.sync.client import connect, unix_connect

    from domains.notebooks.access import SOCKET_NAME, proxy_prefix, runtime_dir
    from studio.core.crypto import decrypt
    from studio.web.proxy.handoff import COOKIE_NAME

    prefix = proxy_prefix(app.space.domain.domain_id, app.space.name)
    sock = str(runtime_dir(app.space) / SOCKET_NAME)
    token = decrypt(app.runtime_state["token"])
    auth = {"Authorization": f"token {token}"}
    direct = httpx.Client(
        transport=httpx.HTTPTransport(uds=sock),
        base_url="http://localhost",
        headers=auth,
        timeout=30,
    )
    host, cookie = space
    space_headers = {"Host": host, "Cookie": f"{COOKIE_NAME}={cookie}"}
    browser = httpx.Client(headers=space_headers, timeout=30, trust_env=False)
    via_proxy, on_socket = [], []
    for _ in range(calls):
        started = time.perf_counter()
        browser.get(f"{url}{prefix}api/contents").raise_for_status()
        via_proxy.append(time.perf_counter() - started)
        started = time.perf_counter()
        direct.get(f"{prefix}api/contents").raise_for_status()
        on_socket.append(time.perf_counter() - started)
    kernel = direct.post(f"{prefix}api/kernels", json={}).json()
    channels = f"{prefix}api/kernels/{kernel['id']}/channels"
    proxied_ws, direct_ws = [], []
    # Alternating blocks, as the HTTP calls alternate, so that the machine's load drifting
    # during the run weighs on both sides alike. One connection at a time: the kernel would
    # broadcast each one's iopub messages to the other, to be relayed during the other's turn.
    blocks = max(1, calls // (2 * WS_BLOCK))
    for _ in range(blocks):
        address = urlsplit(url)
        with connect(
            f"ws://{host}{channels}",
            sock=socket.create_connection((address.hostname, address.port), timeout=30),
            open_timeout=30,
            additional_headers={"Cookie": space_headers["Cookie"], "Origin": f"http://{host}"},
        ) as ws:
            proxied_ws += [round_trip(ws) for _ in range(WS_BLOCK)]
        with unix_connect(sock, f"ws://localhost{channels}", additional_headers=auth) as ws:
            direct_ws += [round_trip(ws) for _ in range(WS_BLOCK)]
    direct.close()
    browser.close()
    return (
        (p50(via_proxy) - p50(on_socket)) * 1000,
        (p50(proxied_ws) - p50(direct_ws)) * 1000,
    )


def round_trip(ws) -> float:
    """Execute `1` and wait for its reply on the shell channel: one message each way."""
    msg_id = uuid.uuid4().hex
    started = time.perf_counter()
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "username": "bench",
                    "session": "bench",
                    "msg_type": "execute_request",
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "channel": "shell",
                "content": {
                    "code": "1",
                    "silent": True,
                    "store_history": False,
                    "user_expressions": {},
                    "allow_stdin": False,
                },
            }
        )
    )
    while True:
        message = json.loads(ws.recv(timeout=30))
        if (
            message.get("msg_type") == "execute_reply"
            and message.get("parent_header", {}).get("msg_id") == msg_id
        ):
            return time.perf_counter() - started


def lab_answers(sock: Path, token: str) -> bool:
    from domains.notebooks.launcher import server_get

    try:
        return server_get(sock, "/bare/lab", token, 1000)[0] == 200  # bare_command runs as 1000
    except OSError:
        return False


def bare_start(runtime: str) -> float:
    """The same image's `jupyter lab` started directly until its page answers on its socket."""
    rundir = Path(tempfile.mkdtemp(prefix="bare-lab-"))
    rundir.chmod(0o777)
    token = secrets.token_urlsafe(16)
    server = [
        "jupyter",
        "lab",
        "--no-browser",
        "--ServerApp.sock=/run/studio/jupyter.sock",
        "--ServerApp.base_url=/bare/",
    ]
    name = f"bare-lab-{uuid.uuid4().hex[:8]}"
    command = bare_command(
        runtime,
        IMAGE,
        server,
        binds={str(rundir): "/run/studio"},
        env={"HOME": "/home/sagemaker-user", "JUPYTER_TOKEN": token},
        tmpfs=("/run", "/home/sagemaker-user"),
        docker_args=("-d", "--name", name),
    )
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Ready means what it means through Studio: the JupyterLab page itself answers.
    wait(lambda: lab_answers(rundir / "jupyter.sock", token), 120, "bare lab", 0.01)
    elapsed = time.perf_counter() - started
    if runtime == "docker":
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
    proc.terminate()
    proc.wait(timeout=30)
    shutil.rmtree(rundir, ignore_errors=True)
    return elapsed


if __name__ == "__main__":
    main()
