"""The sklearn image's `serve`, run on the host as the container runs it: a subprocess over an
`/opt/ml`-shaped tree (STUDIO_ML_ROOT), listening on a Unix socket (STUDIO_SERVE_SOCKET), asked
over HTTP/1.1 with keep-alive, and compared with the same model loaded here.

Importing scikit-learn takes seconds, so the servers these tests share start together (one
module fixture); the built-in algorithms' response formats are checked on the model objects
`serve` builds, loaded in this process from directories written by the toolkit's own save().
"""

from __future__ import annotations

import http.client
import io
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLKIT_DIR = ROOT / "images" / "sklearn"

sys.path.insert(0, str(TOOLKIT_DIR))
from studio_toolkit.algorithms import TrainedModel, save  # noqa: E402
from studio_toolkit.environment import Paths  # noqa: E402
from studio_toolkit.serving.errors import BadRequest  # noqa: E402
from studio_toolkit.serving.models import load_model  # noqa: E402

START_TIMEOUT = 90
IRIS_ROW = [5.1, 3.5, 1.4, 0.2]
IRIS_ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]

# Script-mode inference handlers: a slow input_fn (for SIGTERM and the timeout), a marker
# file saying the request is in flight, and a model_fn that can wait for the test's word.
HANDLERS = """
import json, os, time
import joblib

def model_fn(model_dir):
    marker = os.environ.get("LOAD_MARKER")
    if marker:
        open(marker, "w").close()
        deadline = time.monotonic() + 60
        while not os.path.exists(marker + ".done") and time.monotonic() < deadline:
            time.sleep(0.01)
    return joblib.load(os.path.join(model_dir, "model.joblib"))

def input_fn(body, content_type):
    doc = json.loads(body)
    if not isinstance(body, str):
        raise TypeError("a JSON body should arrive as str")
    if doc.get("marker"):
        open(doc["marker"], "w").close()
    time.sleep(doc.get("sleep", 0))
    return doc["rows"]

def output_fn(prediction, accept):
    return json.dumps({"labels": prediction.tolist(), "accept": accept}), "application/json"
"""


class UnixConnection(http.client.HTTPConnection):
    """http.client over a Unix socket: one connection, reused (keep-alive)."""

    def __init__(self, path: Path, timeout: float = 30) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = str(path)

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


def ask(
    connection: UnixConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return Answer(response.status, response.getheader("Content-Type", ""), response.read())


def invoke(
    connection: UnixConnection, body: bytes | str, content_type: str, accept: str | None = None
) -> Answer:
    headers = {"Content-Type": content_type}
    if accept:
        headers["Accept"] = accept
    data = body.encode() if isinstance(body, str) else body
    return ask(connection, "POST", "/invocations", data, headers)


@dataclass
class Server:
    root: Path
    process: subprocess.Popen

    @property
    def socket_path(self) -> Path:
        return self.root / "s.sock"

    def connect(self, timeout: float = 30) -> UnixConnection:
        return UnixConnection(self.socket_path, timeout)

    def wait_ready(self) -> Server:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited {self.process.returncode}: {self.stderr()}")
            try:
                if ask(self.connect(timeout=5), "GET", "/ping").status == 200:
                    return self
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"serve did not answer /ping within {START_TIMEOUT} s")

    def stderr(self) -> str:
        if self.process.poll() is None:
            self.process.kill()
        return self.process.communicate(timeout=30)[1]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate(timeout=30)


def start_server(root: Path, **env: str) -> Server:
    environment = {
        **os.environ,
        "PYTHONPATH": str(TOOLKIT_DIR),
        "STUDIO_ML_ROOT": str(root),
        "STUDIO_SERVE_SOCKET": str(root / "s.sock"),
        "OMP_NUM_THREADS": "1",
        **env,
    }
    for name in ("SAGEMAKER_PROGRAM", "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "SAGEMAKER_BATCH"):
        if name not in env:
            environment.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "studio_toolkit.serve"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return Server(root, process)


def iris_model():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    return LogisticRegression(max_iter=500).fit(x, y)


def write_plain_model(root: Path, estimator) -> None:
    import joblib

    (root / "model").mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, root / "model" / "model.joblib")


