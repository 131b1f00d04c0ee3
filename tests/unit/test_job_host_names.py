"""What keeps two domains' same-named jobs apart on the host: container names (also their
hostnames, which Linux caps at 64 bytes), labels and job directories carry the domain."""

import re
from types import SimpleNamespace

import pytest

from jobs.execution import LABEL_DOMAIN, MAX_CONTAINER_NAME, container_name, job_labels
from jobs.processing.workspace import job_dir as processing_dir
from jobs.training.workspace import job_dir as training_dir
from studio.core.errors import ValidationException

LONGEST = "n" * 63  # SageMaker's longest job name


def job(domain_id: str, name: str) -> SimpleNamespace:
    return SimpleNamespace(
        RESOURCE_TYPE="TrainingJob", name=name, domain=SimpleNamespace(domain_id=domain_id)
    )


def test_a_short_container_name_reads_as_deployment_kind_domain_name_and_host(settings):
    settings.STUDIO_REDIS_PREFIX = "studio"
    name = container_name("train", job("d-abc123def456", "churn"), "algo-1", "a1")
    assert name == "studio-train-d-abc123def456-churn-algo-1-a1"


def test_same_named_jobs_of_two_domains_get_different_container_names():
    names = {
        container_name("train", job(domain, name), "algo-1", "a1")
        for domain in ("d-aaaaaaaaaaaa", "d-bbbbbbbbbbbb")
        for name in ("churn", LONGEST)
    }
    assert len(names) == 4


@pytest.mark.parametrize("prefix", ["studio", "studio-test-" + "p" * 30])
def test_a_long_name_is_cut_to_the_hostname_limit_and_stays_unique(settings, prefix):
    settings.STUDIO_REDIS_PREFIX = prefix
    first = container_name("train", job("d-aaaaaaaaaaaa", LONGEST), "algo-12", "a3")
    second = container_name("train", job("d-aaaaaaaaaaaa", LONGEST[:-1] + "m"), "algo-12", "a3")
    for name in (first, second):
        assert len(name) <= MAX_CONTAINER_NAME
        assert re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", name)  # Docker's rule for names
        assert name.endswith("-algo-12-a3")
    assert first != second


def test_a_jobs_labels_name_its_domain():
    labels = job_labels(job("d-aaaaaaaaaaaa", "churn"), "algo-1")
    assert labels[LABEL_DOMAIN] == "d-aaaaaaaaaaaa"


@pytest.mark.parametrize("job_dir", [training_dir, processing_dir])
def test_job_directories_sit_below_their_domain(settings, tmp_path, job_dir):
    settings.DATA_DIR = str(tmp_path)
    ours, theirs = job_dir("d-aaaaaaaaaaaa", "churn"), job_dir("d-bbbbbbbbbbbb", "churn")
    assert ours != theirs
    assert ours.parent.name == "d-aaaaaaaaaaaa" and ours.name == "churn"
    assert ours.is_relative_to(tmp_path / "jobs")
    with pytest.raises(ValidationException):
        job_dir("..", "churn")


def test_an_endpoint_instance_named_as_the_sdk_names_fits_the_hostname_limit(settings):
    from domains.models import Domain
    from jobs.models import Endpoint, EndpointInstance

    settings.STUDIO_REDIS_PREFIX = "studio-test-main-23045"
    endpoint = Endpoint(
        name="sdk-sklearn-2026-11-28-11-20-29-701", domain=Domain(domain_id="d-abc123def456")
    )
    names = {EndpointInstance(pk=pk, endpoint=endpoint).container_name for pk in (1, 2)}
    assert len(names) == 2
    assert all(len(name) <= MAX_CONTAINER_NAME for name in names)
