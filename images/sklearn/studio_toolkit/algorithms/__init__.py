"""Built-in algorithms: SageMaker's names and hyperparameters, scikit-learn estimators inside.

Each algorithm module reads its hyperparameters and the CSV channels first and imports
scikit-learn only after that: the import takes seconds, and bad input should be reported
without that wait. The fitted estimator is saved with joblib as `model/model.joblib`, next to
`model/metadata.json` describing it for the serving side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from studio_toolkit import __version__
from studio_toolkit.algorithms import kmeans, knn, linear_learner, pca, randomcutforest, xgboost
from studio_toolkit.algorithms.hyperparameters import Hyperparameters
from studio_toolkit.environment import JobConfig, Paths
from studio_toolkit.errors import UserError

ALGORITHMS: dict[str, ModuleType] = {
    "linear-learner": linear_learner,
    "xgboost": xgboost,
    "kmeans": kmeans,
    "pca": pca,
    "knn": knn,
    "randomcutforest": randomcutforest,
}
MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"


@dataclass
class TrainedModel:
    """What an algorithm hands back: the fitted estimator and how to read its predictions."""

    estimator: Any
    feature_dim: int
    # "binary", "multiclass", "regression" or "none" (unsupervised), and the classes if any.
    label_kind: str
    # What the serving side should call and what it returns, e.g. "predict: cluster index".
    prediction: str
    classes: list[float] = field(default_factory=list)


def canonical_name(name: str) -> str:
    """SageMaker's algorithm name for `name`, forgiving case, a ":version" suffix and
    hyphens ("K-Means", "random-cut-forest", "xgboost:1.7-1")."""
    key = name.strip().lower().split(":")[0].replace("-", "").replace("_", "")
    for canonical in ALGORITHMS:
        if canonical.replace("-", "") == key:
            return canonical
    raise UserError(f"Unknown built-in algorithm {name!r}; this image has: {', '.join(ALGORITHMS)}")


def run_builtin(name: str, paths: Paths, config: JobConfig) -> None:
    """Train built-in algorithm `name` on the job's channels and save the model."""
    algorithm = canonical_name(name)
    print(f"Built-in algorithm {algorithm} (scikit-learn implementation)", flush=True)
    hyperparameters = Hyperparameters(algorithm, config.hyperparameters)
    try:
        trained = ALGORITHMS[algorithm].train(hyperparameters, paths, config)
    except ValueError as exc:
        # scikit-learn reports what it cannot fit on (too few rows for k, labels a loss
        # cannot take, ...) with ValueError; those are about the job's data or settings.
        raise UserError(f"{algorithm} could not train on this data: {exc}") from exc
    save(trained, algorithm, hyperparameters.effective, paths)


def save(
    trained: TrainedModel, algorithm: str, hyperparameters: dict[str, Any], paths: Paths
) -> None:
    import joblib
    import sklearn

    paths.model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(trained.estimator, paths.model_dir / MODEL_FILE)
    metadata = {
        "algorithm": algorithm,
        "hyperparameters": hyperparameters,
        "feature_dim": trained.feature_dim,
        "label": {"kind": trained.label_kind, "classes": trained.classes},
        "prediction": trained.prediction,
        "estimator": f"{type(trained.estimator).__module__}.{type(trained.estimator).__name__}",
        "content_type": "text/csv",
        "model_file": MODEL_FILE,
        "scikit_learn_version": sklearn.__version__,
        "toolkit_version": __version__,
    }
    (paths.model_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
    print(f"Saved the model to {paths.model_dir / MODEL_FILE}", flush=True)