def write_handlers(root: Path, estimator) -> None:
    write_plain_model(root, estimator)
    code = root / "model" / "code"
    code.mkdir()
    (code / "inference.py").write_text(HANDLERS)


@dataclass
class Servers:
    plain: Server
    handlers: Server
    draining: Server
    timeout: Server
    slow_load: Server
    load_marker: Path
    model: object


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    model = iris_model()
    names = ("plain", "handlers", "draining", "timeout", "slow_load")
    roots = {name: tmp_path_factory.mktemp(name) for name in names}
    write_plain_model(roots["plain"], model)
    # A socket left behind by an earlier run: serve replaces it.
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(roots["plain"] / "s.sock"))
    stale.close()
    for name in ("handlers", "draining", "timeout", "slow_load"):
        write_handlers(roots[name], model)
    program = {"SAGEMAKER_PROGRAM": "inference.py"}
    load_marker = roots["slow_load"] / "loading"
    started = Servers(
        plain=start_server(roots["plain"]),
        handlers=start_server(roots["handlers"], **program),
        draining=start_server(roots["draining"], **program),
        timeout=start_server(roots["timeout"], SAGEMAKER_MODEL_SERVER_TIMEOUT="0.5", **program),
        slow_load=start_server(roots["slow_load"], LOAD_MARKER=str(load_marker), **program),
        load_marker=load_marker,
        model=model,
    )
    try:
        for server in (started.plain, started.handlers, started.draining, started.timeout):
            server.wait_ready()
        yield started
    finally:
        for server in (
            started.plain,
            started.handlers,
            started.draining,
            started.timeout,
            started.slow_load,
        ):
            server.stop()


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


# A plain scikit-learn model (script mode's model.joblib)


def test_socket_replaces_a_stale_one_and_is_private(servers: Servers) -> None:
    mode = os.stat(servers.plain.socket_path).st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o600


@pytest.mark.parametrize(
    ("content_type", "one_row", "rows"),
    [
        ("text/csv", "5.1,3.5,1.4,0.2", "5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\r\n5.9,3.0,4.2,1.5\n"),
        (
            "text/csv; charset=utf-8",
            "5.1, 3.5, 1.4, 0.2\n",
            "5.1,3.5,1.4,0.2\n\n6.7,3,5.2,2.3\n5.9,3.0,4.2,1.5",
        ),
        ("application/json", {"instances": [IRIS_ROW]}, {"instances": IRIS_ROWS}),
        (
            "application/json",
            {"instances": [{"features": IRIS_ROW}]},
            {"instances": [{"features": row} for row in IRIS_ROWS]},
        ),
        (
            "application/json",
            {"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": [IRIS_ROW]}},
            {"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": IRIS_ROWS}},
        ),
        ("application/json", {"inputs": [IRIS_ROW]}, {"inputs": IRIS_ROWS}),
        ("application/json", IRIS_ROW, IRIS_ROWS),
        ("application/jsonlines", json.dumps(IRIS_ROW), "\n".join(map(json.dumps, IRIS_ROWS))),
        ("application/x-npy", np.array(IRIS_ROW), np.array(IRIS_ROWS)),
    ],
)
def test_predictions_equal_the_models_for_one_row_and_a_batch(
    servers: Servers, content_type: str, one_row, rows
) -> None:
    connection = servers.plain.connect()
    for body, expected_rows in ((one_row, [IRIS_ROW]), (rows, IRIS_ROWS)):
        if isinstance(body, np.ndarray):
            body = npy(body)
        elif not isinstance(body, str):
            body = json.dumps(body)
        answer = invoke(connection, body, content_type)
        assert answer.status == 200, answer.text
        assert answer.content_type == "application/json"
        expected = servers.model.predict(np.array(expected_rows)).tolist()
        assert answer.json() == {"predictions": expected}


