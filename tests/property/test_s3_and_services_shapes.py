"""The other services Studio speaks, sent what hypothesis draws, signed with a real key as each
service signs: S3 (methods, paths, query strings, headers and bodies), STS (actions and their
parameters) and CloudWatch Logs (every operation of botocore's model, bodies from its shapes and
broken). No answer is a 5xx (but S3's NotImplemented), every error is the service's own shape,
an error changes nothing, and another domain's rows and objects never change or show.

S3 goes over HTTP to a live server: it signs the path as sent, percent-encoded, which Django's
test client would decode first. STS and Logs go through the test client.
"""

import io
import os
import secrets
from pathlib import Path
from urllib.parse import quote, urlencode

from botocore.loaders import Loader
from hypothesis import given
from hypothesis import strategies as st

from tests.property.bodies import GARBAGE_STRINGS, RAW_BODIES, Bodies, mutated
from tests.property.checks import bounded, json_error, unchanged_on_error, xml_error
from tests.property.signing import presign

EXAMPLES = int(os.environ.get("STUDIO_PROPERTY_EXAMPLES", "40"))
S3_EXAMPLES = EXAMPLES * 5  # one test for the whole of S3's surface

# -- S3 ------------------------------------------------------------------------------------------

SUBRESOURCES = [
    "uploads", "uploadId", "partNumber", "list-type", "prefix", "delimiter",
    "continuation-token", "start-after", "max-keys", "marker", "location", "delete", "acl",
    "versioning", "tagging", "x-id", "encoding-type", "fetch-owner", "max-parts",
    "part-number-marker", "max-uploads", "key-marker", "upload-id-marker",
    "response-content-type", "response-content-disposition", "versionId", "attributes",
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Signature", "AWSAccessKeyId", "Expires", "Signature",
]  # fmt: skip
PRESIGNED_PARAMETERS = [
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Signature", "AWSAccessKeyId", "Expires", "Signature",
]  # fmt: skip
# Without these a URL no longer says it is for S3 (its credential scope, or SigV2's three
# parameters): it is then the dashboard's, not S3's, to answer.
ROUTING = {"X-Amz-Credential", "AWSAccessKeyId", "Expires", "Signature"}
DROPPABLE = [p for p in PRESIGNED_PARAMETERS if p not in ROUTING]
REPLACEABLE = [p for p in PRESIGNED_PARAMETERS if p != "X-Amz-Credential"]
QUERY_VALUES = [
    "", "2", "1", "0", "-1", "1000", "10001", "99999999999999999999", "abc", "/", "../",
    "%00", "%zz", "%c3%28", "AWS4-HMAC-SHA256", "20200101T000000Z",
    "SKIANOSUCHKEY0000000/20200101/us-east-1/s3/aws4_request", "host", "0" * 64, "x" * 2000,
]  # fmt: skip
KEYS = [
    "data/train.csv", "private/secret.csv", "k", "dir/", "../x", "a/../../b", "..", ".",
    "a//b", "é/ü", "😀", "\x00", "x" * 1100, "%2F", " space ", "a\\b", "CON", "~", "?", "#",
]  # fmt: skip
# Segments sent exactly as written: encodings S3 must refuse or read once, never twice.
RAW_SEGMENTS = ["%2e%2e", "%2e%2e%2f%2e%2e", "%00", "%zz", "%c3%28", "%ff", "..%2f..", "%25"]
XML_BODIES = [
    b"<Delete><Object><Key>data/train.csv</Key></Object></Delete>",
    b"<Delete><Object><Key>../../private/secret.csv</Key></Object><Quiet>true</Quiet></Delete>",
    b"<Delete>" + b"<Object><Key>k</Key></Object>" * 1001 + b"</Delete>",
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b"<Delete><Object><Key>&e;</Key></Object></Delete>",
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;'
    b'&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><Delete><Object><Key>&c;'
    b"</Key></Object></Delete>",
    b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part>"
    b"</CompleteMultipartUpload>",
    b"<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber></Part></CompleteMultipartUpload>",
    b"<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint>"
    b"</CreateBucketConfiguration>",
    b"<Delete><Object><Key>",
    b"5;chunk-signature="
    + b"0" * 64
    + b"\r\nhello\r\n0;chunk-signature="
    + b"0" * 64
    + b"\r\n\r\n",
    b"zz;chunk-signature=x\r\n",
]
PAYLOAD_MODES = [
    None,  # the body's own hash, as boto3 signs
    "UNSIGNED-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "0" * 64,
    "not-a-hash",
]


