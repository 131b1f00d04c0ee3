"""Serving speed: Studio's router, the serving container called directly, and `mlflow models
serve` of the same model, in the same run; and how long an endpoint takes to create and to
cold-start.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/invoke.py [--requests 2000] [--runtime docker] [--json out.json]

For a 1-row iris LogisticRegression and a HistGradientBoosting classifier, at concurrency 1
and 32, it measures p50/p99 latency and requests per second (a) through Studio's router (POST
/endpoints/<name>/invocations on the web process, as sagemaker-runtime calls it; signed in
with a session, which the router checks as it checks a signature's cached key), (b) to the
serving container's own socket, (c) to `mlflow models serve --env-manager local` of the same
fitted model over TCP. The client is the same lean keep-alive HTTP/1.1 client for all three,
so its own cost cancels out of the comparison. mlflow comes from `MLFLOW` (a path to its
command) or PATH; without it that column is left out and says so. Then: CreateEndpoint →
InService (`--lifecycle-runs` times) and a serverless cold start (first request after the
variant scaled to zero → response). Needs built images (`make images`).
"""

import argparse
import asyncio
import io
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from harness import Platform, p50, print_table, start_web, wait

MODELS = ("logistic", "boosting")
# MLflow's own JSON shape, which Studio's server takes too: the same bytes for all three.
ROW = b'{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'


def fit(kind: str):
    from sklearn.datasets import load_iris
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    model = (
        LogisticRegression(max_iter=500) if kind == "logistic" else HistGradientBoostingClassifier()
    )
    return model.fit(x, y)


def model_archive(estimator) -> bytes:
    import tarfile

    import joblib

    dumped = io.BytesIO()
    joblib.dump(estimator, dumped)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo("model.joblib")
        info.size = len(dumped.getvalue())
        tar.addfile(info, io.BytesIO(dumped.getvalue()))
    return out.getvalue()


class Client:
    """One keep-alive HTTP/1.1 connection; `call` sends a request and reads the answer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes):
        self.reader, self.writer, self.head = reader, writer, head

    async def call(self, body: bytes) -> int:
        self.writer.write(self.head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        self.last_body = await self.reader.readexactly(length)
        return status


async def _connect(target: dict) -> Client:
    if "socket" in target:
        # The bench runs as root and the socket is the container's: a plain connect would
        # follow a link; use Studio's checked connect as the router does.
        from studio.core.unix_socket import connect_async

        sock = await connect_async(Path(target["socket"]), target["uid"])
        reader, writer = await asyncio.open_unix_connection(sock=sock)
    else:
        reader, writer = await asyncio.open_connection("127.0.0.1", target["port"])
    head = (
        f"POST {target['path']} HTTP/1.1\r\nHost: {target.get('host', 'localhost')}\r\n"
        "Content-Type: application/json\r\nAccept: application/json\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in target.get("headers", {}).items())
    ).encode()
    return Client(reader, writer, head)


async def _load(target: dict, concurrency: int, requests: int) -> dict:
    clients = [await _connect(target) for _ in range(concurrency)]

    async def warm(client: Client) -> None:
        for _ in range(20):
            assert await client.call(ROW) == 200, f"{target['label']} did not answer 200"

    # All at once: a connection left idle past the server's keep-alive timeout is closed.
    await asyncio.gather(*(warm(c) for c in clients))
    latencies: list[float] = []
    per_client = requests // concurrency

    async def run(client: Client) -> None:
        for i in range(per_client):
            start = time.perf_counter()
            try:
                status = await client.call(ROW)
            except (OSError, asyncio.IncompleteReadError) as error:
                raise SystemExit(
                    f"{target['label']} at concurrency {concurrency} closed a connection after "
                    f"{i} requests: {error!r}"
                ) from error
            latencies.append(time.perf_counter() - start)
            assert status == 200, f"{target['label']} answered {status}"

    started = time.perf_counter()
    await asyncio.gather(*(run(c) for c in clients))
    elapsed = time.perf_counter() - started
    for client in clients:
        client.writer.close()
    ordered = sorted(latencies)
    return {
        "p50_ms": p50(latencies) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000,
        "rps": len(latencies) / elapsed,
    }


def measure(target: dict, concurrency: int, requests: int) -> dict:
    return asyncio.run(_load(target, concurrency, requests))


def start_mlflow(kind: str, estimator, work: Path) -> tuple[subprocess.Popen | None, int | None]:
    command = os.environ.get("MLFLOW") or shutil.which("mlflow")
    if not command:
        return None, None
    python = Path(command).parent / "python"
    model_dir = work / f"mlflow-{kind}"
    dumped = work / f"{kind}.joblib"
    import joblib

    joblib.dump(estimator, dumped)
    # Saved by mlflow's own Python (its environment has mlflow), from the same fitted model.
    subprocess.run(
        [
            str(python),
            "-c",
            "import joblib, mlflow.sklearn, sys; "
            "mlflow.sklearn.save_model(joblib.load(sys.argv[1]), sys.argv[2], "
            "serialization_format='cloudpickle')",
            str(dumped),
            str(model_dir),
        ],
        check=True,
        capture_output=True,
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [command, "models", "serve", "-m", str(model_dir), "--env-manager", "local",
         "-h", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # mlflow starts its server (uvicorn) by name: from its own environment.
        env={**os.environ, "PATH": f"{python.parent}:{os.environ['PATH']}"},
    )  # fmt: skip

    def ping() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return conn.recv(12).endswith(b"200")
        except OSError:
            return False

    wait(ping, 120, "mlflow models serve", interval=0.2)
    return proc, port


def session_headers(platform: Platform, url: str) -> dict[str, str]:
    """A signed-in session's cookies and the same-origin headers the router wants."""
    from django.test import Client as DjangoClient

    client = DjangoClient(HTTP_HOST="localhost")
    client.force_login(platform.user)
    cookies = "; ".join(f"{k}={v.value}" for k, v in client.cookies.items())
    return {"Cookie": cookies, "Origin": url}


