"""CreateTransformJob, DescribeTransformJob, ListTransformJobs, StopTransformJob.

What Studio's batch transform takes, beyond SageMaker's request shape: objects under an
S3Prefix (no manifests), split by line or whole, uncompressed; AssembleWith Line or None;
JoinSource Input for CSV and JSON records; InputFilter and OutputFilter in the subset of
JSONPath that jobs/transform/jsonpath.py reads."""

import copy
from typing import Any

from django.db.models import QuerySet

from domains.models import Domain
from domains.permissions import User, authorize
from domains.services.lookup import get_domain
from jobs.models import Model, TransformJob
from jobs.services.common import (
    check_instances,
    insert_job,
    list_jobs_of,
    request_stop,
    require_profile,
)
from jobs.services.images import resolve_image
from jobs.transform import jsonpath
from studio.core import storage
from studio.core.errors import ValidationException
from studio.core.runtime import runtime_name
from studio.core.shapes import validate

DEFAULT_MAX_PAYLOAD_MB = 6
DEFAULT_MAX_CONCURRENT = 1
DEFAULT_BATCH_STRATEGY = "MultiRecord"
# SageMaker's own bound: a request's payload times the requests in flight, per instance.
MAX_IN_FLIGHT_MB = 100
# Studio's: the worker sends each request from a thread of its own.
MAX_CONCURRENT = 32
# Variables the platform sets for the serving container; a request may not change them.
RESERVED_ENV_PREFIX = "STUDIO_"
# The content types whose records JoinSource Input can join: CSV lines and JSON values.
CSV_TYPES = ("text/csv", "text/x-csv", "application/csv")
JSON_TYPES = ("application/json", "application/jsonlines", "application/x-jsonlines")
SOURCE = "TransformInput.DataSource.S3DataSource"
TASK = "jobs.tasks.run_transform_job"


def media_type(value: str | None) -> str:
    """`text/csv; charset=utf-8` → `text/csv`."""
    return (value or "").partition(";")[0].strip().lower()


def _not_found() -> ValidationException:
    """SageMaker's answer for a transform job that does not exist."""
    return ValidationException("Requested resource not found.", "TransformJobName")


def find_model(domain: Domain, name: str) -> Model:
    """The domain's model `name`, or SageMaker's answer for one that does not exist."""
    model = Model.objects.filter(domain=domain, name=name).first()
    if model is None:
        arn = Model(name=name, domain=domain).arn
        raise ValidationException(f'Could not find model "{arn}".', "ModelName")
    return model


def _check_model(model: Model) -> None:
    containers = model.containers
    if len(containers) != 1:
        raise ValidationException(
            f"Model {model.name} is an inference pipeline of {len(containers)} containers; "
            "batch transform runs models of one container.",
            "ModelName",
        )
    resolve_image(containers[0]["Image"], "ModelName")


def _check_input(request: dict[str, Any]) -> None:
    source = request["TransformInput"]["DataSource"]["S3DataSource"]
    if source["S3DataType"] != "S3Prefix":
        raise ValidationException(
            f"{SOURCE}.S3DataType {source['S3DataType']} is not supported; give S3Prefix "
            "(every object under S3Uri is transformed).",
            f"{SOURCE}.S3DataType",
        )
    uri = source["S3Uri"]
    if not storage.artifact_store().exists(uri, f"{SOURCE}.S3Uri"):
        raise ValidationException(f"No data at {uri} ({SOURCE}.S3Uri).", f"{SOURCE}.S3Uri")
    transform_input = request["TransformInput"]
    if transform_input.get("CompressionType", "None") != "None":
        raise ValidationException(
            "TransformInput.CompressionType Gzip is not supported; store the input "
            "uncompressed (CompressionType None).",
            "TransformInput.CompressionType",
        )
    if transform_input.get("SplitType", "None") not in ("None", "Line"):
        raise ValidationException(
            f"TransformInput.SplitType {transform_input['SplitType']} is not supported; "
            "give Line (one record a line) or None (one record an object).",
            "TransformInput.SplitType",
        )


