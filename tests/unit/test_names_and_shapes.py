"""Names and request values are checked against SageMaker's own shapes."""

import pytest

from studio.core.errors import ValidationException
from studio.core.shapes import validate, validate_name


@pytest.mark.parametrize("name", ["a", "research", "team-1", "A-b--c9", "x" * 63])
def test_valid_names(name):
    assert validate_name(name, "DomainName", "DomainName") == name


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "must not be empty"),
        (None, "must not be empty"),
        ("-leading", "regular expression"),
        ("trailing-", "regular expression"),
        ("under_score", "regular expression"),
        ("has space", "regular expression"),
        ("dot.ted", "regular expression"),
        ("x" * 64, "length less than or equal to 63"),
        (42, "must be a string"),
    ],
)
def test_invalid_names_say_which_field_and_rule(name, rule):
    with pytest.raises(ValidationException) as e:
        validate_name(name, "UserProfileName", "UserProfileName")
    assert "UserProfileName" in e.value.message
    assert rule in e.value.message
    assert e.value.field == "UserProfileName"


@pytest.mark.parametrize(
    ("shape_name", "name", "words"),
    [
        ("TrainingJobName", "under_score", "use only letters, digits and hyphens"),
        ("ImageName", "two..dots", "single hyphens or dots between them"),
        ("ImageDisplayName", " padded", "do not begin or end with a space"),
    ],
)
def test_a_name_pattern_is_also_said_in_words(shape_name, name, words):
    with pytest.raises(ValidationException) as e:
        validate(name, shape_name, shape_name)
    assert "Member must satisfy regular expression pattern" in e.value.message  # as SageMaker
    assert words in e.value.message


def test_unknown_settings_member_is_named_with_its_path():
    with pytest.raises(ValidationException, match=r"UserSettings\.JupyterLabAppSettings\.Bogus"):
        validate({"JupyterLabAppSettings": {"Bogus": 1}}, "UserSettings", "UserSettings")


def test_idle_timeout_range_comes_from_sagemaker():
    settings = {
        "JupyterLabAppSettings": {
            "AppLifecycleManagement": {"IdleSettings": {"IdleTimeoutInMinutes": 5}}
        }
    }
    with pytest.raises(ValidationException, match="greater than or equal to 60"):
        validate(settings, "UserSettings", "UserSettings")


def test_instance_type_must_be_one_sagemaker_knows():
    bad = {"JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.huge"}}}
    with pytest.raises(ValidationException, match="enum value set"):
        validate(bad, "UserSettings", "UserSettings")
    good = {"JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.t3.medium"}}}
    validate(good, "UserSettings", "UserSettings")


def test_wrong_types_are_refused():
    with pytest.raises(ValidationException, match="must be a list"):
        validate({"SecurityGroups": "sg-1"}, "UserSettings", "UserSettings")
    with pytest.raises(ValidationException, match="must be an integer"):
        validate(
            {
                "JupyterLabAppSettings": {
                    "AppLifecycleManagement": {"IdleSettings": {"IdleTimeoutInMinutes": True}}
                }
            },
            "UserSettings",
            "UserSettings",
        )
