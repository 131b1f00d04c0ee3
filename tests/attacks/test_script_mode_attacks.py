"""Attacks on script-mode serving by a member holding her own key (alice, of `research`):

- a hostile `sourcedir.tar.gz` named by a model's SAGEMAKER_SUBMIT_DIRECTORY (`..` and absolute
  members, links out of the tree, a member written through a link, hard links, devices) fails
  the endpoint with the refusal's words, writes nothing outside the model's tree and starts no
  container; a link that stays inside the code still serves;
- SAGEMAKER_SUBMIT_DIRECTORY naming another domain's bucket is AccessDenied at CreateModel,
  in the same words whether or not the object exists, and nothing is made; a model row that
  names one anyway (made before today's rules) is refused again where the code is read.
"""

import io
import json
import tarfile

import pytest
from botocore.exceptions import ClientError

from jobs.hosting import instances
from jobs.models import Endpoint, Model
from tests.attacks.conftest import Canaries, Member
from tests.integration.api import sagemaker_runtime
from tests.integration.conftest import put
from tests.integration.hosting import iris_model, settled, store_model

pytestmark = pytest.mark.usefixtures("live", "instance_types")

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
MODEL_URI = "s3://research-models/attack/model.tar.gz"
HANDLERS = (
    "import json\n"
    "def input_fn(body, content_type):\n    return json.loads(body)\n"
    "def output_fn(prediction, accept):\n"
    "    return json.dumps({'served': prediction.tolist()}), 'application/json'\n"
)


def hostile_archive(entries: list[tuple[str, bytes, str]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.REGTYPE:
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload.encode()))
            else:
                info.linkname = payload
                tar.addfile(info)
    return buffer.getvalue()


def deploy(member: Member, name: str, code_uri: str) -> Endpoint:
    estimator, _ = iris_model()
    store_model(MODEL_URI, estimator)
    member.api.create_model(
        ModelName=name,
        PrimaryContainer={
            "Image": IMAGE,
            "ModelDataUrl": MODEL_URI,
            "Environment": {
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": code_uri,
            },
        },
    )
    member.api.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    member.api.create_endpoint(EndpointName=name, EndpointConfigName=name)
    return settled(Endpoint.objects.get(name=name), timeout=120)


@pytest.mark.parametrize(
    ("attack", "entries", "reason"),
    [
        ("dotdot", [("../../../../escape.py", tarfile.REGTYPE, "x")], "leaves the directory"),
        ("absolute", [("{outside}/escape.py", tarfile.REGTYPE, "x")], "leaves the directory"),
        ("symlink-out", [("etc", tarfile.SYMTYPE, "{outside}")], "points outside"),
        (
            "through-link",
            [("up", tarfile.SYMTYPE, "."), ("up/../../x.py", tarfile.REGTYPE, "x")],
            "leaves the directory",
        ),
        ("hardlink", [("key", tarfile.LNKTYPE, "{host_file}")], "hard link or special file"),
        ("device", [("mem", tarfile.CHRTYPE, "")], "hard link or special file"),
    ],
)
def test_a_hostile_sourcedir_fails_the_endpoint_and_writes_nothing_outside(
    runtime, member, canaries: Canaries, attack, entries, reason
):
    where = {"outside": str(canaries.outside), "host_file": str(canaries.host_file)}
    entries = [(n.format(**where), k, p.format(**where)) for n, k, p in entries]
    code = put(
        f"s3://research-code/{attack}/sourcedir.tar.gz",
        hostile_archive([("inference.py", tarfile.REGTYPE, HANDLERS), *entries]),
    )
    endpoint = deploy(member, f"code-{attack}", code)
    assert endpoint.status == "Failed"
    assert reason in endpoint.failure_reason, endpoint.failure_reason
    assert "sourcedir.tar.gz" in endpoint.failure_reason
    assert not endpoint.instances.exclude(container_id="").exists()
    canaries.assert_absent(endpoint.failure_reason)
    canaries.assert_nothing_outside()


def test_a_link_inside_the_code_still_serves(runtime, member, canaries, asgi_server):
    """What the SDK packs from a real project (a link within the directory) keeps working."""
    code = put(
        "s3://research-code/inner-link/sourcedir.tar.gz",
        hostile_archive(
            [
                ("lib/handlers.py", tarfile.REGTYPE, HANDLERS),
                ("inference.py", tarfile.SYMTYPE, "lib/handlers.py"),
            ]
        ),
    )
    endpoint = deploy(member, "inner-link", code)
    assert endpoint.status == "InService", endpoint.failure_reason
    client = sagemaker_runtime(asgi_server, member.key_id, member.secret)
    answer = client.invoke_endpoint(
        EndpointName="inner-link", Body="[[5.1, 3.5, 1.4, 0.2]]", ContentType="application/json"
    )
    assert json.loads(answer["Body"].read()) == {"served": [0]}
    canaries.assert_absent(answer)


def test_another_domains_bucket_as_submit_directory_is_access_denied(member, canaries):
    bucket = canaries.other_bucket_uri.split("/")[2]
    errors = []
    for uri in (canaries.other_bucket_uri, f"s3://{bucket}/private/absent/sourcedir.tar.gz"):
        with pytest.raises(ClientError) as caught:
            member.api.create_model(
                ModelName="stolen-code",
                PrimaryContainer={
                    "Image": IMAGE,
                    "ModelDataUrl": MODEL_URI,
                    "Environment": {
                        "SAGEMAKER_PROGRAM": "inference.py",
                        "SAGEMAKER_SUBMIT_DIRECTORY": uri,
                    },
                },
            )
        errors.append(caught.value.response["Error"])
    present, absent = errors
    assert present == absent
    assert present["Code"] == "AccessDeniedException"
    assert "PrimaryContainer.Environment.SAGEMAKER_SUBMIT_DIRECTORY" in present["Message"]
    canaries.assert_absent(present, absent)
    assert not Model.objects.filter(name="stolen-code").exists()


def test_a_model_naming_another_domains_code_is_refused_where_the_code_is_read(
    runtime, member, canaries, tmp_path
):
    """Checked again by the worker: a model row holding such a URI (made before the check
    existed) unpacks nothing of it."""
    estimator, _ = iris_model()
    store_model(MODEL_URI, estimator)
    member.api.create_model(
        ModelName="old",
        PrimaryContainer={
            "Image": IMAGE,
            "ModelDataUrl": MODEL_URI,
            "Environment": {"SAGEMAKER_SUBMIT_DIRECTORY": "s3://research-code/x.tar.gz"},
        },
    )
    model = Model.objects.get(name="old")
    model.containers[0]["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"] = canaries.other_bucket_uri
    with pytest.raises(instances.ModelUnavailable) as caught:
        instances.unpack_model(tmp_path / "tree", member.profile.home_uid, model)
    assert "belongs to another domain" in str(caught.value)
    assert not (tmp_path / "tree").exists()
    canaries.assert_absent(caught.value)
