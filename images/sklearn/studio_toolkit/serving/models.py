"""The model `serve` answers with: loaded once from the model directory, checked, and turned
into responses in the formats SageMaker documents.

- A built-in algorithm's model (`model.joblib` with `metadata.json`, written by
  `studio_toolkit.algorithms.save`) answers as that SageMaker algorithm does: linear-learner
  `{"predictions": [{"score", "predicted_label"}]}`, xgboost CSV scores, kmeans
  `closest_cluster` / `distance_to_cluster`, pca `projections`, knn `predicted_label`,
  randomcutforest `scores`.
- A plain scikit-learn model (`model.joblib` alone, saved by a script-mode job) answers with
  its `predict` output: `{"predictions": [...]}`, or one value per CSV line.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studio_toolkit.serving import payloads
from studio_toolkit.serving.errors import BadRequest, ModelLoadError
from studio_toolkit.serving.payloads import CSV, JSON, JSONLINES, NPY

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
DEFAULT_ACCEPT_ENV = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"
# SageMaker sets it in batch transform containers; xgboost then writes one score per line
# instead of one comma-separated line.
BATCH_ENV = "SAGEMAKER_BATCH"
XGBOOST_OBJECTIVES = (
    "reg:squarederror",
    "reg:linear",
    "reg:absoluteerror",
    "count:poisson",
    "reg:gamma",
    "binary:logistic",
    "multi:softmax",
    "multi:softprob",
)


@dataclass(frozen=True)
class Response:
    body: bytes
    content_type: str


# A built-in's answer: the JSON document's list name and, per row, named values in order.
Fields = list[tuple[str, np.ndarray]]


class Model:
    """A loaded estimator and the way its predictions are written."""

    def __init__(
        self,
        estimator: Any,
        *,
        description: str,
        feature_dim: int | None,
        accepts: tuple[str, ...],
        default_accept: str,
    ) -> None:
        self.estimator = estimator
        self.description = description
        self.feature_dim = feature_dim
        self.accepts = accepts
        self.default_accept = _default_accept(default_accept, accepts)
        self.feature_names: list[str] | None = (
            [str(name) for name in estimator.feature_names_in_]
            if hasattr(estimator, "feature_names_in_")
            else None
        )

    def invoke(self, body: bytes, content_type: str, accept: str) -> Response:
        """The response to one POST /invocations; BadRequest for what the client got wrong."""
        media = choose_accept(accept, self.accepts, self.default_accept)
        rows, columns = payloads.decode(body, content_type)
        return self.encode(self.predict(self.features(rows, columns)), media)

    def features(self, rows: np.ndarray, columns: list[str] | None) -> np.ndarray:
        if columns is not None and self.feature_names is not None:
            rows = self._reorder(rows, columns)
        if self.feature_dim is not None and rows.shape[1] != self.feature_dim:
            raise BadRequest(
                f"Wrong number of features: the model expects {self.feature_dim} per row, "
                f"got {rows.shape[1]}"
            )
        return rows

    def _reorder(self, rows: np.ndarray, columns: list[str]) -> np.ndarray:
        # MLflow's formats name their columns: put them in the order the model was fitted with.
        assert self.feature_names is not None
        missing = [name for name in self.feature_names if name not in columns]
        if missing:
            raise BadRequest(
                f"Missing columns {', '.join(missing)}; the model was fitted on "
                f"{', '.join(self.feature_names)}"
            )
        return rows[:, [columns.index(name) for name in self.feature_names]]

    def predict(self, rows: np.ndarray) -> Any:
        raise NotImplementedError

    def encode(self, prediction: Any, media: str) -> Response:
        raise NotImplementedError


def call_estimator(method: Callable[[np.ndarray], Any], rows: np.ndarray) -> Any:
    """`method(rows)`, with scikit-learn's finiteness check skipped when it cannot fail.

    The check costs a third of a one-row prediction. `serve` sets `assume_finite` for its
    threads (`fast_predictions`); rows with a NaN or an infinity get the normal check, so
    every answer (or refusal) is the one `predict` gives outside the server.
    """
    try:
        if np.isfinite(rows).all():
            return method(rows)
        import sklearn

        with sklearn.config_context(assume_finite=False):
            return method(rows)
    except (ValueError, TypeError) as exc:
        # What scikit-learn raises for input it cannot take (NaN where none is allowed, ...).
        raise BadRequest(f"The model cannot predict on this input: {exc}") from None


def fast_predictions() -> None:
    """Skip scikit-learn's finiteness check in this thread (see `call_estimator`)."""
    import sklearn

    sklearn.set_config(assume_finite=True)


