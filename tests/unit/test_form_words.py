"""The dashboard's forms say what studio.core.shapes refuses in words, at the field: every rule
shapes words for the API, as a person is told it, from the service's own errors."""

import pytest

from studio.core.errors import ValidationException
from studio.core.shapes import validate, validate_name
from studio.web.dashboard.forms import in_words


def refusal(check) -> ValidationException:
    with pytest.raises(ValidationException) as caught:
        check()
    return caught.value


@pytest.mark.parametrize(
    ("check", "label", "words"),
    [
        (
            lambda: validate_name("bad_name", "TrainingJobName", "TrainingJobName"),
            "Job name",
            "Use only letters, digits and hyphens, and begin and end with a letter or digit, "
            "at most 63 characters.",
        ),
        (
            lambda: validate_name("x" * 64, "SpaceName", "SpaceName"),
            "Space name",
            "Use at most 63 characters.",
        ),
        (lambda: validate_name("", "EntityName", "DatasetName"), "Name", "This field is required."),
        (
            lambda: validate({"Name": "x", "Regex": ""}, "MetricDefinition", "Metric"),
            "Metric definitions",
            "This field is required.",
        ),
        (
            lambda: validate("Fast", "TrainingInputMode", "Mode"),
            "Mode",
            "Choose one of Pipe, File, FastFile.",
        ),
        (
            lambda: validate(0, "MaxRuntimeInSeconds", "StoppingCondition.MaxRuntimeInSeconds"),
            "Max runtime (seconds)",
            "Must be at least 1.",
        ),
        (
            lambda: validate("many", "TrainingInstanceCount", "ResourceConfig.InstanceCount"),
            "Instance count",
            "Enter a whole number.",
        ),
        (
            lambda: validate({"1BAD": "x"}, "ProcessingEnvironmentMap", "Environment"),
            "Environment",
            "1BAD: Use letters, digits and underscores, beginning with a letter or underscore.",
        ),
        (
            lambda: validate("ftp://x/y", "S3Uri", "InputDataConfig[0].S3Uri"),
            "Training data URI",
            "Give an s3:// URI, as in s3://bucket/key.",
        ),
        (
            lambda: validate(
                {"ChannelName": "..", "DataSource": {}}, "Channel", "InputDataConfig[0]"
            ),
            "Training data URI",
            "Studio makes a directory of this name: letters, digits, '.', '_' and '-', "
            "starting with a letter or digit, at most 64.",
        ),
    ],
)
def test_a_shapes_rule_is_said_in_words(check, label, words):
    error = refusal(check)
    assert in_words(error, label) == words
    assert "regular expression" not in in_words(error, label)


def test_a_message_naming_its_path_names_the_field_or_the_key_instead():
    hyperparameter = ValidationException(
        "HyperParameters.num_classes must be an integer of at least 3, not 'abc'.",
        "HyperParameters.num_classes",
    )
    assert in_words(hyperparameter, "Hyperparameters") == (
        "num_classes: must be an integer of at least 3, not 'abc'."
    )
    uri = ValidationException(
        "OutputDataConfig.S3OutputPath: 'x' must be an s3://bucket/key URI.",
        "OutputDataConfig.S3OutputPath",
    )
    assert in_words(uri, "Output path") == "'x' must be an s3://bucket/key URI."
    count = ValidationException(
        "ResourceConfig.InstanceCount must be between 1 and 16.", "ResourceConfig.InstanceCount"
    )
    assert in_words(count, "Instance count") == "Instance count must be between 1 and 16."
    # Above the form (no field), the path stays: it is all that says what the rule is about.
    assert in_words(count, "") == count.message
    other = ValidationException("Choose a .csv or .parquet file to upload.", "File")
    assert in_words(other, "File") == other.message
