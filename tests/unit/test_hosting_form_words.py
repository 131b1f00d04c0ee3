"""The hosting and registry names' patterns are said in words, as the other names' are: a form
(and the API's message) never shows a person a raw regular expression."""

import pytest

from studio.core.errors import ValidationException
from studio.core.shapes import validate
from studio.web.dashboard.forms import in_words

NAME_WORDS = "Use only letters, digits and hyphens, and begin and end with a letter or digit"


def refusal(value: str, shape_name: str) -> ValidationException:
    with pytest.raises(ValidationException) as caught:
        validate(value, shape_name, shape_name)
    return caught.value


@pytest.mark.parametrize(
    ("value", "shape_name", "words"),
    [
        ("my_model", "ModelName", f"{NAME_WORDS}."),
        ("-model", "ModelName", f"{NAME_WORDS}."),
        ("my_endpoint", "EndpointName", f"{NAME_WORDS}, at most 63 characters."),
        ("my_config", "EndpointConfigName", f"{NAME_WORDS}, at most 63 characters."),
        ("All Traffic", "VariantName", f"{NAME_WORDS}, at most 63 characters."),
        (
            "churn_models",
            "ArnOrName",
            "Give a name of letters, digits and hyphens that begins and ends with a letter or "
            "digit, at most 63 characters, or an ARN.",
        ),
        (
            "churn/v3",
            "VersionedArnOrName",
            "Give a version as <group>/<version>, as in churn/3, or its ARN.",
        ),
    ],
)
def test_a_hosting_names_pattern_is_said_in_words(value, shape_name, words):
    error = refusal(value, shape_name)
    assert in_words(error, "Name") == words
    assert "[a-zA-Z0-9]" not in in_words(error, "Name")


def test_the_apis_message_says_a_model_names_pattern_in_words_too():
    message = refusal("my_model", "ModelName").message
    assert message.endswith(f"({NAME_WORDS[0].lower()}{NAME_WORDS[1:]})")


def test_a_valid_model_name_passes_its_pattern():
    validate("churn-model-2", "ModelName", "ModelName")
