"""The forms that start jobs: what a person fills in, turned into a CreateTrainingJob or a
CreateProcessingJob request and the script uploaded with it. The service validates the
request and stores the script; its ValidationException is shown next to the field it names."""

import re
from pathlib import Path
from typing import Any, ClassVar

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator
from django.utils import timezone

from domains.models import Domain
from jobs import builtin_algorithms
from jobs.models import Dataset
from jobs.services.processing import CODE_DIR, processing_output_uri, s3_input
from jobs.services.training import default_output_path
from metering.catalog import InstanceType
from studio.core.errors import ResourceInUse, StudioError, ValidationException

SCRIPT_IMAGE = builtin_algorithms.BUILTIN_IMAGE
MAX_SCRIPT_BYTES = 1 * 2**20
# The script's name becomes a key in the store and a file in /opt/ml/code: a plain file name.
SCRIPT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,250}\.py")
# SageMaker's own limit on a job's MetricDefinitions.
MAX_METRIC_DEFINITIONS = 40

# Where a request path the service names is shown on the form: first matching prefix wins.
FIELD_OF_PATH = [
    ("TrainingJobName", "name"),
    ("HyperParameters", "hyperparameters"),
    ("AlgorithmSpecification.MetricDefinitions", "metric_definitions"),
    ("AlgorithmSpecification", "algorithm"),
    ("InputDataConfig[0]", "dataset"),
    ("InputDataConfig[1]", "validation_dataset"),
    ("ResourceConfig.InstanceType", "instance_type"),
    ("ResourceConfig.InstanceCount", "instance_count"),
    ("StoppingCondition", "max_runtime"),
    ("OutputDataConfig", "output_path"),
]


def parse_pairs(text: str, what: str) -> dict[str, str]:
    """`key=value` lines (blank lines and `#` comments skipped) as a dict, in order."""
    pairs: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise forms.ValidationError(f"Line {number}: expected {what}, got {line!r}.")
        if key in pairs:
            raise forms.ValidationError(f"Line {number}: {key!r} is given twice.")
        pairs[key] = value
    return pairs


def field_for(path: str | None, fields: list[tuple[str, str]]) -> str | None:
    """The form field that shows an error about request path `path` (None: the whole form)."""
    for prefix, field in fields:
        if path and path.startswith(prefix):
            return field
    return None


def instance_type_choices() -> list[tuple[str, str]]:
    return [
        (
            t.name,
            f"{t.name} · {t.vcpus} vCPU, {float(t.memory_gib):g} GiB"
            f"{f', {t.gpus} GPU' if t.gpus else ''} · ${float(t.price_per_hour):g}/h",
        )
        for t in InstanceType.objects.filter(enabled=True)
    ]


def dataset_choices(datasets: list[Dataset]) -> list[tuple[str, str]]:
    return [("", "— none: use the URI below —")] + [
        (d.name, f"{d.name} · {d.row_count:,} rows{' · header row' if d.has_header else ''}")
        for d in datasets
    ]


def _clean_script(script: UploadedFile | None, example: str) -> UploadedFile | None:
    if script is None:
        return None
    if not SCRIPT_NAME.fullmatch(script.name):
        raise forms.ValidationError(f"Upload a Python script (a .py file), such as {example}.")
    if script.size > MAX_SCRIPT_BYTES:
        raise forms.ValidationError(
            f"The script is {script.size:,} bytes; the limit is {MAX_SCRIPT_BYTES:,}."
        )
    return script


