"""Every CreateTrainingJob field's validation: a clear ValidationException, nothing created."""

import pytest
from botocore.exceptions import ClientError

from domains.services import create_access_key
from jobs.models import TrainingJob
from jobs.services import (
    create_training_job,
    describe_training_job,
    list_training_jobs,
    stop_training_job,
)
from jobs.services.training import validate_training_request
from studio.core.errors import (
    AccessDenied,
    ResourceInUse,
    ResourceLimitExceeded,
    ResourceNotFound,
    ValidationException,
)
from tests.integration.api import sagemaker
from tests.integration.conftest import put
from tests.integration.training import DATA, request, separable_csv

pytestmark = pytest.mark.usefixtures("live", "instance_types")


@pytest.fixture(autouse=True)
def data() -> None:
    put(DATA, separable_csv(20))


def channel(name="train", uri=DATA):
    return {
        "ChannelName": name,
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
    }


CASES = [
    ({"TrainingJobName": "bad_name"}, "TrainingJobName"),
    ({"TrainingJobName": "x" * 64}, "TrainingJobName"),
    ({"TrainingJobName": ""}, "TrainingJobName"),
    ({"InputDataConfig": []}, "InputDataConfig"),
    (
        {"InputDataConfig": [channel("train", "s3://research-data/missing/")]},
        "InputDataConfig[0].DataSource.S3DataSource.S3Uri",
    ),
    ({"InputDataConfig": [channel("bad channel!")]}, "InputDataConfig[0].ChannelName"),
    ({"InputDataConfig": [channel(), channel()]}, "InputDataConfig[1].ChannelName"),
    ({"InputDataConfig": [channel(f"c{i}") for i in range(21)]}, "InputDataConfig"),
    (
        {
            "AlgorithmSpecification": {
                "AlgorithmName": "linear-learner",
                "MetricDefinitions": [{"Name": "m", "Regex": "([0-9"}],
            }
        },
        "AlgorithmSpecification.MetricDefinitions[0].Regex",
    ),
    (
        {
            "AlgorithmSpecification": {
                "AlgorithmName": "linear-learner",
                "MetricDefinitions": [{"Name": "m", "Regex": "loss=[0-9]+"}],
            }
        },
        "AlgorithmSpecification.MetricDefinitions[0].Regex",
    ),
    (
        {"AlgorithmSpecification": {"AlgorithmName": "deep-magic"}},
        "AlgorithmSpecification.AlgorithmName",
    ),
    ({"AlgorithmSpecification": {}}, "AlgorithmSpecification"),
    (
        {"AlgorithmSpecification": {"AlgorithmName": "xgboost", "TrainingImage": "x"}},
        "AlgorithmSpecification",
    ),
    (
        {"AlgorithmSpecification": {"AlgorithmName": "xgboost", "TrainingInputMode": "Pipe"}},
        "AlgorithmSpecification.TrainingInputMode",
    ),
    (
        {"ResourceConfig": {"InstanceType": "ml.m5.huge", "InstanceCount": 1}},
        "ResourceConfig.InstanceType",
    ),
    (
        {"ResourceConfig": {"InstanceType": "ml.p4d.24xlarge", "InstanceCount": 1}},
        "ResourceConfig.InstanceType",
    ),
    (
        {"ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 0}},
        "ResourceConfig.InstanceCount",
    ),
    ({"HyperParameters": {"lr": "x" * 2501}}, "HyperParameters.lr"),
    ({"HyperParameters": {f"h{i}": "1" for i in range(101)}}, "HyperParameters"),
    ({"HyperParameters": {"epochs": 10}}, "HyperParameters.epochs"),
    # A built-in algorithm's own rules (the default request's is linear-learner).
    (
        {"HyperParameters": {"predictor_type": "binary_classifier", "num_classes": "abc"}},
        "HyperParameters.num_classes",
    ),
    ({"HyperParameters": {"predictor_type": "banana"}}, "HyperParameters.predictor_type"),
    ({"HyperParameters": {}}, "HyperParameters.predictor_type"),
    ({"StoppingCondition": {"MaxRuntimeInSeconds": 0}}, "StoppingCondition.MaxRuntimeInSeconds"),
    ({"OutputDataConfig": {"S3OutputPath": "ftp://elsewhere/x"}}, "OutputDataConfig.S3OutputPath"),
    (
        {"OutputDataConfig": {"S3OutputPath": "s3://bucket/../escape"}},
        "OutputDataConfig.S3OutputPath",
    ),
    ({"Environment": {f"V{i}": "1" for i in range(101)}}, "Environment"),
    ({"Bogus": 1}, "Bogus"),
]


@pytest.mark.parametrize(("override", "field"), CASES)
def test_bad_request_names_the_field_and_creates_nothing(alice, alice_profile, override, field):
    with pytest.raises(ValidationException) as e:
        create_training_job(alice, alice_profile.domain.domain_id, request("job-1", **override))
    assert e.value.field == field, e.value.message
    assert not TrainingJob.objects.exists()


def builtin(name: str, algorithm: str, hyperparameters: dict[str, str]) -> dict:
    return request(
        name,
        AlgorithmSpecification={"AlgorithmName": algorithm},
        HyperParameters=hyperparameters,
    )


# Refused as SageMaker refuses a built-in's hyperparameters at CreateTrainingJob: the
# hyperparameter named, the rule in words.
REFUSED_HYPERPARAMETERS = [
    (
        "linear-learner",
        {"predictor_type": "binary_classifier", "num_classes": "abc"},
        "HyperParameters.num_classes must be an integer of at least 3, not 'abc'.",
    ),
    (
        "linear-learner",
        {"predictor_type": "banana"},
        "HyperParameters.predictor_type must be one of binary_classifier, "
        "multiclass_classifier, regressor, not 'banana'.",
    ),
    (
        "knn",
        {"k": "5"},
        "HyperParameters.predictor_type is required for knn: one of classifier, regressor.",
    ),
    (
        "xgboost",
        {"num_round": "10", "eta": "1.5"},
        "HyperParameters.eta must be a number greater than 0 and at most 1, not '1.5'.",
    ),
    (
        "xgboost",
        {"num_round": "10", "objective": "reg:squarederror", "eval_metric": "auc"},
        "HyperParameters.eval_metric must be one or more of rmse, mse, mae (those of objective "
        "reg:squarederror), comma-separated or a JSON list, not 'auc'.",
    ),
    (
        "kmeans",
        {"k": "0"},
        "HyperParameters.k must be an integer of at least 1, not '0'.",
    ),
    (
        "pca",
        {"num_components": "2", "n_components": "2"},
        "HyperParameters.n_components is not a hyperparameter of pca; it takes num_components, "
        "algorithm_mode, subtract_mean, feature_dim.",
    ),
    (
        "randomcutforest",
        {"num_trees": "many"},
        "HyperParameters.num_trees must be an integer of at least 1, not 'many'.",
    ),
    # Stopping early watches a validation channel the request (only `train`) lacks.
    (
        "xgboost",
        {"num_round": "10", "early_stopping_rounds": "3"},
        "HyperParameters.early_stopping_rounds needs a 'validation' channel in InputDataConfig, "
        "which xgboost watches to decide when to stop: add the channel or remove "
        "early_stopping_rounds.",
    ),
]


@pytest.mark.parametrize(("algorithm", "hyperparameters", "message"), REFUSED_HYPERPARAMETERS)
def test_a_builtins_bad_hyperparameter_is_refused_in_words_before_anything_is_created(
    alice, alice_profile, algorithm, hyperparameters, message
):
    domain_id = alice_profile.domain.domain_id
    with pytest.raises(ValidationException) as e:
        create_training_job(alice, domain_id, builtin("hp-job", algorithm, hyperparameters))
    assert e.value.message == message
    assert e.value.field == message.split()[0]
    assert not TrainingJob.objects.exists()  # the name is not used up


# What each built-in algorithm takes, as its own tests in the image train with, plus
# SageMaker's settings without effect here and the names tuning jobs and the SDK add.
VALID_HYPERPARAMETERS = {
    "linear-learner": {
        "predictor_type": "multiclass_classifier",
        "num_classes": "3",
        "epochs": "5",
        "learning_rate": "auto",
        "use_bias": "false",
        "mini_batch_size": "100",
    },
    "xgboost": {
        "num_round": "8",
        "objective": "binary:logistic",
        "eta": "0.3",
        "max_depth": "3",
        "eval_metric": "auc,logloss",
        "subsample": "0.8",
    },
    "kmeans": {"k": "3", "feature_dim": "auto", "eval_metrics": '["msd", "ssd"]'},
    "pca": {"num_components": "2", "algorithm_mode": "randomized", "subtract_mean": "True"},
    "knn": {"k": "5", "predictor_type": "regressor", "index_metric": "COSINE"},
    "randomcutforest": {
        "num_trees": "50",
        "num_samples_per_tree": "128",
        "_tuning_objective_metric": "test:f1",
        "sagemaker_container_log_level": "20",
    },
}


@pytest.mark.parametrize("algorithm", VALID_HYPERPARAMETERS)
def test_each_builtins_valid_hyperparameters_are_accepted(algorithm):
    spec = builtin("ok", algorithm, VALID_HYPERPARAMETERS[algorithm])
    validated = validate_training_request(spec)
    assert validated["HyperParameters"] == VALID_HYPERPARAMETERS[algorithm]


def test_early_stopping_with_a_validation_channel_is_accepted():
    hyperparameters = {"num_round": "10", "early_stopping_rounds": "3"}
    spec = builtin("ok", "xgboost", hyperparameters)
    spec["InputDataConfig"] = [channel("train"), channel("validation")]
    assert validate_training_request(spec)["HyperParameters"] == hyperparameters


def test_boto3_gets_a_validation_exception_naming_the_hyperparameter(
    asgi_server, alice, alice_profile
):
    key, secret = create_access_key(alice, alice_profile.domain.domain_id, alice_profile.name)
    client = sagemaker(asgi_server, key.access_key_id, secret)
    boto3_sends = {"RoleArn": "arn:aws:iam::000000000000:role/SageMakerExecution"}
    bad = builtin("boto-hp", "linear-learner", {"predictor_type": "banana"})
    bad["AlgorithmSpecification"]["TrainingInputMode"] = "File"
    with pytest.raises(ClientError) as refused:
        client.create_training_job(**bad, **boto3_sends)
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "HyperParameters.predictor_type must be one of binary_classifier" in error["Message"]
    assert not TrainingJob.objects.exists()
    # The name was not used up.
    good = builtin("boto-hp", "linear-learner", {"predictor_type": "binary_classifier"})
    good["AlgorithmSpecification"]["TrainingInputMode"] = "File"
    client.create_training_job(**good, **boto3_sends)
    described = client.describe_training_job(TrainingJobName="boto-hp")
    assert described["HyperParameters"] == {"predictor_type": "binary_classifier"}


def test_a_duplicate_name_is_in_use(alice, alice_profile):
    create_training_job(alice, alice_profile.domain.domain_id, request("twice"))
    with pytest.raises(ResourceInUse, match="twice already exists"):
        create_training_job(alice, alice_profile.domain.domain_id, request("twice"))
    assert TrainingJob.objects.count() == 1


def test_a_name_another_domain_uses_is_free_and_each_arn_carries_its_domains_account(
    alice, alice_profile, carol, make_domain, make_profile
):
    other = make_domain("other")
    make_profile(other, carol)
    theirs = create_training_job(carol, other.domain_id, request("same"))
    ours = create_training_job(alice, alice_profile.domain.domain_id, request("same"))
    assert ours.pk != theirs.pk
    assert ours.arn.split(":")[4] == alice_profile.domain.account_id
    assert theirs.arn.split(":")[4] == other.account_id != alice_profile.domain.account_id
    assert describe_training_job(alice, alice_profile.domain.domain_id, "same") == ours


def test_instance_quota_refuses_before_anything_starts(root, alice, alice_profile):
    from domains.services import create_policy, update_user_profile

    domain_id = alice_profile.domain.domain_id
    create_policy(
        root,
        domain_id,
        name="Tiny",
        allow=["sagemaker:*"],
        max_instances_per_type={"ml.m5.large": 1},
    )
    update_user_profile(root, domain_id, "alice", policies=["Tiny"])
    spec = request("big", ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 2})
    with pytest.raises(ResourceLimitExceeded, match=r"'Tiny' allows at most 1 ml\.m5\.large"):
        create_training_job(alice, domain_id, spec)
    assert not TrainingJob.objects.exists()


