"""The forms that start jobs: what a person fills in, turned into a CreateTrainingJob or a
CreateProcessingJob request and the script uploaded with it. The service validates the
request and stores the script; its ValidationException is shown next to the field it names,
in words (`in_words`). A form may start prefilled from a job (`initial_from`: Start similar),
reusing the script that job ran."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator
from django.utils import timezone

from domains.models import Domain
from jobs import builtin_algorithms
from jobs.models import Dataset, ProcessingJob, TrainingJob
from jobs.services.common import MAX_SCRIPT_BYTES
from jobs.services.processing import CODE_DIR, processing_output_uri, s3_input
from jobs.services.training import default_output_path
from metering.catalog import InstanceType
from studio.core.errors import ResourceInUse, StudioError, ValidationException
from studio.core.shapes import PATTERNS_IN_WORDS

SCRIPT_IMAGE = builtin_algorithms.BUILTIN_IMAGE
# What the service sets for an uploaded script (create_training_job): not the form's to copy.
SCRIPT_HYPERPARAMETERS = {"sagemaker_program", "sagemaker_submit_directory"}
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


# studio.core.shapes says a broken rule as SageMaker does, which API clients match on:
# "Value at 'TrainingJobName' failed to satisfy constraint: Member must ...". A form shows the
# error at its field already, so it says only the rule, in words.
CONSTRAINT = re.compile(
    r"Value at '(?P<path>.*?)' failed to satisfy constraint: (?P<rule>.*)", re.S
)
PATTERN_RULE = "Member must satisfy regular expression pattern: "
ENUM_RULE = "Member must satisfy enum value set: "
SIZE_RULE = re.compile(
    r"Member must have (?P<what>length|size|value) (?P<how>greater|less) than or equal to "
    r"(?P<bound>\S+)"
)
TYPE_RULES = {
    "Member must not be null": "This field is required.",
    "Member must not be empty": "This field is required.",
    "Member must be an integer": "Enter a whole number.",
    "Member must be a number": "Enter a number.",
    "Member must be a string": "Enter text.",
}
# An entry of a map the form takes as key=value lines: `HyperParameters.epochs` (its value) or
# `HyperParameters key 'epochs'` (its key). The form names it by its key alone.
MAP_ENTRY = re.compile(r"(?:HyperParameters|Environment)(?:\.(?P<value>.+)| key '(?P<key>.*)')")


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# Names' patterns in words (shapes.PATTERNS_IN_WORDS, which the API says too), and the other
# patterns a form's value may break, which the API leaves as SageMaker says them.
FORM_PATTERNS_IN_WORDS = {
    **PATTERNS_IN_WORDS,
    "(https|s3)://([^/]+)/?(.*)": "give an s3:// URI, as in s3://bucket/key",
    "[a-zA-Z_][a-zA-Z0-9_]*": "use letters, digits and underscores, beginning with a letter "
    "or underscore",
}


def _pattern_in_words(pattern: str) -> str:
    """What a pattern asks, in words: from FORM_PATTERNS_IN_WORDS, or the words the service
    put after the pattern in parentheses."""
    for known, words in FORM_PATTERNS_IN_WORDS.items():
        if pattern == known or pattern.startswith(f"{known} ("):
            # A name's pattern ends in {0,N}: one character, then up to N more.
            longest = re.search(r"\{0,(\d+)\}$", known)
            at_most = f", at most {int(longest[1]) + 1} characters" if longest else ""
            return _sentence(words + at_most)
    worded = re.fullmatch(r"\S+ \((?P<words>.+)\)", pattern, re.S)
    if worded:
        return _sentence(worded["words"])
    return f"Must have the form {pattern}."


def rule_in_words(rule: str) -> str:
    """One of studio.core.shapes' rules ("Member must ...") as a person is told it."""
    if rule.startswith(PATTERN_RULE):
        return _pattern_in_words(rule.removeprefix(PATTERN_RULE))
    if rule.startswith(ENUM_RULE):
        return f"Choose one of {rule.removeprefix(ENUM_RULE).strip('[]')}."
    if rule in TYPE_RULES:
        return TYPE_RULES[rule]
    size = SIZE_RULE.fullmatch(rule)
    if size:
        bound = "at least" if size["how"] == "greater" else "at most"
        if size["what"] == "value":
            return f"Must be {bound} {size['bound']}."
        if size["how"] == "greater" and size["bound"] == "1":
            return "This field is required."
        unit = "entries" if size["what"] == "size" else "characters"
        return f"Use {bound} {size['bound']} {unit}."
    return _sentence(rule.replace("Member must", "Must", 1))