def deploy(platform: Platform, name: str, uri: str, variant: dict):
    from jobs.services.endpoint_configs import create_endpoint_config
    from jobs.services.endpoints import create_endpoint
    from jobs.services.hosted_models import create_model

    domain_id = platform.domain.domain_id
    create_model(
        platform.user,
        domain_id,
        {
            "ModelName": name,
            "PrimaryContainer": {"Image": "studio/sklearn:latest", "ModelDataUrl": uri},
        },
    )
    create_endpoint_config(
        platform.user,
        domain_id,
        {
            "EndpointConfigName": name,
            "ProductionVariants": [{"VariantName": "v", "ModelName": name, **variant}],
        },
    )
    started = time.perf_counter()
    endpoint = create_endpoint(
        platform.user, domain_id, {"EndpointName": name, "EndpointConfigName": name}
    )

    def ready():
        endpoint.refresh_from_db()
        assert endpoint.status != "Failed", endpoint.failure_reason
        return endpoint.status == "InService"

    wait(ready, 120, f"endpoint {name}", interval=0.01)
    return endpoint, time.perf_counter() - started


def instance_target(endpoint) -> dict:
    from jobs.hosting.paths import instance_socket

    instance = endpoint.instances.filter(status="InService").first()
    return {"socket": str(instance_socket(instance)), "uid": instance.uid, "path": "/invocations"}


def run_all(args, platform: Platform, url: str, work: Path) -> dict:
    from studio.core import storage

    port = int(url.rsplit(":", 1)[1])
    headers = session_headers(platform, url)
    results: dict = {"models": {}, "lifecycle": {}}
    for kind in MODELS:
        estimator = fit(kind)
        uri = f"s3://{storage.domain_bucket(platform.domain.domain_id)}/bench/{kind}/model.tar.gz"
        storage.artifact_store().put(uri, io.BytesIO(model_archive(estimator)))
        endpoint, _ = deploy(
            platform,
            f"bench-{kind}",
            uri,
            {"InstanceType": "ml.m5.large", "InitialInstanceCount": 1},
        )
        studio = {
            "label": "studio",
            "port": port,
            "host": f"127.0.0.1:{port}",
            "path": f"/endpoints/{endpoint.name}/invocations",
            "headers": headers,
        }
        direct = {"label": "direct", **instance_target(endpoint)}
        mlflow_proc, mlflow_port = start_mlflow(kind, estimator, work)
        mlflow = {"label": "mlflow", "port": mlflow_port, "path": "/invocations"}
        results["models"][kind] = {}
        try:
            for concurrency in (1, 32):
                row = {}
                for name, target in (("studio", studio), ("direct", direct), ("mlflow", mlflow)):
                    if name == "mlflow" and mlflow_proc is None:
                        continue
                    measured = measure(target, concurrency, args.requests)
                    row[f"{name}_p50_ms"] = measured["p50_ms"]
                    row[f"{name}_p99_ms"] = measured["p99_ms"]
                    row[f"{name}_rps"] = measured["rps"]
                results["models"][kind][f"c{concurrency}"] = row
        finally:
            if mlflow_proc is not None:
                mlflow_proc.terminate()
                mlflow_proc.wait(timeout=30)
    results["lifecycle"] = lifecycle(args, platform, port, headers)
    return results