def _header_values(targets) -> dict[str, list[str]]:
    theirs = f"/{targets.other_bucket}/private/secret.csv"
    return {
        "Range": ["bytes=0-1", "bytes=-0", "bytes=5-1", "bytes=abc", "bytes=0-1,3-4",
                  "bytes=99999999999999999999-", "bytes=-99999999999", "items=0-1"],
        "If-Match": ["*", '"x"', "", "W/\"x\""],
        "If-None-Match": ["*", '"x"'],
        "If-Modified-Since": ["Wed, 21 Oct 2015 07:28:00 GMT", "yesterday", "0"],
        "If-Unmodified-Since": ["Wed, 21 Oct 2015 07:28:00 GMT", "9999999999999"],
        "x-amz-copy-source": [theirs, quote(theirs), f"/{targets.own_bucket}/data/train.csv",
                              f"/{targets.own_bucket}/../{targets.other_bucket}/private/secret.csv",
                              "/", "", "nobucket", "/%00/x", f"{theirs}?versionId=1"],
        "x-amz-copy-source-range": ["bytes=0-1", "bytes=a-b"],
        "x-amz-metadata-directive": ["COPY", "REPLACE", "ELSE"],
        "Content-MD5": ["", "not base64", "1B2M2Y8AsgTpgAmY7PhCfg=="],
        "x-amz-checksum-crc32": ["AAAAAA==", "garbage"],
        "x-amz-checksum-sha256": ["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "x"],
        "x-amz-sdk-checksum-algorithm": ["CRC32", "SHA256", "MD5", "NONE"],
        "x-amz-trailer": ["x-amz-checksum-crc32", "x-amz-checksum-nope", ""],
        "x-amz-decoded-content-length": ["0", "-1", "abc", "99999999999999999999"],
        "Content-Encoding": ["aws-chunked", "gzip", "aws-chunked,gzip"],
        "x-amz-meta-note": ["é", "x" * 3000, ""],
        "x-amz-storage-class": ["STANDARD", "GLACIER", "NOPE"],
        "x-amz-acl": ["public-read", "private", "nope"],
        "Content-Type": ["text/csv", "application/xml", "", "multipart/form-data; boundary=x"],
        "x-amz-expected-bucket-owner": ["000000000000", targets.other_account, "abc"],
        "x-amz-bucket-region": ["eu-west-1"],
    }  # fmt: skip


def _header_value(text: str) -> bool:
    """What http.client can send as a header value (no line breaks, nothing below a space)."""
    return all(ch == "\t" or " " <= ch <= "\x7e" for ch in text)


@st.composite
def s3_requests(draw, targets, keys_of_theirs):
    """(what, method, path, query, headers, body, payload hash, unsigned) of one request."""
    method = draw(
        st.sampled_from(["GET", "HEAD", "PUT", "POST", "DELETE", "GET", "PUT", "OPTIONS"])
    )
    bucket = draw(
        st.one_of(
            st.sampled_from(
                [targets.own_bucket] * 4
                + [targets.other_bucket] * 2
                + ["no-such-bucket-zz", "", "..", "a", "A_B", "x" * 70, "my.bucket", "xn--a"]
            ),
            st.text(max_size=20),
        )
    )
    key = draw(st.one_of(st.sampled_from(["", *KEYS, *keys_of_theirs]), st.text(max_size=30)))
    path = "/" + quote(bucket, safe="") + ("/" + quote(key, safe="/~") if key else "")
    if draw(st.integers(0, 5)) == 0:
        path += "/" + draw(st.sampled_from(RAW_SEGMENTS))
    names = draw(st.lists(st.sampled_from(SUBRESOURCES), max_size=4, unique=True))
    pairs = []
    for name in names:
        value = draw(st.one_of(st.none(), st.sampled_from(QUERY_VALUES), st.text(max_size=20)))
        if value is None:
            pairs.append(name)
        elif value in QUERY_VALUES and value.startswith("%"):  # raw, as written
            pairs.append(f"{name}={value}")
        else:
            pairs.append(f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}")
    query = "&".join(pairs)
    pool = _header_values(targets)
    chosen = draw(st.lists(st.sampled_from(sorted(pool)), max_size=4, unique=True))
    headers = {}
    for name in chosen:
        value = draw(st.one_of(st.sampled_from(pool[name]), st.text(max_size=30)))
        if _header_value(value):
            headers[name] = value
    body = draw(
        st.one_of(
            st.just(b""),
            st.sampled_from(XML_BODIES),
            st.sampled_from(RAW_BODIES),
            st.binary(max_size=300),
        )
    )
    payload = draw(st.sampled_from(PAYLOAD_MODES))
    auth = draw(st.sampled_from(["header"] * 6 + ["v4", "v4", "v2"]))
    tamper = None
    if auth != "header":
        tamper = draw(
            st.one_of(
                st.none(),
                st.tuples(st.just("drop"), st.sampled_from(DROPPABLE)),
                st.tuples(st.just("key id"), st.sampled_from([v for v in QUERY_VALUES if v])),
                st.tuples(
                    st.just("replace"),
                    st.sampled_from(REPLACEABLE),
                    st.one_of(st.sampled_from(QUERY_VALUES), st.text(max_size=20)),
                ),
                st.just(("another key's signature",)),
            )
        )
    what = (
        f"S3 {method} {path[:200]}?{query[:200]} headers={headers} body={body[:200]!r} "
        f"payload={payload} auth={auth} tamper={tamper}"
    )
    return what, method, path, query, headers, body, payload, auth, tamper


# Without these a URL no longer says it is for S3 (its credential scope, or SigV2's three
# parameters): it is then the dashboard's, not S3's, to answer.
ROUTING = {"X-Amz-Credential", "AWSAccessKeyId", "Expires", "Signature"}
DROPPABLE = [p for p in PRESIGNED_PARAMETERS if p not in ROUTING]
REPLACEABLE = [p for p in PRESIGNED_PARAMETERS if p != "X-Amz-Credential"]


def presigned_target(tenant, method: str, path: str, query: str, auth: str, tamper) -> str:
    """The path and query of a URL presigned (SigV4 or SigV2) with alice's key, tampered."""
    url = tenant.base_url + path + (f"?{query}" if query else "")
    version = "v2" if auth == "v2" else "v4"
    signed = presign(method, url, tenant.key_id, tenant.secret, version=version)
    target = signed.removeprefix(tenant.base_url)
    if tamper is None:
        return target
    base, _, signed_query = target.partition("?")
    pairs = [pair.partition("=") for pair in signed_query.split("&")]
    if tamper[0] == "another key's signature":
        theirs = presign(method, url, tenant.other_key_id, tenant.other_secret, version=version)
        stolen = dict(p.partition("=")[::2] for p in theirs.partition("?")[2].split("&"))
        pairs = [
            (n, e, stolen[n]) if n in ("X-Amz-Signature", "Signature") else (n, e, v)
            for n, e, v in pairs
        ]
    elif tamper[0] == "key id":  # another key id in the same S3 scope
        key_id = quote(tamper[1], safe="")
        pairs = [
            (n, e, key_id + v[v.index("%2F") :] if n == "X-Amz-Credential" else v)
            for n, e, v in pairs
        ]
    elif tamper[0] == "drop":
        pairs = [(n, e, v) for n, e, v in pairs if n != tamper[1]]
    else:
        raw = tamper[2] in QUERY_VALUES and tamper[2].startswith("%")
        value = tamper[2] if raw else quote(tamper[2], safe="")
        pairs = [(n, e, value if n == tamper[1] else v) for n, e, v in pairs]
    return base + "?" + "&".join(n + e + v for n, e, v in pairs)


def test_s3_requests_never_fail_nor_change_state_on_error(live_tenant):
    from studio.core import storage

    t = live_tenant.targets
    canary = f"canary-theirs-{secrets.token_hex(12)}"
    store = storage.artifact_store()
    store.put(f"s3://{t.other_bucket}/private/secret.csv", io.BytesIO(canary.encode()))
    store.put(f"s3://{t.own_bucket}/data/train.csv", io.BytesIO(b"1,2\n3,4\n"))
    theirs_dir = Path(store.root) / t.other_bucket

    def their_files() -> list[tuple[str, bytes]]:
        return sorted((str(p), p.read_bytes()) for p in theirs_dir.rglob("*") if p.is_file())

    theirs_before = their_files()
    requests = s3_requests(t, ["private/secret.csv"])

    @bounded(S3_EXAMPLES)
    @given(st.data())
    def run(data):
        what, method, path, query, headers, body, payload, auth, tamper = data.draw(requests)
        if auth != "header":
            path = presigned_target(live_tenant, method, path, query, auth, tamper)
            query = ""
        response, _ = unchanged_on_error(
            live_tenant,
            lambda: live_tenant.call(
                "s3",
                method,
                path,
                body,
                headers,
                query=query,
                unsigned=auth != "header",
                payload_hash=payload,
            ),
            what,
            lambda r, w, f: xml_error(r, w, f, head=method == "HEAD"),
        )
        assert canary.encode() not in response.content, f"{what} showed another domain's object"
        assert their_files() == theirs_before, f"{what} changed another domain's bucket"

    run()


# -- STS -----------------------------------------------------------------------------------------

STS_ACTIONS = [
    "GetCallerIdentity", "AssumeRole", "GetSessionToken", "AssumeRoleWithWebIdentity",
    "DecodeAuthorizationMessage", "GetAccessKeyInfo", "", "getcalleridentity", "Nope",
]  # fmt: skip
STS_PARAMETERS = [
    "Version", "RoleArn", "RoleSessionName", "DurationSeconds", "Policy", "PolicyArns.member.1.arn",
    "ExternalId", "SerialNumber", "TokenCode", "Tags.member.1.Key", "WebIdentityToken",
    "EncodedMessage", "AccessKeyId", "SourceIdentity",
]  # fmt: skip


def _sendable(text: str) -> bool:
    """Encodable as UTF-8 for a form (lone surrogates are not)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


SENDABLE_GARBAGE = [g for g in GARBAGE_STRINGS if _sendable(g)]


@st.composite
def sts_requests(draw, targets):
    params = {"Action": draw(st.one_of(st.sampled_from(STS_ACTIONS), st.text(max_size=20)))}
    if draw(st.booleans()):
        params["Version"] = "2011-06-15"
    for name in draw(st.lists(st.sampled_from(STS_PARAMETERS), max_size=4, unique=True)):
        params[name] = draw(
            st.one_of(
                st.sampled_from(
                    [*SENDABLE_GARBAGE, *targets.arns("RoleArn"), "900", "43201", "-1"]
                ),
                st.text(max_size=30),
            )
        )
    how = draw(st.sampled_from(["form", "form", "query", "raw", "json"]))
    method, query, body = "POST", "", urlencode(params).encode()
    content_type = "application/x-www-form-urlencoded; charset=utf-8"
    if how == "query":
        method, query, body = draw(st.sampled_from(["GET", "POST"])), body.decode(), b""
    elif how == "raw":
        body = draw(
            st.one_of(
                st.sampled_from(
                    [*RAW_BODIES, b"Action=%zz", b"Action=%c3%28", b"=&&=", b"Action&Action="]
                ),
                st.binary(max_size=100),
            )
        )
    elif how == "json":
        content_type = draw(st.sampled_from(["application/json", "", "text/plain"]))
    return f"STS {method} {how} {params} body={body[:300]!r}", method, query, body, content_type


def test_sts_requests_never_fail_nor_change_state_on_error(tenant):
    requests = sts_requests(tenant.targets)

    @bounded(EXAMPLES * 3)
    @given(st.data())
    def run(data):
        what, method, query, body, content_type = data.draw(requests)
        headers = {"Content-Type": content_type} if content_type else {}
        response, error = unchanged_on_error(
            tenant,
            lambda: tenant.call("sts", method, "/", body, headers, query=query),
            what,
            xml_error,
        )
        if error is None:
            # Whoever it answers as, it is the caller: never another domain's account.
            assert tenant.targets.other_account.encode() not in response.content, what

    run()


# -- CloudWatch Logs -----------------------------------------------------------------------------

LOGS_MODEL = Loader().load_service_model("logs", "service-2")
LOGS_OPERATIONS = sorted(LOGS_MODEL["operations"])
LOGS_JSON = "application/x-amz-json-1.1"


@st.composite
def logs_requests(draw, bodies_of):
    operation = draw(
        st.one_of(
            st.sampled_from(
                ["DescribeLogStreams", "GetLogEvents", "FilterLogEvents", "DescribeLogGroups"] * 4
            ),
            st.sampled_from(LOGS_OPERATIONS),
            st.sampled_from(["Nope", "", "describeLogStreams"]),
        )
    )
    target = draw(
        st.sampled_from(["Logs_20140328.", "Logs_20140328.", "Logs_20140328.", "Logs.", ""])
    )
    shape = LOGS_MODEL["operations"].get(operation, {}).get("input", {}).get("shape")
    how, body = draw(mutated(bodies_of(shape)))
    return f"Logs {target}{operation} ({how}) with {body[:400]!r}", target + operation, body


def test_logs_requests_never_fail_nor_change_state_on_error(tenant):
    shapes = Bodies(tenant.targets, LOGS_MODEL["shapes"])
    requests = logs_requests(shapes.fitting)

    @bounded(EXAMPLES * 3)
    @given(st.data())
    def run(data):
        what, target, body = data.draw(requests)
        headers = {"X-Amz-Target": target, "Content-Type": LOGS_JSON}
        unchanged_on_error(
            tenant, lambda: tenant.call("logs", "POST", "/", body, headers), what, json_error
        )

    run()


# -- What the properties found, each as its smallest case ---------------------------------------


def test_a_bucket_name_with_a_nul_byte_is_an_s3_error_not_a_500(live_tenant):
    response = live_tenant.call("s3", "GET", "/%00/key", b"", {})
    assert xml_error(response, "GET /%00/key", live_tenant.failures)["Code"] in (
        "NoSuchBucket",
        "InvalidBucketName",
    )


def test_an_s3_error_naming_a_control_character_is_well_formed_xml(live_tenant):
    """botocore cannot parse an error that is not XML 1.0 (it raises ResponseParserError, not
    the error's code): a name with a control character must be escaped or left out."""
    response = live_tenant.call("s3", "GET", "/%1F/key", b"", {})
    assert xml_error(response, "GET /%1F/key", live_tenant.failures)["Code"] in (
        "NoSuchBucket",
        "InvalidBucketName",
    )


def test_an_sts_error_naming_a_control_character_is_well_formed_xml(tenant):
    body = b"Action=%1F&Version=2011-06-15"
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    response = tenant.call("sts", "POST", "/", body, headers)
    assert xml_error(response, "STS Action=%1F", tenant.failures)["Code"] == "InvalidAction"


def _listing(root: Path) -> dict[str, bytes | None]:
    """Every file's content and every directory (None) under `root`."""
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in root.rglob("*")
    }


def test_a_refused_aws_chunked_put_leaves_the_store_as_it_was(live_tenant):
    """An aws-chunked PUT whose body is not aws-chunked is refused (InvalidChunkSizeError), and
    neither the object it would replace nor anything else in the store changes."""
    from studio.core import storage

    bucket = live_tenant.targets.own_bucket
    storage.artifact_store().put(f"s3://{bucket}/data/train.csv", io.BytesIO(b"1,2\n"))
    root = Path(storage.artifact_store().root)
    before = _listing(root)
    response = live_tenant.call(
        "s3",
        "PUT",
        f"/{bucket}/data/train.csv",
        b"",
        {},
        payload_hash="STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    )
    assert xml_error(response, "aws-chunked PUT", live_tenant.failures) is not None
    assert _listing(root) == before


def test_a_refused_put_to_a_new_prefix_leaves_no_directory_behind(live_tenant):
    """A PUT refused while its body streams in (here an aws-chunked body that is not) leaves
    nothing of the key it named: no object, and no directory for its prefix, which a listing
    with a delimiter would show as a CommonPrefix."""
    from studio.core import storage

    bucket = live_tenant.targets.own_bucket
    storage.artifact_store().put(f"s3://{bucket}/data/train.csv", io.BytesIO(b"1,2\n"))
    root = Path(storage.artifact_store().root)
    before = _listing(root)
    response = live_tenant.call(
        "s3",
        "PUT",
        f"/{bucket}/new-prefix/object.csv",
        b"not chunked",
        {},
        payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    )
    assert xml_error(response, "aws-chunked PUT", live_tenant.failures) is not None
    listed = live_tenant.call("s3", "GET", f"/{bucket}", b"", {}, query="delimiter=%2F&list-type=2")
    assert b"new-prefix" not in listed.content
    assert _listing(root) == before


def test_a_sigv2_presigned_url_with_a_non_ascii_signature_is_refused_not_a_500(live_tenant):
    bucket = live_tenant.targets.own_bucket
    target = presigned_target(
        live_tenant, "GET", f"/{bucket}/data/train.csv", "", "v2", ("replace", "Signature", "\x80")
    )
    assert "Signature=%C2%80" in target
    response = live_tenant.call("s3", "GET", target, b"", {}, unsigned=True)
    assert xml_error(response, f"GET {target}", live_tenant.failures)["Code"] in (
        "SignatureDoesNotMatch",
        "AuthorizationQueryParametersError",
    )