def in_words(error: ValidationException, label: str) -> str:
    """The service's `error` as a form shows it at the field labelled `label` (empty: above
    the form): the rule in words, and the value it is about named as the form names it (a
    hyperparameter by its key, `num_classes: ...`), not by its path in the request."""
    message, path = error.message, error.field or ""
    constraint = CONSTRAINT.fullmatch(message)
    if constraint:
        path, message = constraint["path"], rule_in_words(constraint["rule"])
        entry = MAP_ENTRY.fullmatch(path)
        if entry:
            return f"{entry['value'] or entry['key']}: {message}"
        return message if label else f"{path}: {message}"
    # Studio's own messages begin with the path: "HyperParameters.k must be ...",
    # "OutputDataConfig.S3OutputPath: 's3://x' is ...".
    if not path or not message.startswith(path):
        return message
    rest = message.removeprefix(path)
    entry = MAP_ENTRY.fullmatch(path)
    if entry:
        return f"{entry['value'] or entry['key']}:{rest.removeprefix(':')}"
    if rest.startswith(": "):
        return _sentence(rest.removeprefix(": "))
    return f"{label}{rest}" if label else message


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


@dataclass(frozen=True)
class Similar:
    """The job a form starts from (Start similar), described through the service by whom
    fills the form in: a free name for the new job, and the script the job ran (None when
    there is none to reuse)."""

    job: TrainingJob | ProcessingJob
    name: str
    script: UploadedFile | None


def _lines(pairs: dict[str, str]) -> str:
    """`pairs` as the form's key=value lines (`parse_pairs` reads them back)."""
    return "\n".join(f"{key}={value}" for key, value in pairs.items())


