"""Datasets through the dashboard and the services, against the real database and store:
uploads (streamed, checked, limited), the dataset page, downloads, who may see and change what."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from domains.services import create_policy, update_user_profile
from jobs.models import Dataset
from jobs.services import describe_dataset, register_dataset, upload_dataset
from studio.core import storage
from studio.core.errors import ResourceInUse, ValidationException
from tests.integration.conftest import put
from tests.integration.job_pages import field_error

DATASETS = reverse("dashboard:datasets")
IRIS = b"sepal_length,sepal_width,species\n5.1,3.5,setosa\n4.9,3.0,setosa\n6.3,3.3,virginica\n"


@pytest.fixture
def alice_client(client, alice, alice_profile):
    client.force_login(alice)
    return client


def upload(client, name: str, file_name: str, content: bytes, **headers):
    return client.post(
        DATASETS, {"name": name, "file": SimpleUploadedFile(file_name, content)}, **headers
    )


def page_of(dataset_or_domain, name: str | None = None) -> str:
    if name is None:
        return reverse(
            "dashboard:dataset", args=[dataset_or_domain.domain.domain_id, dataset_or_domain.name]
        )
    return reverse("dashboard:dataset", args=[dataset_or_domain.domain_id, name])


def stored_uploads() -> list:
    """Files half-written anywhere in the store: a failed upload must leave none."""
    root = storage.artifact_store().root
    return [p for p in root.rglob("*") if p.name.endswith(".part")] if root.exists() else []


def test_upload_creates_the_dataset_with_its_preview(alice_client, alice_profile, domain):
    response = upload(alice_client, "iris", "Iris Data.csv", IRIS)
    dataset = Dataset.objects.get(domain=domain, name="iris")
    assert response.status_code == 302
    assert response["Location"] == page_of(dataset)
    assert dataset.owner == alice_profile
    assert dataset.format == "csv"
    assert dataset.s3_uri == f"s3://studio-{domain.domain_id}/datasets/iris/Iris-Data.csv"
    assert storage.artifact_store().path(dataset.s3_uri).read_bytes() == IRIS
    assert dataset.size_bytes == len(IRIS)
    assert dataset.row_count == 3
    assert dataset.has_header
    assert dataset.columns == [
        {"name": "sepal_length", "type": "float"},
        {"name": "sepal_width", "type": "float"},
        {"name": "species", "type": "string"},
    ]
    assert dataset.preview[2] == ["6.3", "3.3", "virginica"]

    html = alice_client.get(page_of(dataset)).content.decode()
    assert dataset.s3_uri in html
    assert "virginica" in html
    assert 'data-type="float"' in html
    download = reverse(
        "dashboard:dataset_download", args=[domain.domain_id, "iris", "Iris-Data.csv"]
    )
    assert download in html
    listing = alice_client.get(DATASETS).content.decode()
    assert page_of(dataset) in listing
    assert "sepal_length" in listing


def test_the_page_script_gets_json(alice_client, domain):
    response = upload(
        alice_client, "train", "train.csv", b"1,2\n0,3\n", HTTP_X_REQUESTED_WITH="XMLHttpRequest"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["url"] == page_of(domain, "train")
    assert body["s3_uri"].endswith("/datasets/train/train.csv")

    refused = upload(
        alice_client, "bad", "bad.csv", b"a,b\n1\n", HTTP_X_REQUESTED_WITH="XMLHttpRequest"
    )
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "bad.csv is not a CSV file: line 2 has 1 fields, but line 1 has 2.",
        "field": "file",
    }


def test_a_parquet_upload(alice_client, domain):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"label": [0, 1, 1], "x": [0.5, 1.5, 2.5]}), buffer)
    assert upload(alice_client, "pq", "t.parquet", buffer.getvalue()).status_code == 302
    dataset = Dataset.objects.get(name="pq")
    assert dataset.format == "parquet"
    assert dataset.row_count == 3
    assert [c["type"] for c in dataset.columns] == ["int", "float"]
    assert dataset.preview[1] == [1, 1.5]


@pytest.mark.parametrize(
    ("file_name", "content", "message"),
    [
        ("data.csv", b"PAR1\x00\x00\x00\x00PAR1", "data.csv is not a CSV file: it is a Parquet"),
        ("data.csv", bytes(range(256)), "data.csv is not a CSV file: line 1 contains a NUL byte"),
        ("data.csv", b"a,b\n1,2\n3,4,5\n", "data.csv is not a CSV file: line 3 has 3 fields"),
        ("data.csv", b"", "data.csv is not a CSV file: it is empty"),
        ("data.parquet", b"a,b\n1,2\n", "data.parquet is not a Parquet file"),
        ("data.xlsx", b"PK\x03\x04", "'data.xlsx' must be a .csv or .parquet file"),
    ],
)
def test_a_file_that_is_not_what_it_says_is_refused_on_the_page(
    alice_client, domain, file_name, content, message
):
    response = upload(alice_client, "bad", file_name, content)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html.replace("&#x27;", "'")
    assert '<p class="field-error" id="file-error">' in html  # shown at the file, not hidden
    assert not Dataset.objects.exists()
    assert (
        not storage.artifact_store().path(f"s3://studio-{domain.domain_id}/datasets/bad/").exists()
    )
    assert stored_uploads() == []


def test_an_upload_over_the_limit_is_refused(alice_client, domain, settings):
    settings.STUDIO_MAX_UPLOAD_BYTES = 100
    response = upload(alice_client, "big", "big.csv", b"1,2\n" * 100)
    assert response.status_code == 400
    assert "big.csv is larger than the upload limit of 100 bytes." in response.content.decode()
    assert not Dataset.objects.exists()
    assert stored_uploads() == []
    # At the limit is fine.
    assert upload(alice_client, "small", "small.csv", b"1,2\n" * 25).status_code == 302


def test_the_service_enforces_the_limit_too(alice, alice_profile, domain, settings):
    settings.STUDIO_MAX_UPLOAD_BYTES = 10
    with pytest.raises(ValidationException, match="upload limit of 10 bytes"):
        upload_dataset(
            alice,
            domain.domain_id,
            name="x",
            uploaded_file=SimpleUploadedFile("x.csv", b"1,2\n3,4\n5,6\n"),
        )
    assert stored_uploads() == []


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", "This field is required."),
        ("no spaces", "Use only letters, digits and hyphens"),
        ("-x", "begin and end with a letter or digit, at most 63 characters."),
        ("a" * 64, "Use at most 63 characters."),
    ],
)
def test_bad_names_are_refused_at_the_name_in_words(alice_client, name, words):
    response = upload(alice_client, name, "d.csv", b"1,2\n")
    assert response.status_code == 400
    html = response.content.decode()
    assert words in field_error(html, "name")
    assert 'id="dataset-name" name="name" value="' + escape(name) + '"' in html  # kept
    assert 'aria-describedby="dataset-name-help name-error" aria-invalid="true"' in html
    assert "regular expression" not in html and "DatasetName" not in html
    assert 'id="upload-error" role="alert" hidden' in html  # no banner
    assert not Dataset.objects.exists()


def test_no_file_is_refused_cleanly(alice_client):
    response = alice_client.post(DATASETS, {"name": "nothing"})
    assert response.status_code == 400
    assert "Choose a .csv or .parquet file" in response.content.decode()


def test_a_name_is_unique_in_its_domain(alice_client, domain):
    assert upload(alice_client, "iris", "iris.csv", IRIS).status_code == 302
    response = upload(alice_client, "iris", "other.csv", b"1,2\n")
    assert response.status_code == 400
    assert f"Dataset iris already exists in domain {domain.domain_id}." in response.content.decode()
    dataset = Dataset.objects.get()
    assert storage.artifact_store().path(dataset.s3_uri).read_bytes() == IRIS
    assert stored_uploads() == []


def test_members_see_each_others_datasets_other_domains_do_not(
    client,
    alice_client,
    domain,
    bob,
    bob_profile,
    carol,
    make_domain,
    make_profile,
):
    upload(alice_client, "iris", "iris.csv", IRIS)
    dataset = Dataset.objects.get()
    page = page_of(dataset)
    download = reverse("dashboard:dataset_download", args=[domain.domain_id, "iris", "iris.csv"])
    delete = reverse("dashboard:dataset_delete", args=[domain.domain_id, "iris"])

    client.force_login(bob)
    html = client.get(page).content.decode()
    assert "virginica" in html
    assert ">Delete</button>" not in html  # not bob's to delete
    assert client.get(download).status_code == 200
    client.post(delete)
    assert Dataset.objects.filter(pk=dataset.pk).exists()  # refused: it is alice's

    make_profile(make_domain("vision"), carol)
    client.force_login(carol)
    assert client.get(page).status_code == 404
    assert client.get(download).status_code == 404
    assert client.post(delete).status_code == 404
    assert "iris" not in client.get(DATASETS).content.decode()
    assert Dataset.objects.filter(pk=dataset.pk).exists()


def test_download_streams_the_file(alice_client, domain):
    content = IRIS + b"".join(b"%d,%d,x\n" % (i, i) for i in range(50_000))
    upload(alice_client, "big", "big.csv", content)
    response = alice_client.get(
        reverse("dashboard:dataset_download", args=[domain.domain_id, "big", "big.csv"])
    )
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="big.csv"'
    assert b"".join(response.streaming_content) == content
    missing = reverse("dashboard:dataset_download", args=[domain.domain_id, "big", "../x.csv"])
    assert alice_client.get(missing).status_code == 404


def test_the_owner_deletes_the_dataset_and_its_files(alice_client, domain):
    upload(alice_client, "iris", "iris.csv", IRIS)
    folder = storage.artifact_store().path(f"s3://studio-{domain.domain_id}/datasets/iris/")
    assert folder.is_dir()
    html = alice_client.get(page_of(domain, "iris")).content.decode()
    assert ">Delete</button>" in html
    response = alice_client.post(
        reverse("dashboard:dataset_delete", args=[domain.domain_id, "iris"])
    )
    assert response.status_code == 302
    assert not Dataset.objects.exists()
    assert not folder.exists()
    assert "Dataset iris was deleted." in alice_client.get(DATASETS).content.decode()
    # The name is free again.
    assert upload(alice_client, "iris", "iris.csv", IRIS).status_code == 302


def test_a_policy_can_deny_uploads(alice_client, alice_profile, root, domain):
    create_policy(
        root, domain.domain_id, name="ReadOnly", allow=["studio:List*", "studio:Describe*"]
    )
    update_user_profile(root, domain.domain_id, alice_profile.name, policies=["ReadOnly"])
    response = upload(alice_client, "iris", "iris.csv", IRIS)
    assert response.status_code == 403
    assert "not authorized to perform studio:UploadDataset" in response.content.decode()
    assert not Dataset.objects.exists()
    assert stored_uploads() == []


def test_processing_output_registers_in_place(alice_profile, alice, domain):
    prefix = f"s3://studio-{domain.domain_id}/processing/job-1/output/train/"
    put(prefix + "part-0.csv", "1,0.5\n0,1.5\n")
    put(prefix + "part-1.csv", "1,2.5\n")
    put(prefix + "_SUCCESS", "")
    dataset = register_dataset(alice_profile, domain, "prepared", prefix)
    assert dataset.s3_uri == prefix
    assert dataset.row_count == 3
    assert [c["type"] for c in dataset.columns] == ["int", "float"]
    assert describe_dataset(alice, domain.domain_id, "prepared") == dataset
    with pytest.raises(ResourceInUse):
        register_dataset(alice_profile, domain, "prepared", prefix)

    from jobs.services import delete_dataset

    delete_dataset(alice, domain.domain_id, "prepared")
    # The job's output is the job's: deleting the dataset leaves it.
    assert storage.artifact_store().exists(prefix + "part-0.csv")


def test_a_taken_name_is_refused_at_the_name_and_a_bad_file_at_the_file(alice_client, domain):
    assert upload(alice_client, "iris", "iris.csv", IRIS).status_code == 302
    html = upload(alice_client, "iris", "other.csv", b"1,2\n").content.decode()
    assert f"Dataset iris already exists in domain {domain.domain_id}." in field_error(html, "name")
    assert 'id="upload-error" role="alert" hidden' in html  # no banner
    assert 'name="name" value="iris"' in html

    html = upload(alice_client, "sheet", "data.xlsx", b"PK\x03\x04").content.decode()
    assert "must be a .csv or .parquet file" in field_error(html, "file")
    assert 'aria-describedby="dataset-file-help file-error" aria-invalid="true"' in html
    assert 'name="name" value="sheet"' in html  # kept
    # The page's script is told which field too.
    refused = upload(
        alice_client, "iris", "again.csv", b"1,2\n", HTTP_X_REQUESTED_WITH="XMLHttpRequest"
    )
    assert refused.json()["field"] == "name"
    assert Dataset.objects.count() == 1