def test_accept_chooses_csv_json_lines_or_npy(servers: Servers) -> None:
    connection = servers.plain.connect()
    rows = np.array(IRIS_ROWS)
    expected = servers.model.predict(rows)
    body = "\n".join(",".join(map(str, row)) for row in IRIS_ROWS)

    csv_answer = invoke(connection, body, "text/csv", accept="text/csv")
    assert (csv_answer.status, csv_answer.content_type) == (200, "text/csv")
    assert csv_answer.text.splitlines() == [str(v) for v in expected]

    lines = invoke(connection, body, "text/csv", accept="application/jsonlines")
    assert [json.loads(line) for line in lines.text.splitlines()] == expected.tolist()

    array = invoke(connection, npy(rows), "application/x-npy", accept="application/x-npy")
    assert array.content_type == "application/x-npy"
    np.testing.assert_array_equal(np.load(io.BytesIO(array.body)), expected)

    listed = invoke(connection, body, "text/csv", accept="image/png, text/csv;q=0.9")
    assert listed.content_type == "text/csv"
    anything = invoke(connection, body, "text/csv", accept="*/*")
    assert anything.content_type == "application/json"
    any_text = invoke(connection, body, "text/csv", accept="text/*")
    assert any_text.content_type == "text/csv"


def test_a_body_without_content_type_is_recognized_by_its_first_byte(servers: Servers) -> None:
    connection = servers.plain.connect()
    expected = {"predictions": servers.model.predict(np.array(IRIS_ROWS)).tolist()}
    csv = "\n".join(",".join(map(str, row)) for row in IRIS_ROWS).encode()
    for body in (csv, json.dumps(IRIS_ROWS).encode(), npy(np.array(IRIS_ROWS))):
        answer = ask(connection, "POST", "/invocations", body)
        assert answer.status == 200, answer.text
        assert answer.json() == expected


def test_csv_and_json_write_floats_that_read_back_exactly() -> None:
    from sklearn.linear_model import LinearRegression
    from studio_toolkit.serving.models import encode_values

    rows = np.array(IRIS_ROWS)
    values = LinearRegression().fit(rows, [0.1, 0.2, 1 / 3]).predict(rows * 1.1)
    csv = encode_values(values, "text/csv").body.decode().split()
    assert [float(v) for v in csv] == values.tolist()
    as_json = json.loads(encode_values(values, "application/json").body)["predictions"]
    assert as_json == values.tolist()


def test_one_connection_serves_a_hundred_requests(servers: Servers) -> None:
    connection = servers.plain.connect()
    ask(connection, "GET", "/ping")
    first_socket = connection.sock
    for _ in range(100):
        answer = invoke(connection, "5.1,3.5,1.4,0.2", "text/csv")
        assert answer.status == 200
    assert connection.sock is first_socket  # never reconnected: keep-alive held


def test_execution_parameters_for_batch_transform(servers: Servers) -> None:
    answer = ask(servers.plain.connect(), "GET", "/execution-parameters")
    assert answer.status == 200
    assert answer.json() == {
        "MaxConcurrentTransforms": 1,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": 6,
    }


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "words"),
    [
        ("5.1,3.5,1.4,0.2", "image/png", None, ["image/png", "text/csv", "application/json"]),
        ("5.1,3.5,1.4,0.2\n6.7,abc,5.2,2.3", "text/csv", None, ["line 2", "column 2", "'abc'"]),
        ("a,b,c,d\n5.1,3.5,1.4,0.2", "text/csv", None, ["line 1", "header"]),
        ("5.1,3.5,1.4,0.2\n6.7,3.0,5.2", "text/csv", None, ["line 2", "3 values", "4"]),
        ("5.1,3.5,1.4", "text/csv", None, ["expects 4", "got 3"]),
        ('{"instances": [[5.1, 3.5, 1.4]]}', "application/json", None, ["expects 4", "got 3"]),
        ('{"instances": [[1, 2, 3, 4], [1, 2]]}', "application/json", None, ["Row 2", "2 values"]),
        ('{"instances": [[1, "x", 3, 4]]}', "application/json", None, ["column 2", "'x'"]),
        ('{"rows": [[1, 2, 3, 4]]}', "application/json", None, ["instances", "rows"]),
        ("{not json", "application/json", None, ["not valid JSON"]),
        ("", "text/csv", None, ["no rows"]),
        ("5.1,3.5,1.4,0.2", "text/csv", "image/png", ["Accept", "image/png", "text/csv"]),
        ("5.1,nan,1.4,0.2", "text/csv", None, ["cannot predict", "NaN"]),
        ("\x93NUMPY garbage", "application/x-npy", None, [".npy"]),
    ],
)
def test_bad_input_is_a_400_that_says_what_is_wrong(
    servers: Servers, body: str, content_type: str, accept: str | None, words: list[str]
) -> None:
    answer = invoke(servers.plain.connect(), body, content_type, accept)
    assert answer.status == 400, answer.text
    for word in words:
        assert word in answer.text


