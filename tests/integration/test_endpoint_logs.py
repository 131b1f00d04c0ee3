"""Container logs read back through the services, on the real runtimes with the real worker: an
endpoint's instances' logs on its page (escaped: a model's output is hostile), an instance
whose container is gone gives no lines, and a transform job's log is read as other jobs' are."""

import io

import joblib
import pytest
from django.urls import reverse

from domains.services import update_policy
from jobs.models import EndpointInstance
from jobs.services import job_log_tails, open_job_log
from jobs.services.endpoints import endpoint_logs
from jobs.services.transform import create_transform_job
from studio.core.errors import AccessDenied, ResourceNotFound, ValidationException
from tests.integration.conftest import put
from tests.integration.hosting import archive, iris_model, make_endpoint, make_model, settled
from tests.integration.hosting import variant as variant_spec
from tests.integration.test_transform_jobs import INPUT, ended, put_lines, request

pytestmark = pytest.mark.usefixtures("live")

MODEL_URI = "s3://research-models/iris/model.tar.gz"
HOSTILE = '<script>alert("from the model")</script>'
# A user's program that prints markup while it is imported; the model is served as usual.
PROGRAM = f"print({HOSTILE!r}, flush=True)\n"


def store_model_with_program() -> None:
    estimator, _ = iris_model()
    dumped = io.BytesIO()
    joblib.dump(estimator, dumped)
    put(MODEL_URI, archive({"model.joblib": dumped.getvalue(), "code/run.py": PROGRAM.encode()}))


@pytest.fixture
def loud_endpoint(runtime, alice, alice_profile):
    store_model_with_program()
    domain_id = alice_profile.domain.domain_id
    make_model(alice, domain_id, "loud", MODEL_URI, SAGEMAKER_PROGRAM="run.py")
    endpoint = settled(make_endpoint(alice, domain_id, "loud-ep", [variant_spec("loud")]))
    assert endpoint.status == "InService", endpoint.failure_reason
    return endpoint


def test_the_endpoint_page_shows_each_instances_log_escaped(client, alice, loud_endpoint):
    [instance] = loud_endpoint.instances.all()
    domain_id = loud_endpoint.domain.domain_id

    [(label, lines)] = endpoint_logs(alice, domain_id, "loud-ep")
    assert label == instance.label
    assert HOSTILE in lines

    client.force_login(alice)
    page = client.get(reverse("dashboard:endpoint", kwargs={"name": "loud-ep"}))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-instance-log="{instance.label}"' in html
    assert "&lt;script&gt;alert(&quot;from the model&quot;)&lt;/script&gt;" in html
    assert HOSTILE not in html


def test_an_instance_whose_container_is_gone_has_no_lines(alice, loud_endpoint):
    [instance] = loud_endpoint.instances.all()
    EndpointInstance.objects.filter(pk=instance.pk).update(container_id="studio-gone-0")

    assert endpoint_logs(alice, loud_endpoint.domain.domain_id, "loud-ep") == [(instance.label, [])]


def test_endpoint_logs_are_bounded_and_asked_as_describe_endpoint(
    root, alice, bob, bob_profile, loud_endpoint
):
    domain_id = loud_endpoint.domain.domain_id
    [(_, lines)] = endpoint_logs(alice, domain_id, "loud-ep", limit_lines=1)
    assert len(lines) == 1
    for bad in (0, 1001, "all", True):
        with pytest.raises(ValidationException) as refused:
            endpoint_logs(alice, domain_id, "loud-ep", limit_lines=bad)
        assert refused.value.field == "limit_lines"
    with pytest.raises(ValidationException, match="Could not find endpoint"):
        endpoint_logs(alice, domain_id, "no-such-ep")
    # A colleague reads it as they may describe it.
    assert HOSTILE in endpoint_logs(bob, domain_id, "loud-ep")[0][1]
    update_policy(root, domain_id, "DataScientist", deny=["sagemaker:DescribeEndpoint"])
    with pytest.raises(AccessDenied, match="sagemaker:DescribeEndpoint"):
        endpoint_logs(bob, domain_id, "loud-ep")


def test_a_transform_jobs_log_is_read_through_the_service(runtime, alice, alice_profile):
    put(MODEL_URI, archive({"model.joblib": b"this is not a pickle"}))
    make_model(alice, alice_profile.domain.domain_id, "iris", MODEL_URI)
    put_lines(f"{INPUT}rows.csv", ["5.1,3.5,1.4,0.2"])
    job = ended(create_transform_job(alice, alice_profile.domain.domain_id, request()))
    assert job.status == "Failed"

    [tail] = job_log_tails(job)
    assert tail["host"] == "algo-1" and "model" in tail["text"].lower()
    log, size = open_job_log(job, "algo-1")
    with log:
        whole = log.read(size).decode()
    assert whole.rstrip("\n").endswith(tail["text"])
    with pytest.raises(ResourceNotFound, match="Transform job xform has no host algo-2"):
        open_job_log(job, "algo-2")