class PlainModel(Model):
    """A scikit-learn estimator saved by a user's script: its `predict` output as is."""

    def predict(self, rows: np.ndarray) -> Any:
        return call_estimator(self.estimator.predict, rows)

    def encode(self, prediction: Any, media: str) -> Response:
        return encode_values(prediction, media)


def encode_values(prediction: Any, media: str, *, wrapped: bool = True) -> Response:
    """`predict` output as `{"predictions": [...]}` (the bare array unless `wrapped`), CSV (a
    line per row), JSON Lines or .npy."""
    array = np.asarray(prediction)
    if media == NPY:
        if array.dtype.kind not in "biufc":
            raise BadRequest(
                f"The predictions are {array.dtype}, not numbers: ask for {JSON} or {CSV}"
            )
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        return Response(buffer.getvalue(), NPY)
    values = array.tolist()
    if media == JSON:
        return Response(_json({"predictions": values} if wrapped else values), JSON)
    if media == JSONLINES:
        return Response(b"".join(_json(value) + b"\n" for value in values), JSONLINES)
    lines = (_csv_line(value if isinstance(value, list) else [value]) for value in values)
    return Response(("\n".join(lines) + "\n").encode(), CSV)


class BuiltinModel(Model):
    """A built-in algorithm's model, answering in that SageMaker algorithm's formats."""

    def __init__(
        self,
        estimator: Any,
        *,
        key: str,
        fields: Callable[[Any, np.ndarray], Fields],
        csv_one_line: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(estimator, **kwargs)
        self.key = key
        self.fields = fields
        self.csv_one_line = csv_one_line

    def predict(self, rows: np.ndarray) -> Fields:
        try:
            return self.fields(self.estimator, rows)
        except (ValueError, TypeError) as exc:
            raise BadRequest(f"The model cannot predict on this input: {exc}") from None

    def encode(self, prediction: Fields, media: str) -> Response:
        names = [name for name, _ in prediction]
        columns = [values.tolist() for _, values in prediction]
        if media == CSV:
            if self.csv_one_line and prediction[0][1].ndim == 1:
                return Response(_csv_line(columns[0]).encode(), CSV)
            lines = (_csv_line(_flat(row)) for row in zip(*columns, strict=True))
            return Response(("\n".join(lines) + "\n").encode(), CSV)
        records = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
        if media == JSONLINES:
            return Response(b"".join(_json(record) + b"\n" for record in records), JSONLINES)
        return Response(_json({self.key: records}), JSON)


def _flat(row: tuple[Any, ...]) -> list[Any]:
    flat: list[Any] = []
    for value in row:
        if isinstance(value, list):
            flat.extend(value)
        else:
            flat.append(value)
    return flat


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), default=_json_default).encode()


def _json_default(value: Any) -> Any:
    # Object arrays (string labels, mixed outputs) may hold numpy scalars.
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _csv_line(values: list[Any]) -> str:
    return ",".join(_csv_value(value) for value in values)