def test_pickled_npy_and_object_arrays_are_refused(servers: Servers) -> None:
    connection = servers.plain.connect()
    objects = npy(np.array([{"a": 1}, None], dtype=object))
    answer = invoke(connection, objects, "application/x-npy")
    assert answer.status == 400
    assert "cannot be read" in answer.text or "object" in answer.text
    strings = invoke(connection, npy(np.array(["a", "b"])), "application/x-npy")
    assert strings.status == 400
    assert "send numbers" in strings.text


def test_chunked_bodies_and_unknown_paths(servers: Servers) -> None:
    connection = servers.plain.connect()
    connection.request(
        "POST",
        "/invocations",
        body=iter([b"5.1,3.5,", b"1.4,0.2\n6.7,3.0,5.2,2.3\n"]),
        headers={"Content-Type": "text/csv"},
        encode_chunked=True,
    )
    response = connection.getresponse()
    assert response.status == 200
    assert json.loads(response.read()) == {
        "predictions": servers.model.predict(np.array(IRIS_ROWS[:2])).tolist()
    }
    missing = ask(connection, "GET", "/nothing")
    assert missing.status == 404
    assert "/invocations" in missing.text
    assert ask(connection, "GET", "/invocations").status == 405


def test_a_body_over_100_mb_is_refused_before_it_is_read(servers: Servers) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(servers.plain.socket_path))
        sock.sendall(
            b"POST /invocations HTTP/1.1\r\nContent-Type: text/csv\r\n"
            b"Content-Length: 200000000\r\n\r\n5.1,"
        )
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413 ")
    assert b"100 MB" in reply


def test_garbage_instead_of_a_request_is_a_400_and_a_closed_connection(
    servers: Servers,
) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(servers.plain.socket_path))
        sock.sendall(b"HELLO\r\n\r\n")
        reply = sock.recv(65536)
        assert reply.startswith(b"HTTP/1.1 400 ")
        assert sock.recv(65536) == b""


# Script-mode inference handlers (SAGEMAKER_PROGRAM)


def test_user_handlers_replace_input_and_output(servers: Servers) -> None:
    answer = invoke(servers.handlers.connect(), json.dumps({"rows": IRIS_ROWS}), "application/json")
    assert answer.status == 200, answer.text
    assert answer.json() == {
        "labels": servers.model.predict(np.array(IRIS_ROWS)).tolist(),
        "accept": "application/json",
    }
    failing = invoke(servers.handlers.connect(), json.dumps({"no": 1}), "application/json")
    assert failing.status == 500
    assert "KeyError" in failing.text