def lifecycle(args, platform: Platform, port: int, headers: dict) -> dict:
    from jobs.hosting import scaling
    from jobs.models import Endpoint
    from jobs.services.endpoints import delete_endpoint
    from studio.core import storage

    uri = f"s3://{storage.domain_bucket(platform.domain.domain_id)}/bench/logistic/model.tar.gz"
    creates = []
    for i in range(args.lifecycle_runs):
        endpoint, seconds = deploy(
            platform, f"create-{i}", uri, {"InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
        )
        creates.append(seconds)
        delete_endpoint(platform.user, platform.domain.domain_id, endpoint.name)
    colds = []
    endpoint, _ = deploy(
        platform, "cold", uri, {"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}
    )
    target = {
        "label": "studio",
        "port": port,
        "host": f"127.0.0.1:{port}",
        "path": "/endpoints/cold/invocations",
        "headers": headers,
    }
    for _ in range(args.lifecycle_runs):
        scaling.scale_to_zero(endpoint, "v")
        scaling.converge(endpoint.pk)
        wait(lambda: not Endpoint.objects.get(pk=endpoint.pk).instances.exists(), 60, "zero")

        async def first() -> float:
            client = await _connect(target)
            started = time.perf_counter()
            status = await client.call(ROW)
            client.writer.close()
            assert status == 200, f"cold start answered {status}: {client.last_body[:300]!r}"
            return time.perf_counter() - started

        colds.append(asyncio.run(first()))
    return {"create_to_inservice_p50_s": p50(creates), "cold_start_p50_s": p50(colds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--lifecycle-runs", type=int, default=5)
    parser.add_argument("--runtime", default="docker")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    os.environ["STUDIO_RUNTIME"] = args.runtime
    work = Path(tempfile.mkdtemp(prefix="studio-bench-invoke-"))
    with Platform() as platform:
        web, url = start_web()
        try:
            results = run_all(args, platform, url, work)
        finally:
            web.terminate()
            web.wait(timeout=30)
            shutil.rmtree(work, ignore_errors=True)
    rows = []
    for kind, levels in results["models"].items():
        for level, r in levels.items():
            rows.append(
                [
                    kind,
                    level,
                    f"{r['studio_p50_ms']:.2f}",
                    f"{r['direct_p50_ms']:.2f}",
                    f"{r['studio_p50_ms'] - r['direct_p50_ms']:.2f}",
                    f"{r.get('mlflow_p50_ms', float('nan')):.2f}",
                    f"{r['studio_p99_ms']:.2f}",
                    f"{r['studio_rps']:.0f}",
                    f"{r['direct_rps']:.0f}",
                    f"{r.get('mlflow_rps', float('nan')):.0f}",
                ]
            )
    mlflow = any("mlflow_rps" in r for m in results["models"].values() for r in m.values())
    print_table(
        f"Invocations ({args.runtime}; milliseconds, requests/s; mlflow "
        f"{'measured' if mlflow else 'not found: set MLFLOW'})",
        ["model", "conc.", "studio p50", "direct p50", "router +", "mlflow p50", "studio p99",
         "studio rps", "direct rps", "mlflow rps"],
        rows,
    )  # fmt: skip
    life = results["lifecycle"]
    print(
        f"\nCreateEndpoint → InService p50: {life['create_to_inservice_p50_s']:.2f} s; "
        f"serverless cold start p50: {life['cold_start_p50_s']:.2f} s"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