class JobForm(forms.Form):
    """What both job forms ask alike: the job's name, its input as one of the domain's datasets
    or as a URI (a subclass declares `dataset_name` and `dataset`, labelled for its kind), the
    instance type from the catalog, and the longest it may run."""

    # The default name is `<name_prefix>-<date>-<time>`.
    name_prefix: ClassVar[str]
    # The URI field's label when there is no dataset to choose instead.
    uri_label: ClassVar[str]
    # Where an error about a request path is shown: first matching prefix wins.
    field_of_path: ClassVar[list[tuple[str, str]]]

    name = forms.CharField(
        label="Job name",
        max_length=63,
        help_text="Letters, digits and hyphens; unique across Studio.",
    )
    instance_type = forms.ChoiceField(label="Instance type")
    max_runtime = forms.IntegerField(label="Max runtime (seconds)", min_value=1, initial=3600)

    def __init__(self, *args: Any, domain: Domain, datasets: list[Dataset], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.domain = domain
        self.datasets = {d.name: d for d in datasets}
        self.fields["dataset_name"].choices = dataset_choices(datasets)
        if not datasets:
            self.fields["dataset"].label = self.uri_label
            self.fields["dataset"].required = True
        self.fields["instance_type"].choices = instance_type_choices()
        self.fields["name"].initial = timezone.now().strftime(f"{self.name_prefix}-%Y%m%d-%H%M%S")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen, uri = data.get("dataset_name"), data.get("dataset")
        if "dataset" in self.errors:
            pass  # already told (required when there are no datasets to choose from)
        elif bool(chosen) == bool(uri):
            self.add_error("dataset", "Choose a dataset or give an s3:// URI (one).")
        elif chosen:
            data["dataset"] = self.datasets[chosen].s3_uri
        return data

    def code(self) -> UploadedFile | None:
        """The script uploaded with the request, for the service to store."""
        return self.cleaned_data.get("script")

    def show_error(self, error: StudioError) -> None:
        """The service's refusal, next to the field it is about: a ValidationException's path
        names it, and a ResourceInUse naming this job is about the name. Anything else
        (ResourceLimitExceeded, AccessDenied) is about the whole request."""
        if isinstance(error, ValidationException):
            field = field_for(error.field, self.field_of_path)
        else:
            taken = isinstance(error, ResourceInUse) and self.cleaned_data["name"] in str(error)
            field = "name" if taken else None
        self.add_error(field, error.message)


class TrainingJobForm(JobForm):
    name_prefix = "training"
    uri_label = "Training data URI"
    field_of_path = FIELD_OF_PATH

    dataset_name = forms.ChoiceField(label="Training dataset", required=False)
    dataset = forms.CharField(
        label="Or training data URI",
        required=False,
        help_text="An s3:// URI of a CSV file or prefix in the store (label in the first column "
        "for built-in algorithms).",
    )
    validation_dataset = forms.CharField(
        label="Validation data", required=False, help_text="Optional: a second channel."
    )
    algorithm = forms.ChoiceField(label="Built-in algorithm", required=False)
    script = forms.FileField(
        label="Or your own script",
        required=False,
        help_text="A train.py reading SM_* variables (script mode, runs in studio/sklearn).",
    )
    instance_count = forms.IntegerField(label="Instance count", min_value=1, initial=1)
    hyperparameters = forms.CharField(
        label="Hyperparameters",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "epochs=10\nlearning_rate=0.1"}),
        help_text="One key=value a line.",
    )
    metric_definitions = forms.CharField(
        label="Metric definitions",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": r"train:loss=loss: ([0-9.]+)"}),
        help_text="Script mode: one name=regex a line, the value in a capture group. Built-in "
        "algorithms bring their own.",
    )
    output_path = forms.CharField(label="Output path")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["algorithm"].choices = [("", "— none: use my script —")] + [
            (name, name) for name in builtin_algorithms.names()
        ]
        self.fields["output_path"].initial = default_output_path(self.domain.domain_id)

    def clean_hyperparameters(self) -> dict[str, str]:
        return parse_pairs(self.cleaned_data["hyperparameters"], "key=value")

    def clean_metric_definitions(self) -> list[dict[str, str]]:
        pairs = parse_pairs(self.cleaned_data["metric_definitions"], "name=regex")
        if len(pairs) > MAX_METRIC_DEFINITIONS:
            raise forms.ValidationError(f"At most {MAX_METRIC_DEFINITIONS} metric definitions.")
        return [{"Name": name, "Regex": regex} for name, regex in pairs.items()]

    def clean_script(self) -> UploadedFile | None:
        return _clean_script(self.cleaned_data["script"], "train.py")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if bool(data.get("algorithm")) == bool(data.get("script")):
            self.add_error("algorithm", "Choose a built-in algorithm or upload a script (one).")
        return data

    def request(self) -> dict[str, Any]:
        """The CreateTrainingJob request the cleaned form describes (the service sets script
        mode's hyperparameters for the uploaded script)."""
        data = self.cleaned_data
        hyperparameters = dict(data["hyperparameters"])
        if data["algorithm"]:
            algorithm: dict[str, Any] = {"AlgorithmName": data["algorithm"]}
        else:
            algorithm = {"TrainingImage": SCRIPT_IMAGE}
        if data["metric_definitions"]:
            algorithm["MetricDefinitions"] = data["metric_definitions"]
        channels = [("train", data["dataset"]), ("validation", data["validation_dataset"])]
        return {
            "TrainingJobName": data["name"],
            "AlgorithmSpecification": algorithm,
            "HyperParameters": hyperparameters,
            "InputDataConfig": [
                {
                    "ChannelName": channel,
                    "ContentType": "text/csv",
                    "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
                }
                for channel, uri in channels
                if uri
            ],
            "OutputDataConfig": {"S3OutputPath": data["output_path"]},
            "ResourceConfig": {
                "InstanceType": data["instance_type"],
                "InstanceCount": data["instance_count"],
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": data["max_runtime"]},
        }


# --- Processing ---------------------------------------------------------------------------

PROCESSING_IMAGE = "studio/sklearn:latest"
DATA_DIR = "/opt/ml/processing/input/data"
OUTPUT_DIR = "/opt/ml/processing/output"
# The service puts the code first, then the form's data: errors about either land there.
PROCESSING_FIELD_OF_PATH = [
    ("ProcessingJobName", "name"),
    ("AppSpecification.ImageUri", "image"),
    ("AppSpecification", "script"),
    ("ProcessingInputs[0]", "script"),
    ("ProcessingInputs[1]", "dataset"),
    ("ProcessingOutputConfig", "output_name"),
    ("ProcessingResources", "instance_type"),
    ("StoppingCondition", "max_runtime"),
    ("Environment", "environment"),
]


class ProcessingJobForm(JobForm):
    name_prefix = "processing"
    uri_label = "Input data URI"
    field_of_path = PROCESSING_FIELD_OF_PATH

    script = forms.FileField(
        label="Processing script",
        help_text=f"A preprocess.py, run as python3 {CODE_DIR}/<script>. It reads its input "
        f"from {DATA_DIR} and writes what it makes to {OUTPUT_DIR}.",
    )
    dataset_name = forms.ChoiceField(label="Input dataset", required=False)
    dataset = forms.CharField(
        label="Or input data URI",
        required=False,
        help_text=f"An s3:// URI of a file or prefix in the store, mounted at {DATA_DIR}.",
    )
    output_name = forms.CharField(
        label="Output name",
        max_length=40,
        initial="output",
        # The output becomes dataset <job>-<output>, and dataset names allow no more.
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9](-*[A-Za-z0-9])*$", "Letters, digits and hyphens, as in clean-data."
            )
        ],
        help_text=f"What {OUTPUT_DIR} holds when the script ends; a table there becomes the "
        "dataset <job>-<output>.",
    )
    image = forms.CharField(
        label="Image",
        initial=PROCESSING_IMAGE,
        help_text="A built-in or registered image (reference, ImageArn or ImageVersionArn).",
    )
    environment = forms.CharField(
        label="Environment",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "MIN_VALUE=0.5\nLOG_LEVEL=info"}),
        help_text="One KEY=value a line, set in the container's environment.",
    )

    def clean_script(self) -> UploadedFile | None:
        return _clean_script(self.cleaned_data["script"], "preprocess.py")

    def clean_environment(self) -> dict[str, str]:
        return parse_pairs(self.cleaned_data["environment"], "KEY=value")

    def request(self) -> dict[str, Any]:
        """The CreateProcessingJob request the cleaned form describes (the service adds the
        uploaded script as its first input, at CODE_DIR)."""
        data = self.cleaned_data
        script = Path(data["script"].name).name
        return {
            "ProcessingJobName": data["name"],
            "AppSpecification": {
                "ImageUri": data["image"],
                "ContainerEntrypoint": ["python3", f"{CODE_DIR}/{script}"],
            },
            "ProcessingInputs": [s3_input("data", data["dataset"], DATA_DIR)],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": data["output_name"],
                        "S3Output": {
                            "S3Uri": processing_output_uri(
                                self.domain.domain_id, data["name"], data["output_name"]
                            ),
                            "LocalPath": OUTPUT_DIR,
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceType": data["instance_type"],
                    "InstanceCount": 1,
                    "VolumeSizeInGB": 30,
                }
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": data["max_runtime"]},
            "Environment": data["environment"],
        }