def test_a_slow_model_does_not_accept_connections_before_it_is_loaded(
    servers: Servers,
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not servers.load_marker.exists():
        assert time.monotonic() < deadline, "model_fn never ran"
        time.sleep(0.02)
    # model_fn is still loading: there is no socket to connect to yet.
    time.sleep(0.3)
    assert not servers.slow_load.socket_path.exists()
    with pytest.raises(OSError):
        servers.slow_load.connect(timeout=2).connect()
    servers.load_marker.with_name("loading.done").touch()
    servers.slow_load.wait_ready()


def test_sigterm_answers_the_request_in_flight_then_exits_0(
    servers: Servers, tmp_path: Path
) -> None:
    server = servers.draining
    idle = server.connect()
    assert ask(idle, "GET", "/ping").status == 200
    marker = tmp_path / "in-flight"
    answers: list[Answer] = []
    body = json.dumps({"rows": [IRIS_ROW], "sleep": 1.5, "marker": str(marker)})
    request = threading.Thread(
        target=lambda: answers.append(invoke(server.connect(), body, "application/json"))
    )
    request.start()
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    server.process.send_signal(signal.SIGTERM)
    request.join(timeout=30)
    assert answers and answers[0].status == 200
    assert answers[0].json()["labels"] == servers.model.predict(np.array([IRIS_ROW])).tolist()
    assert server.process.wait(timeout=30) == 0
    assert not server.socket_path.exists()
    assert idle.sock.recv(1) == b""  # the idle keep-alive connection was closed


def test_a_prediction_over_the_timeout_is_a_504_and_ping_still_answers(
    servers: Servers, tmp_path: Path
) -> None:
    server = servers.timeout
    # The first slow prediction runs in the loop's thread: it is answered 504 when it ends,
    # and sends the later ones to the worker thread, where the timeout cuts them off.
    first = invoke(
        server.connect(), json.dumps({"rows": [IRIS_ROW], "sleep": 0.7}), "application/json"
    )
    assert first.status == 504
    assert "0.5 s" in first.text
    marker = tmp_path / "in-flight"
    answers: list[tuple[Answer, float]] = []

    def slow() -> None:
        started = time.monotonic()
        body = json.dumps({"rows": [IRIS_ROW], "sleep": 3, "marker": str(marker)})
        answer = invoke(server.connect(), body, "application/json")
        answers.append((answer, time.monotonic() - started))

    request = threading.Thread(target=slow)
    request.start()
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert ask(server.connect(), "GET", "/ping").status == 200
    request.join(timeout=30)
    answer, elapsed = answers[0]
    assert answer.status == 504
    assert "SAGEMAKER_MODEL_SERVER_TIMEOUT" in answer.text
    assert elapsed < 2.5


# Models serve refuses to start with


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({}, ["model.joblib is missing", "joblib.dump"]),
        ({"model.joblib": b"not a pickle at all"}, ["Cannot load", "model.joblib"]),
        (
            {"model.joblib": b"x", "metadata.json": '{"algorithm": "deep-ar", "feature_dim": 2}'},
            ["metadata.json", "deep-ar", "linear-learner"],
        ),
        (
            {"model.joblib": b"x", "metadata.json": "[1, 2"},
            ["metadata.json is not readable JSON"],
        ),
    ],
)
def test_a_model_that_cannot_be_loaded_exits_non_zero_with_one_line(
    tmp_path: Path, files: dict[str, str | bytes], words: list[str]
) -> None:
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    for name, content in files.items():
        if isinstance(content, bytes):
            (model_dir / name).write_bytes(content)
        else:
            (model_dir / name).write_text(content)
    server = start_server(tmp_path)
    _, stderr = server.process.communicate(timeout=60)
    assert server.process.returncode == 1
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("serve: cannot serve the model: ")
    for word in words:
        assert word in last
    assert not server.socket_path.exists()


def test_bad_settings_exit_2_naming_the_variable(tmp_path: Path) -> None:
    server = start_server(tmp_path, SAGEMAKER_MODEL_SERVER_TIMEOUT="soon")
    _, stderr = server.process.communicate(timeout=60)
    assert server.process.returncode == 2
    assert "SAGEMAKER_MODEL_SERVER_TIMEOUT='soon' is not a number" in stderr


# Built-in algorithms' models: SageMaker's response formats


def builtin_model(
    root: Path, algorithm: str, estimator, label_kind: str, hyperparameters: dict | None = None
):
    classes = [float(c) for c in getattr(estimator, "classes_", [])]
    trained = TrainedModel(
        estimator=estimator,
        feature_dim=2,
        label_kind=label_kind,
        prediction="",
        classes=classes,
    )
    save(trained, algorithm, hyperparameters or {}, Paths(root))
    return load_model(root / "model")


