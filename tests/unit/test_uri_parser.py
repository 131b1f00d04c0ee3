"""One parser for every URI a request names: what it takes, how it normalises, what it refuses
(with the field and the rule), and that the access check and the store read a value alike."""

from pathlib import Path

import pytest

from studio.core import storage
from studio.core.errors import AccessDenied, ResourceNotFound, ValidationException
from studio.core.storage import ParsedUri, check_access, check_request_uris, parse_uri

OWN = "d-own"
FIELD = "InputDataConfig[0].DataSource.S3DataSource.S3Uri"


@pytest.mark.parametrize(
    ("uri", "parsed"),
    [
        ("s3://bucket/key.csv", ParsedUri("s3", "bucket", "key.csv")),
        ("s3://bucket/data/", ParsedUri("s3", "bucket", "data/")),
        ("s3://bucket", ParsedUri("s3", "bucket", "")),
        ("s3://bucket/", ParsedUri("s3", "bucket", "")),
        ("S3://bucket/x", ParsedUri("s3", "bucket", "x")),
        ("  s3://bucket/x\t\n", ParsedUri("s3", "bucket", "x")),
        ('"s3://bucket/code.tar.gz"', ParsedUri("s3", "bucket", "code.tar.gz")),
        ('" S3://bucket/x "', ParsedUri("s3", "bucket", "x")),
        ("s3://my.bucket-1/a b/%2e%2e", ParsedUri("s3", "my.bucket-1", "a b/%2e%2e")),
        ("FILE:///srv/data", ParsedUri("file", "", "/srv/data")),
        # JSON-encoded as the SDK sends hyperparameters: decoded once, as the container does.
        ('"\\ts3://bucket/x"', ParsedUri("s3", "bucket", "x")),
        ('"\\u0053\\u0033://bucket/x"', ParsedUri("s3", "bucket", "x")),
    ],
)
def test_what_the_parser_takes_and_how_it_normalises(uri, parsed):
    assert parse_uri(uri, FIELD) == parsed


@pytest.mark.parametrize(
    ("uri", "rule"),
    [
        ("s3://bucket/a/../b", "'..'"),
        ("s3://bucket/../studio-d-other/x", "'..'"),
        ("s3://bucket/./x", "'.'"),
        ("s3://bucket//x", "empty"),
        ("s3://bucket/a//b", "empty"),
        ("s3://bucket/a\x00b", "control characters"),
        ("s3://bucket/a\nb", "control characters"),
        ("s3://bucket/a\\..\\b", "backslashes"),
        ('"s3://bucket/x\\u0000"', "control characters"),
        ('"s3://bucket/a\\\\..\\\\b"', "backslashes"),
        ('"s3://bucket/a"b"', "double quotes"),
        ('s3://bucket/a"b', "double quotes"),
        ("s3://bucket/x?versionId=1", "query or fragment"),
        ("s3://bucket/x#frag", "query or fragment"),
        ("s3://user@bucket/x", "bucket"),
        ("s3://bucket:1/x", "bucket"),
        ("s3://user@bucket:1/x", "bucket"),
        ("s3://STUDIO-d-other/x", "bucket"),
        ("s3://studio-d-other./x", "bucket"),
        ("s3://studio-%3Cother%3E/x", "bucket"),
        ("s3://a..b/x", "bucket"),
        ("s3:///x", "bucket"),
        ("s3:studio-d-other/x", "s3://bucket/key"),
        ("https://bucket.s3.amazonaws.com/x", "s3://bucket/key"),
        ("bucket/x", "s3://bucket/key"),
        ('""s3://bucket/x""', "double quotes"),
        ("file://host/etc", "without a host"),
        ("s3://bucket/" + "k" * 256, "255 bytes"),
        ("s3://bucket/" + "k/" * 600, "1024 bytes"),
    ],
)
def test_what_the_parser_refuses_names_the_field_and_the_rule(uri, rule):
    with pytest.raises(ValidationException) as refused:
        parse_uri(uri, FIELD)
    assert refused.value.field == FIELD
    assert refused.value.message.startswith(FIELD)
    assert rule in refused.value.message


def test_a_value_that_is_not_a_string_is_refused():
    with pytest.raises(ValidationException, match="string"):
        parse_uri(["s3://bucket/x"], FIELD)