def test_a_denied_profile_cannot_train(root, alice, alice_profile):
    from domains.services import update_policy

    update_policy(
        root, alice_profile.domain.domain_id, "DataScientist", deny=["sagemaker:CreateTrainingJob"]
    )
    with pytest.raises(AccessDenied, match="explicitly denies sagemaker:CreateTrainingJob"):
        create_training_job(alice, alice_profile.domain.domain_id, request("denied"))
    assert not TrainingJob.objects.exists()


def test_bob_can_read_but_not_stop_alices_job(alice, alice_profile, bob, bob_profile):
    domain_id = alice_profile.domain.domain_id
    create_training_job(alice, domain_id, request("alices"))
    assert describe_training_job(bob, domain_id, "alices").profile == alice_profile
    with pytest.raises(AccessDenied, match="belongs to another user profile"):
        stop_training_job(bob, domain_id, "alices")


def test_outsiders_do_not_see_the_job(alice, alice_profile, carol, make_domain, make_profile):
    other = make_domain("other")
    make_profile(other, carol)
    create_training_job(alice, alice_profile.domain.domain_id, request("private"))
    with pytest.raises(ResourceNotFound):
        describe_training_job(carol, alice_profile.domain.domain_id, "private")
    with pytest.raises(ResourceNotFound, match="Training job private does not exist"):
        describe_training_job(carol, other.domain_id, "private")
    with pytest.raises(ResourceNotFound):
        list_training_jobs(carol, alice_profile.domain.domain_id)