X = np.array([[0.0, 0.1], [0.2, 0.0], [1.0, 1.1], [1.2, 0.9], [2.1, 2.0], [1.9, 2.2]])
BINARY = np.array([0.0, 0.0, 1.0, 1.0, 1.0, 1.0])
CLASSES = np.array([0.0, 0.0, 1.0, 1.0, 2.0, 2.0])
ROWS_CSV = "0.1,0.2\n1.1,1.0\n2.0,2.1\n"
ROWS = np.array([[0.1, 0.2], [1.1, 1.0], [2.0, 2.1]])


def answer_json(model, accept: str = "") -> dict:
    response = model.invoke(ROWS_CSV.encode(), "text/csv", accept)
    assert response.content_type == "application/json"
    return json.loads(response.body)


def answer_csv(model) -> list[list[float]]:
    response = model.invoke(ROWS_CSV.encode(), "text/csv", "text/csv")
    assert response.content_type == "text/csv"
    return [[float(v) for v in line.split(",")] for line in response.body.decode().splitlines()]


def test_linear_learner_classifiers_answer_score_and_predicted_label(tmp_path: Path) -> None:
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    binary = Pipeline(
        [("scale", StandardScaler()), ("model", SGDClassifier(loss="log_loss", random_state=0))]
    ).fit(X, BINARY)
    model = builtin_model(tmp_path / "binary", "linear-learner", binary, "binary")
    scores = binary.predict_proba(ROWS)[:, 1].tolist()
    labels = binary.predict(ROWS).tolist()
    assert answer_json(model) == {
        "predictions": [
            {"score": s, "predicted_label": label} for s, label in zip(scores, labels, strict=True)
        ]
    }
    assert isinstance(answer_json(model)["predictions"][0]["predicted_label"], int)
    assert answer_csv(model) == [[s, lab] for s, lab in zip(scores, labels, strict=True)]

    multiclass = SGDClassifier(loss="log_loss", random_state=0).fit(X, CLASSES)
    model = builtin_model(tmp_path / "multi", "linear-learner", multiclass, "multiclass")
    probabilities = multiclass.predict_proba(ROWS).tolist()
    labels = multiclass.predict(ROWS).tolist()
    assert answer_json(model) == {
        "predictions": [
            {"score": p, "predicted_label": label}
            for p, label in zip(probabilities, labels, strict=True)
        ]
    }
    assert answer_csv(model) == [[*p, lab] for p, lab in zip(probabilities, labels, strict=True)]


def test_linear_learner_regressor_answers_scores(tmp_path: Path) -> None:
    from sklearn.linear_model import SGDRegressor

    regressor = SGDRegressor(random_state=0).fit(X, CLASSES * 1.5)
    model = builtin_model(tmp_path, "linear-learner", regressor, "regression")
    scores = regressor.predict(ROWS).tolist()
    assert answer_json(model) == {"predictions": [{"score": s} for s in scores]}
    lines = model.invoke(ROWS_CSV.encode(), "text/csv", "application/jsonlines").body
    assert [json.loads(line) for line in lines.splitlines()] == [{"score": s} for s in scores]


