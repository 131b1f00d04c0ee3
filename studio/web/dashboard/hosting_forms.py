"""The hosting pages' forms: Deploy (a model, an endpoint config of one variant and the endpoint,
from a training job, a model or a model package version), Update an endpoint to another
config, and change its variants' weights and instance counts. The services validate; their
ValidationException is shown at the field its path names, in words (`forms.in_words`)."""

from typing import Any

from django import forms
from django.core.validators import RegexValidator

from jobs.services.deploy import Variant
from studio.core.errors import AccessDenied, ResourceInUse, StudioError, ValidationException
from studio.core.shapes import validate
from studio.web.dashboard.forms import field_for, in_words, instance_type_choices

INSTANCES, SERVERLESS = "instances", "serverless"
# SageMaker's serverless memory sizes.
MEMORY_CHOICES = [(mb, f"{mb // 1024} GB") for mb in range(1024, 6145, 1024)]
VARIANT = "ProductionVariants[0]"
DEPLOY_FIELD_OF_PATH = [
    ("ModelName", "model_name"),
    ("EndpointConfigName", "endpoint_name"),
    ("EndpointName", "endpoint_name"),
    (f"{VARIANT}.ModelName", "model_name"),
    (f"{VARIANT}.InstanceType", "instance_type"),
    (f"{VARIANT}.InstanceCount", "instance_count"),
    (f"{VARIANT}.InitialInstanceCount", "instance_count"),
    (f"{VARIANT}.ManagedInstanceScaling", "max_instance_count"),
    (f"{VARIANT}.ServerlessConfig.MemorySizeInMB", "memory_size_mb"),
    (f"{VARIANT}.ServerlessConfig.MaxConcurrency", "max_concurrency"),
]


def _check_name(value: str, shape: str, label: str) -> str:
    """`value` if it is a valid SageMaker `shape` name, else the rule in words: a bad name is
    told at once, beside the other fields' errors, rather than after the first service call."""
    try:
        validate(value, shape, shape)
    except ValidationException as e:
        raise forms.ValidationError(in_words(e, label)) from None
    return value