class JobForm(forms.Form):
    """What both job forms ask alike: the job's name, its input as one of the domain's datasets
    or as a URI (a subclass declares `dataset_name` and `dataset`, labelled for its kind), the
    instance type from the catalog, and the longest it may run.

    Started from a job (`similar`), an unbound form holds that job's settings, and a job it
    starts runs that job's script unless another is uploaded."""

    # The default name is `<name_prefix>-<date>-<time>`.
    name_prefix: ClassVar[str]
    # The URI field's label when there is no dataset to choose instead.
    uri_label: ClassVar[str]
    # Where an error about a request path is shown: first matching prefix wins.
    field_of_path: ClassVar[list[tuple[str, str]]]
    # The legend of the dataset-or-URI pair.
    data_legend: ClassVar[str]

    name = forms.CharField(
        label="Job name",
        max_length=63,
        help_text="Letters, digits and hyphens, beginning and ending with a letter or digit; "
        "unique among the domain's jobs of this kind.",
    )
    instance_type = forms.ChoiceField(label="Instance type")
    max_runtime = forms.IntegerField(label="Max runtime (seconds)", min_value=1, initial=3600)

    def __init__(
        self,
        *args: Any,
        domain: Domain,
        datasets: list[Dataset],
        similar: Similar | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.domain = domain
        self.datasets = {d.name: d for d in datasets}
        self.fields["dataset_name"].choices = dataset_choices(datasets)
        if not datasets:
            self.fields["dataset"].label = self.uri_label
            self.fields["dataset"].required = True
        self.fields["instance_type"].choices = instance_type_choices()
        self.fields["name"].initial = timezone.now().strftime(f"{self.name_prefix}-%Y%m%d-%H%M%S")
        self.similar = similar
        # What the form could not copy from `similar`, said above the fields.
        self.notes: list[str] = []
        if similar is not None:
            self.initial = {"name": similar.name, **self._data_initial(similar.job)}
            self.initial |= self.initial_from(similar)
            if similar.script is not None:
                self.fields["script"].help_text = (
                    f"{similar.script.name} from {similar.job.name} runs again unless you "
                    "upload another."
                )

    def initial_from(self, similar: Similar) -> dict[str, Any]:
        """The form's fields as `similar.job` was asked to run, but the name and data (and
        `notes` on what the form cannot hold)."""
        raise NotImplementedError

    def data_uri(self, job: TrainingJob | ProcessingJob) -> str:
        """The URI of the data `job` read, as the form took it."""
        raise NotImplementedError

    def _data_initial(self, job: TrainingJob | ProcessingJob) -> dict[str, str]:
        """The job's input as the domain's dataset of that URI, if there is one, else the URI."""
        uri = self.data_uri(job)
        chosen = next((d.name for d in self.datasets.values() if d.s3_uri == uri), "")
        return {"dataset_name": chosen, "dataset": "" if chosen else uri}

    def one_of(self, key: str, other: str, given: tuple[bool, bool], what: str) -> None:
        """Exactly one of fields `key` and `other` is to be given: else an error on the pair,
        held by `key` (the template shows it below both) and describing both inputs."""
        if given[0] != given[1]:
            return
        self.add_error(key, f"{what}, not both." if given[0] else f"{what} (one of the two).")
        described = [f"{self[other].auto_id}_helptext"] if self.fields[other].help_text else []
        attrs = self.fields[other].widget.attrs
        attrs["aria-describedby"] = " ".join([*described, f"{self[key].auto_id}_error"])
        attrs["aria-invalid"] = "true"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen, uri = data.get("dataset_name"), data.get("dataset")
        if {"dataset", "dataset_name"} & set(self.errors):
            pass  # already told (required when there are no datasets to choose from)
        elif self.datasets:
            self.one_of(
                "dataset",
                "dataset_name",
                (bool(uri), bool(chosen)),
                "Choose a dataset or give an s3:// URI",
            )
        if chosen and not uri:
            data["dataset"] = self.datasets[chosen].s3_uri
        return data

    def reused_script(self) -> UploadedFile | None:
        """The script of the job the form started from, to run again."""
        return self.similar.script if self.similar is not None else None

    def code(self) -> UploadedFile | None:
        """The script uploaded with the request (or reused), for the service to store."""
        return self.cleaned_data.get("script")

    def show_error(self, error: StudioError) -> None:
        """The service's refusal, next to the field it is about and in words: a
        ValidationException's path names it, and a ResourceInUse naming this job is about the
        name. Anything else (ResourceLimitExceeded, AccessDenied) is about the whole request."""
        if isinstance(error, ValidationException):
            field = field_for(error.field, self.field_of_path)
            message = in_words(error, self.fields[field].label if field else "")
        else:
            taken = isinstance(error, ResourceInUse) and self.cleaned_data["name"] in str(error)
            field, message = ("name" if taken else None), error.message
        self.add_error(field, message)


class TrainingJobForm(JobForm):
    data_legend = "Training data"
    name_prefix = "training"
    uri_label = "Training data URI"
    field_of_path = FIELD_OF_PATH

    dataset_name = forms.ChoiceField(label="Training dataset", required=False)
    dataset = forms.CharField(
        label="Training data URI",
        required=False,
        help_text="An s3:// URI of a CSV file or prefix in the store (label in the first column "
        "for built-in algorithms).",
    )
    validation_dataset = forms.CharField(
        label="Validation data", required=False, help_text="Optional: a second channel."
    )
    algorithm = forms.ChoiceField(label="Built-in algorithm", required=False)
    script = forms.FileField(
        label="Your own script",
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

    def data_uri(self, job: TrainingJob | ProcessingJob) -> str:
        return self._channels(job).get("train", "")

    @staticmethod
    def _channels(job: TrainingJob | ProcessingJob) -> dict[str, str]:
        return {
            c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"]
            for c in job.request.get("InputDataConfig", [])
            if "S3DataSource" in c["DataSource"]
        }

    def initial_from(self, similar: Similar) -> dict[str, Any]:
        request = similar.job.request
        algorithm = request["AlgorithmSpecification"]
        channels = self._channels(similar.job)
        for channel, uri in channels.items():
            if channel not in {"train", "validation"}:
                self.notes.append(
                    f"Channel {channel} ({uri}) is not copied: this form takes a train and a "
                    "validation channel only."
                )
        image = algorithm.get("TrainingImage", "")
        if image and image != SCRIPT_IMAGE:
            self.notes.append(
                f"{similar.job.name} ran image {image}, which this form does not offer: choose "
                "a built-in algorithm or upload a script."
            )
        elif image and similar.script is None:
            self.notes.append(
                f"The script {similar.job.name} ran is not stored with it: upload it again."
            )
        hyperparameters = {
            key: value
            for key, value in request.get("HyperParameters", {}).items()
            if key not in SCRIPT_HYPERPARAMETERS
        }
        metrics = {d["Name"]: d["Regex"] for d in algorithm.get("MetricDefinitions", [])}
        return {
            "validation_dataset": channels.get("validation", ""),
            "algorithm": algorithm.get("AlgorithmName", ""),
            "hyperparameters": _lines(hyperparameters),
            "metric_definitions": _lines(metrics),
            "instance_type": request["ResourceConfig"]["InstanceType"],
            "instance_count": request["ResourceConfig"].get("InstanceCount", 1),
            "max_runtime": request["StoppingCondition"]["MaxRuntimeInSeconds"],
            "output_path": request["OutputDataConfig"]["S3OutputPath"],
        }

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
        if not data.get("algorithm") and not data.get("script") and "script" not in self.errors:
            # Started from a script-mode job: its script, unless an algorithm is chosen now.
            data["script"] = self.reused_script()
        if "script" not in self.errors:
            given = (bool(data.get("algorithm")), bool(data.get("script")))
            self.one_of(
                "algorithm", "script", given, "Choose a built-in algorithm or upload a script"
            )
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
    data_legend = "Input data"
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

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.reused_script() is not None:
            self.fields["script"].required = False

    def data_uri(self, job: TrainingJob | ProcessingJob) -> str:
        return next(
            (
                i.get("S3Input", {}).get("S3Uri", "")
                for i in self._inputs(job)
                if i["InputName"] == "data"
            ),
            "",
        )

    @staticmethod
    def _inputs(job: TrainingJob | ProcessingJob) -> list[dict[str, Any]]:
        """The job's inputs but its code (which the form uploads)."""
        return [i for i in job.request.get("ProcessingInputs", []) if i["InputName"] != "code"]

    def initial_from(self, similar: Similar) -> dict[str, Any]:
        request = similar.job.request
        for item in self._inputs(similar.job):
            if item["InputName"] != "data":
                self.notes.append(
                    f"Input {item['InputName']} is not copied: this form takes one input."
                )
        outputs = request.get("ProcessingOutputConfig", {}).get("Outputs", [])
        for item in outputs[1:]:
            self.notes.append(
                f"Output {item['OutputName']} is not copied: this form takes one output."
            )
        if similar.script is None:
            self.notes.append(
                f"The script {similar.job.name} ran is not stored with it: upload it again."
            )
        cluster = request["ProcessingResources"]["ClusterConfig"]
        return {
            "output_name": outputs[0]["OutputName"] if outputs else "output",
            "image": request["AppSpecification"]["ImageUri"],
            "environment": _lines(request.get("Environment", {})),
            "instance_type": cluster["InstanceType"],
            "max_runtime": request["StoppingCondition"]["MaxRuntimeInSeconds"],
        }

    def clean_script(self) -> UploadedFile | None:
        return _clean_script(self.cleaned_data["script"], "preprocess.py")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("script") and "script" not in self.errors:
            data["script"] = self.reused_script()
        return data

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