def _csv_value(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float
    if value is None:
        return ""
    text = str(_json_default(value) if isinstance(value, np.generic) else value)
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def choose_accept(accept: str, supported: tuple[str, ...], default: str) -> str:
    """The first supported media type the Accept header lists; the default for none or */*."""
    if not accept:
        return default
    for part in accept.split(","):
        name = payloads.media_type(part)
        if name in supported:
            return name
        if name in ("*/*", ""):
            return default
        if name.endswith("/*"):  # text/*, application/*: the default if it fits, else the first
            fitting = [m for m in (default, *supported) if m.startswith(name[:-1])]
            if fitting:
                return fitting[0]
    raise BadRequest(
        f"Accept {accept!r} is not supported; this model answers {', '.join(supported)}"
    )


def _default_accept(algorithm_default: str, supported: tuple[str, ...]) -> str:
    configured = os.environ.get(DEFAULT_ACCEPT_ENV, "").strip()
    if not configured:
        return algorithm_default
    name = payloads.media_type(configured)
    if name not in supported:
        raise ModelLoadError(
            f"{DEFAULT_ACCEPT_ENV}={configured!r} is not a format this model answers in "
            f"({', '.join(supported)})"
        )
    return name


# Built-in algorithms: what each answers with (SageMaker's response formats).


def _labels(values: np.ndarray) -> np.ndarray:
    # SageMaker's linear-learner writes class labels as integers ("predicted_label": 0).
    if values.dtype.kind == "f" and np.all(values == np.floor(values)):
        return values.astype(np.int64)
    return values


def _linear_learner(metadata: dict[str, Any]) -> Callable[[Any, np.ndarray], Fields]:
    kind = metadata["label"]["kind"]
    if kind == "regression":
        return lambda model, rows: [("score", call_estimator(model.predict, rows))]

    def classify(model: Any, rows: np.ndarray) -> Fields:
        probabilities = call_estimator(model.predict_proba, rows)
        labels = _labels(call_estimator(model.predict, rows))
        # Binary: the probability of class 1; multiclass: one probability per class.
        score = probabilities[:, 1] if kind == "binary" else probabilities
        return [("score", score), ("predicted_label", labels)]

    return classify


def _xgboost(metadata: dict[str, Any]) -> Callable[[Any, np.ndarray], Fields]:
    objective = metadata["hyperparameters"].get("objective", "reg:squarederror")
    if objective not in XGBOOST_OBJECTIVES:
        raise ModelLoadError(
            f"{METADATA_FILE}: xgboost objective {objective!r} is not one of "
            f"{', '.join(XGBOOST_OBJECTIVES)}"
        )
    if objective == "binary:logistic":
        return lambda model, rows: [("score", call_estimator(model.predict_proba, rows)[:, 1])]
    if objective == "multi:softprob":
        return lambda model, rows: [("score", call_estimator(model.predict_proba, rows))]
    # multi:softmax gives the class; the regression objectives the predicted value.
    return lambda model, rows: [("score", call_estimator(model.predict, rows))]


def _kmeans(model: Any, rows: np.ndarray) -> Fields:
    clusters = call_estimator(model.predict, rows)
    distances = call_estimator(model.transform, rows)[np.arange(len(rows)), clusters]
    return [("closest_cluster", clusters.astype(np.float64)), ("distance_to_cluster", distances)]


def _pca(model: Any, rows: np.ndarray) -> Fields:
    return [("projection", call_estimator(model.transform, rows))]


def _knn(model: Any, rows: np.ndarray) -> Fields:
    return [("predicted_label", call_estimator(model.predict, rows))]


def _randomcutforest(model: Any, rows: np.ndarray) -> Fields:
    # IsolationForest's score_samples is the negated anomaly score; RCF's is higher = odder.
    return [("score", -call_estimator(model.score_samples, rows))]


@dataclass(frozen=True)
class Builtin:
    key: str  # the JSON document's list
    default_accept: str
    methods: tuple[str, ...]  # what the estimator must have
    fields: Callable[[dict[str, Any]], Callable[[Any, np.ndarray], Fields]]


BUILTINS = {
    "linear-learner": Builtin("predictions", JSON, ("predict",), _linear_learner),
    "xgboost": Builtin("predictions", CSV, ("predict",), _xgboost),
    "kmeans": Builtin("predictions", JSON, ("predict", "transform"), lambda _: _kmeans),
    "pca": Builtin("projections", JSON, ("transform",), lambda _: _pca),
    "knn": Builtin("predictions", JSON, ("predict",), lambda _: _knn),
    "randomcutforest": Builtin("scores", JSON, ("score_samples",), lambda _: _randomcutforest),
}
BUILTIN_ACCEPTS = (JSON, JSONLINES, CSV)
PLAIN_ACCEPTS = (JSON, CSV, JSONLINES, NPY)


def load_model(model_dir: Path) -> Model:
    """The model in `model_dir`; ModelLoadError (one line, saying why) if it cannot be served."""
    metadata = read_metadata(model_dir)
    model_file = model_dir / MODEL_FILE
    estimator = load_estimator(model_file, model_dir)
    if metadata is None:
        if not callable(getattr(estimator, "predict", None)):
            raise ModelLoadError(
                f"{model_file} holds a {type(estimator).__name__}, which has no predict method"
            )
        return PlainModel(
            estimator,
            description=f"scikit-learn {type(estimator).__name__}",
            feature_dim=_int_or_none(getattr(estimator, "n_features_in_", None)),
            accepts=PLAIN_ACCEPTS,
            default_accept=JSON,
        )
    algorithm = metadata["algorithm"]
    builtin = BUILTINS[algorithm]
    for method in builtin.methods:
        if not callable(getattr(estimator, method, None)):
            raise ModelLoadError(
                f"{model_file} holds a {type(estimator).__name__}, which has no {method} "
                f"method, but {METADATA_FILE} says it is a {algorithm} model"
            )
    return BuiltinModel(
        estimator,
        key=builtin.key,
        fields=builtin.fields(metadata),
        csv_one_line=algorithm == "xgboost" and not _batch(),
        description=f"built-in {algorithm} ({type(estimator).__name__})",
        feature_dim=metadata["feature_dim"],
        accepts=BUILTIN_ACCEPTS,
        default_accept=builtin.default_accept,
    )


def _batch() -> bool:
    return os.environ.get(BATCH_ENV, "").strip().lower() in ("1", "true", "yes")


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, np.integer)) else None


