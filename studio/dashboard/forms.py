"""The form that starts a training job: what a person fills in, turned into a CreateTrainingJob
request. The service validates the request; its ValidationException is shown next to the field
it names."""

import io
import re
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from domains.models import Domain
from jobs import builtin_algorithms
from jobs.models import Dataset, InstanceType
from studio import storage
from studio.errors import ValidationException

SCRIPT_IMAGE = builtin_algorithms.BUILTIN_IMAGE
MAX_SCRIPT_BYTES = 1 * 2**20
SCRIPT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\.py$")
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


def code_uri(domain: Domain, job_name: str) -> str:
    """Where the form stores a script-mode job's code, as the SDK would upload it."""
    return f"s3://studio-{domain.domain_id}/code/{job_name}/sourcedir.tar.gz"


def default_output_path(domain: Domain) -> str:
    return f"s3://studio-{domain.domain_id}/training-output"


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


def field_for(path: str | None) -> str | None:
    """The form field that shows an error about request path `path` (None: the whole form)."""
    for prefix, field in FIELD_OF_PATH:
        if path and path.startswith(prefix):
            return field
    return None


class TrainingJobForm(forms.Form):
    name = forms.CharField(
        label="Job name",
        max_length=63,
        help_text="Letters, digits and hyphens; unique across Studio.",
    )
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
    instance_type = forms.ChoiceField(label="Instance type")
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
    max_runtime = forms.IntegerField(label="Max runtime (seconds)", min_value=1, initial=3600)
    output_path = forms.CharField(label="Output path")

    def __init__(self, *args: Any, domain: Domain, datasets: list[Dataset], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.domain = domain
        self.datasets = {d.name: d for d in datasets}
        self.fields["dataset_name"].choices = [("", "— none: use the URI below —")] + [
            (d.name, f"{d.name} · {d.row_count:,} rows{' · header row' if d.has_header else ''}")
            for d in datasets
        ]
        if not datasets:
            self.fields["dataset"].label = "Training data URI"
            self.fields["dataset"].required = True
        self.fields["algorithm"].choices = [("", "— none: use my script —")] + [
            (name, name) for name in builtin_algorithms.names()
        ]
        self.fields["instance_type"].choices = [
            (
                t.name,
                f"{t.name} · {t.vcpus} vCPU, {float(t.memory_gib):g} GiB"
                f"{f', {t.gpus} GPU' if t.gpus else ''} · ${float(t.price_per_hour):g}/h",
            )
            for t in InstanceType.objects.filter(enabled=True)
        ]
        self.fields["name"].initial = timezone.now().strftime("training-%Y%m%d-%H%M%S")
        self.fields["output_path"].initial = default_output_path(domain)

    def clean_hyperparameters(self) -> dict[str, str]:
        return parse_pairs(self.cleaned_data["hyperparameters"], "key=value")

    def clean_metric_definitions(self) -> list[dict[str, str]]:
        pairs = parse_pairs(self.cleaned_data["metric_definitions"], "name=regex")
        if len(pairs) > MAX_METRIC_DEFINITIONS:
            raise forms.ValidationError(f"At most {MAX_METRIC_DEFINITIONS} metric definitions.")
        return [{"Name": name, "Regex": regex} for name, regex in pairs.items()]

    def clean_script(self) -> UploadedFile | None:
        script = self.cleaned_data["script"]
        if script is None:
            return None
        if not SCRIPT_NAME.match(Path(script.name).name):
            raise forms.ValidationError("Upload a Python script (a .py file), such as train.py.")
        if script.size > MAX_SCRIPT_BYTES:
            raise forms.ValidationError(
                f"The script is {script.size:,} bytes; the limit is {MAX_SCRIPT_BYTES:,}."
            )
        return script

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if bool(data.get("algorithm")) == bool(data.get("script")):
            self.add_error("algorithm", "Choose a built-in algorithm or upload a script (one).")
        chosen, uri = data.get("dataset_name"), data.get("dataset")
        if "dataset" in self.errors:
            pass  # already told (required when there are no datasets to choose from)
        elif bool(chosen) == bool(uri):
            self.add_error("dataset", "Choose a dataset or give an s3:// URI (one).")
        elif chosen:
            data["dataset"] = self.datasets[chosen].s3_uri
        return data

    def request(self) -> dict[str, Any]:
        """The CreateTrainingJob request the cleaned form describes."""
        data = self.cleaned_data
        hyperparameters = dict(data["hyperparameters"])
        if data["algorithm"]:
            algorithm: dict[str, Any] = {"AlgorithmName": data["algorithm"]}
        else:
            algorithm = {"TrainingImage": SCRIPT_IMAGE}
            hyperparameters["sagemaker_program"] = Path(data["script"].name).name
            hyperparameters["sagemaker_submit_directory"] = code_uri(self.domain, data["name"])
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

    def store_script(self) -> None:
        """Pack the uploaded script as the SageMaker SDK packs `source_dir`, into the store at
        the URI the request names (nothing to do for a built-in algorithm)."""
        script: UploadedFile | None = self.cleaned_data["script"]
        if script is None:
            return
        script.seek(0)
        content = script.read()
        with tempfile.TemporaryDirectory() as tmp:
            archive = Path(tmp) / "sourcedir.tar.gz"
            with tarfile.open(archive, "w:gz") as tar:
                info = tarfile.TarInfo(Path(script.name).name)
                info.size = len(content)
                info.mode = 0o644
                info.mtime = int(timezone.now().timestamp())
                tar.addfile(info, io.BytesIO(content))
            storage.put_file(archive, code_uri(self.domain, self.cleaned_data["name"]))

    def show_error(self, error: ValidationException) -> None:
        """Put the service's message next to the field its path names."""
        self.add_error(field_for(error.field), error.message)