def _check_output(request: dict[str, Any]) -> None:
    output = request["TransformOutput"]
    storage.parse_uri(output["S3OutputPath"], "TransformOutput.S3OutputPath")
    if output.get("KmsKeyId"):
        raise ValidationException(
            "TransformOutput.KmsKeyId is not supported: Studio's store has no KMS.",
            "TransformOutput.KmsKeyId",
        )
    if request.get("DataCaptureConfig"):
        raise ValidationException(
            "DataCaptureConfig is not supported for batch transform.", "DataCaptureConfig"
        )


def _check_sizes(request: dict[str, Any]) -> None:
    payload = request.get("MaxPayloadInMB", DEFAULT_MAX_PAYLOAD_MB)
    concurrent = request.get("MaxConcurrentTransforms", DEFAULT_MAX_CONCURRENT)
    if payload < 1:
        raise ValidationException(
            "MaxPayloadInMB must be at least 1 (Studio does not stream a record).",
            "MaxPayloadInMB",
        )
    if not 1 <= concurrent <= MAX_CONCURRENT:
        raise ValidationException(
            f"MaxConcurrentTransforms must be between 1 and {MAX_CONCURRENT}.",
            "MaxConcurrentTransforms",
        )
    if payload * concurrent > MAX_IN_FLIGHT_MB:
        raise ValidationException(
            f"MaxConcurrentTransforms times MaxPayloadInMB ({concurrent} x {payload} MB) must not "
            f"exceed {MAX_IN_FLIGHT_MB} MB.",
            "MaxPayloadInMB",
        )


def filter_steps(request: dict[str, Any], member: str) -> list[jsonpath.Step]:
    """The steps of DataProcessing's `member` (InputFilter or OutputFilter); [] for none or
    '$'. ValidationException naming the member for a path Studio does not take."""
    value = request.get("DataProcessing", {}).get(member)
    field = f"DataProcessing.{member}"
    try:
        return jsonpath.parse(value) if value else []
    except jsonpath.PathError as e:
        raise ValidationException(f"{field} {value!r}: {e}.", field) from None


def _check_filter(request: dict[str, Any], member: str, record_type: str | None) -> None:
    """A filter picks from records: lines (SplitType Line), of CSV or JSON; `record_type`
    is the records' content type when known."""
    steps = filter_steps(request, member)
    if not steps:
        return
    field = f"DataProcessing.{member}"
    if request["TransformInput"].get("SplitType", "None") != "Line":
        raise ValidationException(
            f"{field} picks from records: it needs TransformInput.SplitType Line.", field
        )
    if record_type is None:
        return
    if record_type not in CSV_TYPES + JSON_TYPES:
        raise ValidationException(
            f"{field} picks from CSV or JSON records, not {record_type or 'untyped'!r} ones.",
            field,
        )
    if record_type in CSV_TYPES and jsonpath.names_fields(steps):
        raise ValidationException(
            f"{field}: a CSV record has fields by position, not by name; pick them as "
            "$[0], $[1:] or $[0,-1].",
            field,
        )


def _check_filters(request: dict[str, Any]) -> None:
    processing = request.get("DataProcessing", {})
    transform_input = request["TransformInput"]
    output = request["TransformOutput"]
    joined = processing.get("JoinSource", "None") == "Input"
    _check_filter(request, "InputFilter", media_type(transform_input.get("ContentType")))
    _check_filter(
        request,
        "OutputFilter",
        media_type(transform_input.get("ContentType"))
        if joined
        else media_type(output.get("Accept")) or None,
    )
    if filter_steps(request, "OutputFilter") and output.get("AssembleWith", "None") != "Line":
        raise ValidationException(
            "DataProcessing.OutputFilter picks from output records: it needs "
            "TransformOutput.AssembleWith Line.",
            "DataProcessing.OutputFilter",
        )
    if not joined:
        return
    split = transform_input.get("SplitType", "None")
    if split != "Line":
        raise ValidationException(
            "DataProcessing.JoinSource Input joins each input line with its prediction: it "
            "needs TransformInput.SplitType Line.",
            "DataProcessing.JoinSource",
        )
    content_type = media_type(request["TransformInput"].get("ContentType"))
    if content_type not in CSV_TYPES + JSON_TYPES:
        raise ValidationException(
            "DataProcessing.JoinSource Input needs TransformInput.ContentType text/csv, "
            f"application/json or application/jsonlines, not {content_type or 'none'!r}.",
            "TransformInput.ContentType",
        )
    if request["TransformOutput"].get("AssembleWith", "None") != "Line":
        raise ValidationException(
            "DataProcessing.JoinSource Input writes a line a record: it needs "
            "TransformOutput.AssembleWith Line.",
            "TransformOutput.AssembleWith",
        )