def load_estimator(model_file: Path, model_dir: Path) -> Any:
    if not model_file.is_file():
        present = sorted(p.name for p in model_dir.iterdir())[:10] if model_dir.is_dir() else []
        listing = f" (it holds: {', '.join(present)})" if present else " (it is empty)"
        where = listing if model_dir.is_dir() else f"; {model_dir} does not exist"
        raise ModelLoadError(
            f"No model to serve: {model_file} is missing{where}; save the estimator with "
            f"joblib.dump(model, os.path.join(model_dir, {MODEL_FILE!r}))"
        )
    import joblib

    try:
        return joblib.load(model_file)
    except Exception as exc:  # a corrupt or foreign file fails in many ways; all are the same
        raise ModelLoadError(
            f"Cannot load {model_file} with joblib: {type(exc).__name__}: {exc}"
        ) from exc


def read_metadata(model_dir: Path) -> dict[str, Any] | None:
    """metadata.json checked field by field; None when there is none (a plain model)."""
    path = model_dir / METADATA_FILE
    if not path.exists():
        return None
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{path} is not readable JSON: {exc}") from exc
    if not isinstance(metadata, dict):
        raise ModelLoadError(f"{path} must hold a JSON object")
    algorithm = metadata.get("algorithm")
    if algorithm not in BUILTINS:
        raise ModelLoadError(f"{path}: algorithm {algorithm!r} is not one of {', '.join(BUILTINS)}")
    feature_dim = metadata.get("feature_dim")
    if not isinstance(feature_dim, int) or isinstance(feature_dim, bool) or feature_dim < 1:
        raise ModelLoadError(f"{path}: feature_dim must be a positive integer, not {feature_dim!r}")
    label = metadata.get("label")
    if not isinstance(label, dict) or label.get("kind") not in (
        "binary",
        "multiclass",
        "regression",
        "none",
    ):
        raise ModelLoadError(
            f'{path}: label must be {{"kind": "binary" | "multiclass" | "regression" | "none"}}'
        )
    if not isinstance(metadata.get("hyperparameters", {}), dict):
        raise ModelLoadError(f"{path}: hyperparameters must be a JSON object")
    metadata.setdefault("hyperparameters", {})
    model_file = metadata.get("model_file", MODEL_FILE)
    if model_file != MODEL_FILE:
        raise ModelLoadError(f"{path}: model_file must be {MODEL_FILE!r}, not {model_file!r}")
    return metadata