@pytest.mark.parametrize(
    "uri",
    [
        "s3://studio-d-other/x",
        "S3://studio-d-other/x",
        " s3://studio-d-other/x",
        '"s3://studio-d-other/x"',
        "s3://studio/x",
        "s3://studio-platform/x",
        "s3://studio.d-own/x",
    ],
)
def test_another_domains_and_the_platforms_buckets_are_reserved(uri):
    with pytest.raises(AccessDenied, match=r"InputDataConfig\[0\]"):
        check_access(uri, OWN, FIELD)


@pytest.mark.django_db  # who owns a shared-looking name is a row, or none
@pytest.mark.parametrize(
    "uri", ["s3://studio-d-own/x", "S3://studio-d-own/x", "s3://studios/x", "s3://my-studio/x"]
)
def test_the_own_domains_and_shared_buckets_are_not(uri):
    assert check_access(uri, OWN, FIELD).scheme == "s3"


@pytest.mark.parametrize(
    "value",
    [
        "FILE:///etc",
        " file:///etc",
        "\tfile:///etc",
        '" file:///etc"',
        '"FILE:///etc"',
        "File:///etc",
    ],
)
def test_host_files_in_any_spelling_are_refused_by_the_check_and_by_the_store(value, settings):
    settings.STUDIO_ALLOW_FILE_URIS = False
    request = {"HyperParameters": {"sagemaker_submit_directory": value}}
    with pytest.raises(ValidationException, match="STUDIO_ALLOW_FILE_URIS") as refused:
        check_request_uris(request, OWN)
    assert refused.value.field == "HyperParameters.sagemaker_submit_directory"
    with pytest.raises(ValidationException, match="STUDIO_ALLOW_FILE_URIS"):
        storage.artifact_store().path(value, "HyperParameters.sagemaker_submit_directory")


@pytest.mark.parametrize(
    "value",
    [
        "S3://studio-d-other/code.tar.gz",
        " s3://studio-d-other/code.tar.gz",
        '"S3://studio-d-other/code.tar.gz"',
        "s3:studio-d-other/code.tar.gz",
        "s3://STUDIO-D-OTHER/code.tar.gz",
        # A reader that strips quotes itself (`.strip('"')`) would take these: checked too.
        '"" S3://studio-d-other/code.tar.gz ""',
        '""s3://studio-d-other/code.tar.gz',
    ],
)
def test_every_spelling_a_reader_would_take_is_checked(value):
    """Whatever the check lets through, the store reads identically; whatever the store would
    read, the check has looked at (refused here, whether as malformed or as another domain's)."""
    with pytest.raises((AccessDenied, ValidationException)):
        check_request_uris({"HyperParameters": {"sagemaker_submit_directory": value}}, OWN)


def test_values_that_name_no_uri_are_left_alone():
    check_request_uris({"HyperParameters": {"note": "see s3 docs", "url": "https://x/y"}}, OWN)


def test_the_store_reads_a_uri_exactly_as_the_check_did(settings, tmp_path):
    settings.DATA_DIR = str(tmp_path)
    value = '" S3://studio-d-own/code/sourcedir.tar.gz "'
    parsed = check_access(value, OWN, FIELD)
    assert storage.artifact_store().path(value, FIELD) == (
        Path(tmp_path) / "artifacts" / parsed.bucket / "code" / "sourcedir.tar.gz"
    )
    assert storage.join(value, "a", "b.csv") == "s3://studio-d-own/code/sourcedir.tar.gz/a/b.csv"


def test_join_refuses_parts_that_break_a_key_rule():
    with pytest.raises(ValidationException, match=r"'\.\.'"):
        storage.join("s3://bucket/out", "..", "x")


def test_the_store_lists_no_links(settings, tmp_path):
    settings.DATA_DIR = str(tmp_path)
    folder = storage.artifact_store().path("s3://bucket/data/")
    folder.mkdir(parents=True)
    (folder / "real.csv").write_text("1\n")
    secret = tmp_path / "secret"
    secret.write_text("canary")
    (folder / "link.csv").symlink_to(secret)
    (folder / "dir").symlink_to(tmp_path)
    store = storage.artifact_store()
    assert [stored.name for stored in store.list("s3://bucket/data/")] == ["real.csv"]
    assert store.list("s3://bucket/data/link.csv") == []
    with pytest.raises(ResourceNotFound):
        store.open("s3://bucket/data/link.csv")