def _check_environment(request: dict[str, Any]) -> None:
    for key in request.get("Environment", {}):
        if key.upper().startswith(RESERVED_ENV_PREFIX):
            raise ValidationException(
                f"Environment {key!r}: variables beginning with {RESERVED_ENV_PREFIX} are "
                "the platform's.",
                "Environment",
            )


def validate_transform_request(request: dict[str, Any]) -> dict[str, Any]:
    """The request as accepted, or ValidationException naming the field and rule. What it
    leaves out of MaxPayloadInMB, MaxConcurrentTransforms and BatchStrategy the container's
    GET /execution-parameters decides when the job runs, as in SageMaker (else the
    defaults). The model is looked up separately (`find_model`)."""
    if not isinstance(request, dict):
        raise ValidationException("The request must be an object.", "CreateTransformJobRequest")
    request = copy.deepcopy(request)
    validate(request, "CreateTransformJobRequest", "")
    resources = request["TransformResources"]
    check_instances(resources["InstanceType"], resources["InstanceCount"], "TransformResources")
    _check_sizes(request)
    _check_environment(request)
    _check_input(request)
    _check_output(request)
    _check_filters(request)
    return request


def create_transform_job(actor: User, domain_id: str, request: dict[str, Any]) -> TransformJob:
    """CreateTransformJob: validated, admitted (quotas, a name free in the domain) and sent to
    the worker. The model is run as it is now: deleting it later does not stop the job."""
    domain = get_domain(actor, domain_id)
    profile = require_profile(
        authorize(actor, "sagemaker:CreateTransformJob", domain=domain), "Transform jobs"
    )
    # Before validation, which looks into the store: nothing about another domain's bucket
    # may show, not even whether a path exists.
    storage.check_request_uris(request, domain.domain_id)
    request = validate_transform_request(request)
    model = find_model(domain, request["ModelName"])
    _check_model(model)
    resources = request["TransformResources"]
    return insert_job(
        TransformJob,
        domain,
        profile,
        request,
        instance_type=resources["InstanceType"],
        count=resources["InstanceCount"],
        runtime_state={"runtime": runtime_name(), "model": model.request},
        task=TASK,
    )


def _get(actor: User, domain_id: str, name: str) -> TransformJob:
    validate(name, "TransformJobName", "TransformJobName")
    domain = get_domain(actor, domain_id)
    job = (
        TransformJob.objects.select_related("domain", "profile")
        .filter(domain=domain, name=name)
        .first()
    )
    if job is None:
        raise _not_found()
    return job


def describe_transform_job(actor: User, domain_id: str, name: str) -> TransformJob:
    job = _get(actor, domain_id, name)
    authorize(actor, "sagemaker:DescribeTransformJob", domain=job.domain, owner=job.profile)
    return job


def list_transform_jobs(actor: User, domain_id: str, **filters: Any) -> QuerySet[TransformJob]:
    """ListTransformJobs; `filters` as `list_jobs_of` takes them."""
    return list_jobs_of(TransformJob, actor, domain_id, **filters)


def stop_transform_job(actor: User, domain_id: str, name: str) -> TransformJob:
    """StopTransformJob: the job's watcher stops its containers on its next poll; what was
    written so far stays, what was not finished is not written."""
    _get(actor, domain_id, name)
    return request_stop(TransformJob, actor, domain_id, name, TASK)
