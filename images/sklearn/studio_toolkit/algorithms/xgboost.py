"""xgboost: histogram gradient boosting (scikit-learn's HistGradientBoosting*), one tree per round.

Rounds are added one at a time (warm_start) so each prints its eval metrics as it finishes,
like XGBoost's own `[i] train-... validation-...` log, and a chart of them grows live.
Missing values (empty fields, "nan") are allowed in the features, as in XGBoost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from studio_toolkit.algorithms.data import Dataset, check_class_labels, load_channels
from studio_toolkit.algorithms.hyperparameters import Hyperparameters
from studio_toolkit.algorithms.report import print_metric, safe
from studio_toolkit.environment import JobConfig, Paths
from studio_toolkit.errors import UserError
from studio_toolkit.hyperparameter_specs import XGBOOST_OBJECTIVE_TASKS, XGBOOST_TASK_METRICS

if TYPE_CHECKING:
    from studio_toolkit.algorithms import TrainedModel

# objective → HistGradientBoosting's loss (the objectives and their tasks are
# hyperparameter_specs.XGBOOST_OBJECTIVE_TASKS).
LOSSES = {
    "reg:squarederror": "squared_error",
    "reg:linear": "squared_error",
    "reg:absoluteerror": "absolute_error",
    "count:poisson": "poisson",
    "reg:gamma": "gamma",
    "binary:logistic": "log_loss",
    "multi:softmax": "log_loss",
    "multi:softprob": "log_loss",
}
MAXIMIZED = {"accuracy", "auc", "f1"}


def train(hp: Hyperparameters, paths: Paths, config: JobConfig) -> TrainedModel:
    num_round = hp["num_round"]
    objective = hp["objective"]
    task, loss = XGBOOST_OBJECTIVE_TASKS[objective], LOSSES[objective]
    eta = hp["eta"]
    max_depth = hp["max_depth"]
    max_leaves = hp["max_leaves"]
    max_bin = hp["max_bin"]
    min_child_weight = hp["min_child_weight"]
    l2 = hp["lambda"]
    colsample_bynode = hp["colsample_bynode"]
    num_class = hp["num_class"]
    seed = hp["seed"]
    early_stopping_rounds = hp["early_stopping_rounds"]
    eval_metric = hp["eval_metric"]

    train_set, evaluations = load_channels(paths, config, supervised=True, allow_missing=True)
    if task != "regression":
        for dataset in (train_set, *evaluations):
            check_class_labels(
                dataset,
                binary=task == "binary",
                num_classes=num_class,
                context=f"objective={objective}",
            )
    watched = next((d for d in evaluations if d.channel == "validation"), None)
    if early_stopping_rounds is not None and watched is None:
        raise UserError("Hyperparameter early_stopping_rounds needs a 'validation' channel")

    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    from studio_toolkit.algorithms import TrainedModel

    estimator_class = (
        HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    )
    model = estimator_class(
        loss=loss,
        learning_rate=eta,
        max_iter=1,
        max_depth=max_depth or None,  # 0: no limit, as in XGBoost
        max_leaf_nodes=max_leaves if max_leaves >= 2 else None,
        max_bins=min(max_bin, 255),  # the most HistGradientBoosting bins (plus one for NaN)
        # XGBoost's min_child_weight is a hessian sum; a row count is the closest here.
        min_samples_leaf=max(1, round(min_child_weight)),
        l2_regularization=l2,
        max_features=colsample_bynode,
        early_stopping=False,  # rounds are ours to stop (early_stopping_rounds)
        warm_start=True,
        random_state=seed,
    )
    x_train, y_train = train_set.x, train_set.require_labels()
    best: tuple[float, int] | None = None
    for round_number in range(1, num_round + 1):
        model.set_params(max_iter=round_number)
        model.fit(x_train, y_train)
        step = f"{round_number}/{num_round}"
        for dataset in (train_set, *evaluations):
            values = _metrics(task, model, dataset, eval_metric)
            for name in eval_metric:
                print_metric(dataset.channel, name, values[name], step)
        if watched is not None and early_stopping_rounds is not None:
            value = _metrics(task, model, watched, eval_metric[-1:])[eval_metric[-1]]
            score = -value if eval_metric[-1] in MAXIMIZED else value
            if best is None or score < best[0]:
                best = (score, round_number)
            elif round_number - best[1] >= early_stopping_rounds:
                print(
                    f"Stopping: validation:{eval_metric[-1]} has not improved for "
                    f"{early_stopping_rounds} rounds (best round {best[1]})",
                    flush=True,
                )
                break

    for dataset in (train_set, *evaluations):
        values = _metrics(task, model, dataset, XGBOOST_TASK_METRICS[task])
        for name, value in values.items():
            print_metric(dataset.channel, name, value)

    if task == "regression":
        return TrainedModel(
            estimator=model,
            feature_dim=x_train.shape[1],
            label_kind="regression",
            prediction="predict: score",
        )
    return TrainedModel(
        estimator=model,
        feature_dim=x_train.shape[1],
        label_kind=task,
        classes=[float(c) for c in model.classes_],
        prediction=(
            "predict_proba[:, 1]: score (binary:logistic)"
            if task == "binary"
            else "predict: predicted_label (multi:softmax); predict_proba: scores (multi:softprob)"
        ),
    )


def _metrics(
    task: str, model: object, dataset: Dataset, names: tuple[str, ...] | list[str]
) -> dict[str, float | None]:
    from sklearn import metrics

    y = dataset.require_labels()
    if task == "regression":
        predicted = model.predict(dataset.x)  # type: ignore[attr-defined]
        mse = metrics.mean_squared_error(y, predicted)
        values = {"rmse": mse**0.5, "mse": mse, "mae": metrics.mean_absolute_error(y, predicted)}
        return {name: values[name] for name in names}

    probabilities = model.predict_proba(dataset.x)  # type: ignore[attr-defined]
    classes = model.classes_  # type: ignore[attr-defined]
    predicted = classes[np.argmax(probabilities, axis=1)]
    accuracy = metrics.accuracy_score(y, predicted)
    computed: dict[str, float | None] = {}
    for name in names:
        if name == "accuracy":
            computed[name] = accuracy
        elif name in ("error", "merror"):
            computed[name] = 1 - accuracy
        elif name in ("logloss", "mlogloss"):
            computed[name] = safe(metrics.log_loss, y, probabilities, labels=classes)
        elif name == "auc":
            computed[name] = safe(metrics.roc_auc_score, y, probabilities[:, -1])
        elif name == "f1":
            average = "binary" if task == "binary" else "macro"
            computed[name] = metrics.f1_score(y, predicted, average=average, zero_division=0)
    return computed