class DeployForm(forms.Form):
    """Deploy: the model's and the endpoint's names, and its one variant on instances of a
    catalog type (optionally scaling to zero when idle) or serverless."""

    model_name = forms.CharField(
        label="Model name",
        max_length=63,
        # ModelName's pattern, which the shapes' words do not cover.
        validators=[
            RegexValidator(
                r"^[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?$",
                "Use only letters, digits and hyphens, and begin and end with a letter or digit.",
            )
        ],
    )
    endpoint_name = forms.CharField(
        label="Endpoint name",
        max_length=63,
        help_text="Requests go to /endpoints/<name>/invocations. The name of one of your "
        "endpoints updates it: it keeps answering until the new model does.",
    )
    hosting = forms.ChoiceField(
        label="Hosting",
        choices=[
            (INSTANCES, "Real-time: instances kept running"),
            (SERVERLESS, "Serverless: started on demand, memory and concurrency only"),
        ],
        initial=INSTANCES,
        widget=forms.RadioSelect,
    )
    # Always sent (the list has no empty choice); serverless ignores it.
    instance_type = forms.ChoiceField(label="Instance type")
    instance_count = forms.IntegerField(label="Instance count", min_value=1, initial=1)
    # On by default: an endpoint nobody calls should stop costing without anyone remembering.
    scale_to_zero = forms.BooleanField(
        label="Scale to zero when idle",
        required=False,
        initial=True,
        help_text="After a few idle minutes no instance runs (and none is billed); the next "
        "request waits about two seconds for one to start.",
    )
    max_instance_count = forms.IntegerField(
        label="Max instance count",
        required=False,
        min_value=1,
        help_text="With scale to zero: the most instances it may scale up to.",
    )
    memory_size_mb = forms.TypedChoiceField(
        label="Memory", choices=MEMORY_CHOICES, coerce=int, initial=2048
    )
    max_concurrency = forms.IntegerField(
        label="Max concurrency",
        min_value=1,
        initial=5,
        help_text="Requests served at once; more wait.",
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["instance_type"].choices = instance_type_choices()

    def clean_model_name(self) -> str:
        return _check_name(self.cleaned_data["model_name"], "ModelName", "Model name")

    def clean_endpoint_name(self) -> str:
        return _check_name(self.cleaned_data["endpoint_name"], "EndpointName", "Endpoint name")

    def variant(self) -> Variant:
        """The variant the cleaned form describes."""
        data = self.cleaned_data
        if data["hosting"] == SERVERLESS:
            return Variant(
                memory_size_mb=data["memory_size_mb"], max_concurrency=data["max_concurrency"]
            )
        return Variant(
            instance_type=data["instance_type"],
            instance_count=data["instance_count"],
            scale_to_zero=data["scale_to_zero"],
            max_instance_count=data.get("max_instance_count") or data["instance_count"],
        )

    def show_error(self, error: StudioError) -> None:
        """The services' refusal at the field it is about, in words; a taken name at its name.
        Anything else (a quota, a training job without a model) above the form."""
        if isinstance(error, ValidationException):
            field = field_for(error.field, DEPLOY_FIELD_OF_PATH)
            message = in_words(error, self.fields[field].label if field else "")
        elif isinstance(error, ResourceInUse) and "existing model" in error.message:
            field, message = "model_name", error.message
        elif isinstance(error, ResourceInUse) and "existing endpoint " in error.message:
            field, message = "endpoint_name", error.message
        elif isinstance(error, AccessDenied) and "another user profile" in error.message:
            # The name is a colleague's endpoint: deploying to it would update it.
            field, message = "endpoint_name", error.message
        else:
            field, message = None, error.message
        self.add_error(field, message)


class UpdateEndpointForm(forms.Form):
    """UpdateEndpoint: deploy another of the domain's endpoint configs under the same name."""

    config_name = forms.ChoiceField(label="Endpoint config")

    def __init__(self, *args: Any, configs: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["config_name"].choices = [(name, name) for name in configs]

    def show_error(self, error: StudioError) -> None:
        if isinstance(error, ValidationException) and error.field == "EndpointConfigName":
            self.add_error("config_name", in_words(error, self.fields["config_name"].label))
        else:
            self.add_error(None, error.message)


class WeightsForm(forms.Form):
    """UpdateEndpointWeightsAndCapacities: each variant's weight, and its instance count when it
    runs on instances (a serverless variant has none). Fields are numbered in the variants'
    order: `weight_0`, `count_0`, ..."""

    def __init__(self, *args: Any, variants: list[dict[str, Any]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.variants = variants
        for i, variant in enumerate(variants):
            name = variant["name"]
            self.fields[f"weight_{i}"] = forms.FloatField(
                label=f"{name} weight", min_value=0, initial=variant["weight"]
            )
            if not variant["serverless"]:
                self.fields[f"count_{i}"] = forms.IntegerField(
                    label=f"{name} instances", min_value=0, initial=variant["count"]
                )

    def rows(self) -> list[tuple[dict[str, Any], Any, Any]]:
        """(variant, its weight field, its count field or None), for the template."""
        return [
            (v, self[f"weight_{i}"], self[f"count_{i}"] if f"count_{i}" in self.fields else None)
            for i, v in enumerate(self.variants)
        ]

    def changes(self) -> list[dict[str, Any]]:
        """The DesiredWeightsAndCapacities the cleaned form asks for."""
        changes = []
        for i, variant in enumerate(self.variants):
            change: dict[str, Any] = {
                "VariantName": variant["name"],
                "DesiredWeight": self.cleaned_data[f"weight_{i}"],
            }
            if f"count_{i}" in self.fields:
                change["DesiredInstanceCount"] = self.cleaned_data[f"count_{i}"]
            changes.append(change)
        return changes

    def show_error(self, error: StudioError) -> None:
        field = None
        if isinstance(error, ValidationException) and error.field:
            path = error.field
            for i in range(len(self.variants)):
                entry = f"DesiredWeightsAndCapacities[{i}]"
                if path.startswith(f"{entry}.DesiredInstanceCount"):
                    field = f"count_{i}"
                elif path.startswith(f"{entry}.DesiredWeight"):
                    field = f"weight_{i}"
        if field is not None and field in self.fields:
            self.add_error(field, in_words(error, self.fields[field].label))
        else:
            self.add_error(None, error.message)


class ScalingPolicyForm(forms.Form):
    """A variant's autoscaling (`put_scaling_policy`): bounds, the invocations per instance per
    minute to keep near, and the cooldowns between changes."""

    variant = forms.ChoiceField(label="Variant")
    min_count = forms.IntegerField(
        label="Fewest instances",
        min_value=0,
        initial=1,
        help_text="0 lets it scale to zero when nothing calls it.",
    )
    max_count = forms.IntegerField(label="Most instances", min_value=1, initial=2)
    target = forms.FloatField(
        label="Invocations per instance per minute",
        min_value=0.1,
        initial=600,
        help_text="Instances are added above it and removed below it.",
    )
    scale_out_cooldown_s = forms.IntegerField(
        label="Seconds between additions", min_value=0, initial=60
    )
    scale_in_cooldown_s = forms.IntegerField(
        label="Seconds between removals", min_value=0, initial=300
    )

    # The service's fields, by the form's.
    FIELD_OF = {"VariantName": "variant", "MinCapacity": "min_count", "TargetValue": "target"}

    def __init__(self, *args: Any, variants: list[dict[str, Any]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        scalable = [v["name"] for v in variants if not v["serverless"]]
        self.fields["variant"].choices = [(name, name) for name in scalable]

    def policy(self) -> dict[str, Any]:
        """`put_scaling_policy`'s keyword arguments but the variant."""
        data = self.cleaned_data
        return {
            "min_count": data["min_count"],
            "max_count": data["max_count"],
            "target_per_instance_per_minute": data["target"],
            "scale_out_cooldown_s": data["scale_out_cooldown_s"],
            "scale_in_cooldown_s": data["scale_in_cooldown_s"],
        }

    def show_error(self, error: StudioError) -> None:
        field = self.FIELD_OF.get(error.field) if isinstance(error, ValidationException) else None
        self.add_error(field, error.message)
