"""Domain defaults and profile overrides merge as SageMaker merges UserSettings."""

from domains.user_settings import (
    default_image,
    default_instance_type,
    idle_timeout_minutes,
    merge_user_settings,
    simple_user_settings,
)

DOMAIN = {
    "ExecutionRole": "arn:aws:iam::000000000000:role/domain",
    "SecurityGroups": ["sg-a", "sg-b"],
    "JupyterLabAppSettings": {
        "DefaultResourceSpec": {"InstanceType": "ml.t3.medium", "SageMakerImageArn": "jupyter"},
        "AppLifecycleManagement": {
            "IdleSettings": {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": 120}
        },
    },
}


def test_profile_values_take_precedence_member_by_member():
    profile = {"JupyterLabAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.m5.large"}}}
    merged = merge_user_settings(DOMAIN, profile)
    assert default_instance_type(merged) == "ml.m5.large"
    # Members the profile does not set keep the domain's values.
    assert default_image(merged) == "jupyter"
    assert idle_timeout_minutes(merged) == 120
    assert merged["ExecutionRole"] == DOMAIN["ExecutionRole"]


def test_security_groups_are_aggregated_not_replaced():
    merged = merge_user_settings(DOMAIN, {"SecurityGroups": ["sg-b", "sg-c"]})
    assert merged["SecurityGroups"] == ["sg-a", "sg-b", "sg-c"]


def test_other_lists_are_replaced():
    domain = {"JupyterLabAppSettings": {"LifecycleConfigArns": ["a", "b"]}}
    profile = {"JupyterLabAppSettings": {"LifecycleConfigArns": ["c"]}}
    assert merge_user_settings(domain, profile)["JupyterLabAppSettings"] == {
        "LifecycleConfigArns": ["c"]
    }


def test_merging_leaves_the_domain_defaults_untouched():
    before = repr(DOMAIN)
    merge_user_settings(DOMAIN, {"JupyterLabAppSettings": {"DefaultResourceSpec": {}}})
    assert repr(DOMAIN) == before


def test_empty_profile_gets_domain_defaults():
    assert merge_user_settings(DOMAIN, {}) == DOMAIN


def test_disabled_idle_shutdown_has_no_timeout():
    settings = simple_user_settings(None, None, 90)
    assert idle_timeout_minutes(settings) == 90
    settings["JupyterLabAppSettings"]["AppLifecycleManagement"]["IdleSettings"][
        "LifecycleManagement"
    ] = "DISABLED"
    assert idle_timeout_minutes(settings) is None


def test_simple_settings_build_the_nested_shape():
    assert simple_user_settings("ml.m5.large", "jupyter", None) == {
        "JupyterLabAppSettings": {
            "DefaultResourceSpec": {"InstanceType": "ml.m5.large", "SageMakerImageArn": "jupyter"}
        }
    }
    assert simple_user_settings(None, None, None) == {}