def test_xgboost_answers_csv_scores_by_objective(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    classifier = HistGradientBoostingClassifier(max_iter=3, min_samples_leaf=1).fit(X, BINARY)
    binary = builtin_model(
        tmp_path / "b", "xgboost", classifier, "binary", {"objective": "binary:logistic"}
    )
    probabilities = classifier.predict_proba(ROWS)[:, 1].tolist()
    # Real-time: one comma-separated line of probabilities (the default Accept is CSV).
    response = binary.invoke(ROWS_CSV.encode(), "text/csv", "")
    assert response.content_type == "text/csv"
    assert [float(v) for v in response.body.decode().split(",")] == probabilities
    assert answer_json(binary, "application/json") == {
        "predictions": [{"score": p} for p in probabilities]
    }
    # Missing values (empty CSV fields) are taken, as XGBoost takes them.
    missing = binary.invoke(b"0.1,\n", "text/csv", "application/json")
    expected = classifier.predict_proba(np.array([[0.1, np.nan]]))[:, 1].tolist()
    assert json.loads(missing.body) == {"predictions": [{"score": expected[0]}]}

    multi = HistGradientBoostingClassifier(max_iter=3, min_samples_leaf=1).fit(X, CLASSES)
    softprob = builtin_model(
        tmp_path / "p", "xgboost", multi, "multiclass", {"objective": "multi:softprob"}
    )
    assert answer_csv(softprob) == multi.predict_proba(ROWS).tolist()
    softmax = builtin_model(
        tmp_path / "m", "xgboost", multi, "multiclass", {"objective": "multi:softmax"}
    )
    labels = softmax.invoke(ROWS_CSV.encode(), "text/csv", "").body.decode()
    assert [float(v) for v in labels.split(",")] == multi.predict(ROWS).tolist()

    # Batch transform (SAGEMAKER_BATCH): one score per line, so records line up.
    monkeypatch.setenv("SAGEMAKER_BATCH", "true")
    regressor = HistGradientBoostingRegressor(max_iter=3, min_samples_leaf=1).fit(X, CLASSES)
    batch = builtin_model(
        tmp_path / "r", "xgboost", regressor, "regression", {"objective": "reg:squarederror"}
    )
    assert answer_csv(batch) == [[v] for v in regressor.predict(ROWS).tolist()]


def test_kmeans_answers_closest_cluster_and_distance(tmp_path: Path) -> None:
    from sklearn.cluster import KMeans

    kmeans = KMeans(n_clusters=2, n_init=1, random_state=0).fit(X)
    model = builtin_model(tmp_path, "kmeans", kmeans, "none")
    clusters = kmeans.predict(ROWS)
    distances = kmeans.transform(ROWS)[np.arange(3), clusters]
    expected = [
        {"closest_cluster": float(c), "distance_to_cluster": d}
        for c, d in zip(clusters.tolist(), distances.tolist(), strict=True)
    ]
    assert answer_json(model) == {"predictions": expected}
    assert answer_csv(model) == [[r["closest_cluster"], r["distance_to_cluster"]] for r in expected]


def test_pca_answers_projections(tmp_path: Path) -> None:
    from sklearn.decomposition import PCA

    pca = PCA(n_components=1).fit(X)
    model = builtin_model(tmp_path, "pca", pca, "none")
    projections = pca.transform(ROWS).tolist()
    assert answer_json(model) == {"projections": [{"projection": p} for p in projections]}
    assert answer_csv(model) == projections


def test_knn_answers_predicted_labels(tmp_path: Path) -> None:
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(n_neighbors=1).fit(X, CLASSES)
    model = builtin_model(tmp_path, "knn", knn, "multiclass")
    labels = knn.predict(ROWS).tolist()
    assert answer_json(model) == {"predictions": [{"predicted_label": v} for v in labels]}


def test_randomcutforest_answers_anomaly_scores(tmp_path: Path) -> None:
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(n_estimators=5, random_state=0).fit(X)
    model = builtin_model(tmp_path, "randomcutforest", forest, "none")
    scores = (-forest.score_samples(ROWS)).tolist()
    assert answer_json(model) == {"scores": [{"score": s} for s in scores]}
    assert answer_csv(model) == [[s] for s in scores]


def test_builtin_models_check_the_feature_count_and_default_accept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(n_neighbors=1).fit(X, CLASSES)
    model = builtin_model(tmp_path / "a", "knn", knn, "multiclass")
    with pytest.raises(BadRequest, match="expects 2 per row, got 3"):
        model.invoke(b"1,2,3", "text/csv", "")
    monkeypatch.setenv("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "text/csv")
    csv_default = load_model(tmp_path / "a" / "model")
    assert csv_default.invoke(ROWS_CSV.encode(), "text/csv", "").content_type == "text/csv"
