"""Users' inference handlers, as SageMaker's scikit-learn container runs them.

`SAGEMAKER_PROGRAM` names a script in `<model dir>/code` (where the SDK packs it) or in
`SAGEMAKER_SUBMIT_DIRECTORY` (a local directory). It may define `model_fn(model_dir)`,
`input_fn(body, content_type)`, `predict_fn(data, model)`, `output_fn(prediction, accept)` or
`transform_fn(model, body, content_type, accept)`; what it leaves out is done as for a plain
model (joblib's `model.joblib`, the formats of `payloads`, `predict`), except that JSON
answers are the bare array, as SageMaker's default `output_fn` writes them.
As in SageMaker, `input_fn` gets a str for text/csv and application/json bodies, else bytes.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from studio_toolkit.serving import payloads
from studio_toolkit.serving.errors import BadRequest, ModelLoadError
from studio_toolkit.serving.models import (
    MODEL_FILE,
    PLAIN_ACCEPTS,
    Model,
    Response,
    choose_accept,
    encode_values,
    load_estimator,
)
from studio_toolkit.serving.payloads import CSV, JSON

PROGRAM_ENV = "SAGEMAKER_PROGRAM"
SUBMIT_DIRECTORY_ENV = "SAGEMAKER_SUBMIT_DIRECTORY"
TEXT_TYPES = (CSV, JSON)


def user_program() -> str | None:
    return os.environ.get(PROGRAM_ENV, "").strip() or None


def load_user_model(model_dir: Path, program: str) -> UserModel:
    module = import_program(model_dir, program)
    if hasattr(module, "model_fn"):
        try:
            model = module.model_fn(str(model_dir))
        except Exception as exc:
            raise ModelLoadError(
                f"model_fn of {program} failed: {type(exc).__name__}: {exc}"
            ) from exc
    else:
        model = load_estimator(model_dir / MODEL_FILE, model_dir)
    return UserModel(model, module, program)


def import_program(model_dir: Path, program: str) -> ModuleType:
    directories = [model_dir / "code"]
    submit_dir = os.environ.get(SUBMIT_DIRECTORY_ENV, "").strip().removeprefix("file://")
    if submit_dir and "://" not in submit_dir:
        directories.append(Path(submit_dir))
    path = next((d / program for d in directories if (d / program).is_file()), None)
    if path is None:
        raise ModelLoadError(
            f"{PROGRAM_ENV}={program!r} is not in {' or '.join(map(str, directories))}"
        )
    # The script imports its own modules from beside it, as in SageMaker.
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ModelLoadError(f"{path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise ModelLoadError(f"Importing {path} failed: {type(exc).__name__}: {exc}") from exc
    return module


class UserModel(Model):
    """A model served through the user's handlers; anything they raise is a 500 with its
    message, except a ValueError from input_fn, which is about the request (400)."""

    def __init__(self, model: Any, module: ModuleType, program: str) -> None:
        super().__init__(
            model,
            description=f"{program} handlers ({type(model).__name__})",
            feature_dim=None,
            accepts=PLAIN_ACCEPTS,
            default_accept=JSON,
        )
        self.module = module
        self.program = program

    def invoke(self, body: bytes, content_type: str, accept: str) -> Response:
        module = self.module
        media = payloads.media_type(accept) if accept else ""
        if media in ("", "*/*"):
            media = self.default_accept
        if hasattr(module, "transform_fn"):
            result = module.transform_fn(self.estimator, body, content_type, media)
            return _response(result, media)
        if hasattr(module, "input_fn"):
            text = payloads.media_type(content_type) in TEXT_TYPES
            try:
                data = module.input_fn(body.decode("utf-8") if text else body, content_type)
            except UnicodeDecodeError as exc:
                raise BadRequest(f"The {content_type} body is not UTF-8: {exc}") from None
            except ValueError as exc:
                raise BadRequest(f"input_fn of {self.program}: {exc}") from None
        else:
            rows, columns = payloads.decode(body, content_type)
            data = self.features(rows, columns)
        if hasattr(module, "predict_fn"):
            prediction = module.predict_fn(data, self.estimator)
        else:
            prediction = self.estimator.predict(data)
        if hasattr(module, "output_fn"):
            return _response(module.output_fn(prediction, media), media)
        # As the scikit-learn container's default output_fn (sagemaker-inference's encoder):
        # JSON is the bare array, which the SDK's JSONDeserializer hands back as a list.
        media = choose_accept(media, self.accepts, self.default_accept)
        return encode_values(prediction, media, wrapped=False)


def _response(result: Any, media: str) -> Response:
    """What a handler returned: a body, or (body, content type) as some handlers return."""
    content_type = media
    if isinstance(result, tuple) and len(result) == 2:
        result, content_type = result
    if isinstance(result, str):
        result = result.encode()
    if not isinstance(result, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"the handler returned a {type(result).__name__}; return bytes or str "
            "(or a (body, content_type) pair)"
        )
    return Response(bytes(result), str(content_type))
