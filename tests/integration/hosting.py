"""Models, configs and endpoints for the hosting tests, and calling an instance directly."""

import io
import tarfile
from typing import Any

from jobs.hosting import paths
from jobs.models import Endpoint, EndpointInstance
from jobs.services.endpoint_configs import create_endpoint_config
from jobs.services.endpoints import create_endpoint
from jobs.services.hosted_models import create_model
from studio.core.unix_socket import UnixHTTPConnection
from tests.conftest import wait_for
from tests.integration.conftest import put

IMAGE = "studio/sklearn:latest"
SETTLED = {"InService", "Failed"}


def iris_model(kind: str = "logistic"):
    """A model fitted here, whose predictions the tests compare with the endpoint's."""
    from sklearn.datasets import load_iris
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    estimator = (
        LogisticRegression(max_iter=500) if kind == "logistic" else HistGradientBoostingClassifier()
    )
    return estimator.fit(x, y), x


def archive(files: dict[str, bytes]) -> bytes:
    """A model.tar.gz holding `files`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def joblib_archive(estimator) -> bytes:
    import joblib

    dumped = io.BytesIO()
    joblib.dump(estimator, dumped)
    return archive({"model.joblib": dumped.getvalue()})


def store_model(uri: str, estimator) -> str:
    return put(uri, joblib_archive(estimator))


def variant(model: str, name: str = "AllTraffic", **overrides: Any) -> dict:
    spec = {
        "VariantName": name,
        "ModelName": model,
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
        "InitialVariantWeight": 1.0,
    }
    spec.update(overrides)
    return {k: v for k, v in spec.items() if v is not None}


def make_model(actor, domain_id: str, name: str, model_uri: str, **environment: str):
    container = {"Image": IMAGE, "ModelDataUrl": model_uri}
    if environment:
        container["Environment"] = environment
    return create_model(actor, domain_id, {"ModelName": name, "PrimaryContainer": container})


def make_endpoint(actor, domain_id: str, name: str, variants: list[dict], **config: Any):
    create_endpoint_config(
        actor,
        domain_id,
        {"EndpointConfigName": name, "ProductionVariants": variants, **config},
    )
    return create_endpoint(actor, domain_id, {"EndpointName": name, "EndpointConfigName": name})


def settled(endpoint: Endpoint, timeout: float = 90, statuses=SETTLED) -> Endpoint:
    def done():
        endpoint.refresh_from_db()
        return endpoint.status in statuses

    wait_for(done, timeout, f"endpoint {endpoint.name} to settle")
    return endpoint


def serving(endpoint: Endpoint) -> list[EndpointInstance]:
    """The instances the router sends traffic to now."""
    endpoint.refresh_from_db()
    return list(
        endpoint.instances.filter(generation=endpoint.generation, status="InService")
        .select_related("endpoint__domain")
        .order_by("pk")
    )


def call(instance: EndpointInstance, body: bytes, content_type: str = "text/csv") -> tuple:
    """POST /invocations to an instance's own socket: (status, body)."""
    connection = UnixHTTPConnection(paths.instance_socket(instance), timeout=30, uid=instance.uid)
    try:
        connection.request(
            "POST", "/invocations", body=body, headers={"Content-Type": content_type}
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()
