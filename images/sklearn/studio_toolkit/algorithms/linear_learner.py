"""linear-learner: a linear model trained by SGD, one pass per epoch, metrics after each.

predictor_type binary_classifier / multiclass_classifier use logistic loss (SGDClassifier),
regressor squared loss (SGDRegressor). Features are standardized (normalize_data) and, for the
regressor, so is the label (normalize_label), then folded back into the coefficients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from studio_toolkit.algorithms.data import check_class_labels, load_channels
from studio_toolkit.algorithms.hyperparameters import Hyperparameters
from studio_toolkit.algorithms.report import print_metric, safe
from studio_toolkit.environment import JobConfig, Paths

if TYPE_CHECKING:
    from studio_toolkit.algorithms import TrainedModel


def train(hp: Hyperparameters, paths: Paths, config: JobConfig) -> TrainedModel:
    predictor_type = hp["predictor_type"]
    epochs = hp["epochs"]
    learning_rate = hp["learning_rate"]
    wd = hp["wd"] or 0.0
    l1 = hp["l1"] or 0.0
    use_bias = hp["use_bias"]
    normalize_data = hp["normalize_data"]
    normalize_label = hp["normalize_label"]
    num_classes = hp["num_classes"]
    feature_dim = hp["feature_dim"]

    train_set, evaluations = load_channels(paths, config, supervised=True, feature_dim=feature_dim)
    classifier = predictor_type != "regressor"
    if classifier:
        for dataset in (train_set, *evaluations):
            check_class_labels(
                dataset,
                binary=predictor_type == "binary_classifier",
                num_classes=num_classes,
                context=f"predictor_type={predictor_type}",
            )

    from sklearn.linear_model import SGDClassifier, SGDRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from studio_toolkit.algorithms import TrainedModel

    scaler = StandardScaler().fit(train_set.x) if normalize_data else None

    def features(x: np.ndarray) -> np.ndarray:
        return scaler.transform(x) if scaler is not None else x

    # A tiny L2 penalty by default, like SageMaker's "auto" wd picks when it tunes nothing.
    alpha = wd + l1 or 1e-4
    regularization = {
        "penalty": "elasticnet" if l1 else "l2",
        "alpha": alpha,
        "l1_ratio": l1 / alpha,
        "fit_intercept": use_bias,
        "random_state": 0,
    }
    x_train = features(train_set.x)
    y_train = train_set.require_labels()
    rng = np.random.default_rng(0)
    if classifier:
        classes = np.unique(y_train)
        if num_classes is not None:
            classes = np.arange(num_classes, dtype=float)
        elif predictor_type == "binary_classifier":
            classes = np.array([0.0, 1.0])
        schedule = (
            {"learning_rate": "optimal"}
            if learning_rate is None
            else {"learning_rate": "invscaling", "eta0": learning_rate}
        )
        model = SGDClassifier(loss="log_loss", **schedule, **regularization)
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(y_train))
            model.partial_fit(x_train[order], y_train[order], classes=classes)
            for dataset in (train_set, *evaluations):
                probabilities = model.predict_proba(features(dataset.x))
                loss = safe(_log_loss, dataset.require_labels(), probabilities, classes)
                print_metric(dataset.channel, "objective_loss", loss, f"epoch {epoch}/{epochs}")
    else:
        # Training on a standardized label keeps SGD's steps sensible whatever its scale.
        offset, scale = (
            (float(y_train.mean()), float(y_train.std()) or 1.0) if normalize_label else (0.0, 1.0)
        )
        model = SGDRegressor(
            loss="squared_error",
            learning_rate="invscaling",
            eta0=learning_rate or 0.01,
            **regularization,
        )
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(y_train))
            model.partial_fit(x_train[order], (y_train[order] - offset) / scale)
            for dataset in (train_set, *evaluations):
                predicted = model.predict(features(dataset.x)) * scale + offset
                mse = float(np.mean((predicted - dataset.require_labels()) ** 2))
                print_metric(dataset.channel, "objective_loss", mse, f"epoch {epoch}/{epochs}")
        # Back to the label's own units, so the saved model is a plain SGDRegressor.
        model.coef_ = model.coef_ * scale
        model.intercept_ = model.intercept_ * scale + offset

    estimator = Pipeline([("scale", scaler), ("model", model)]) if scaler is not None else model
    for dataset in (train_set, *evaluations):
        _final_metrics(
            predictor_type, estimator, dataset.x, dataset.require_labels(), dataset.channel
        )

    if classifier:
        return TrainedModel(
            estimator=estimator,
            feature_dim=train_set.x.shape[1],
            label_kind="binary" if predictor_type == "binary_classifier" else "multiclass",
            classes=[float(c) for c in model.classes_],
            prediction="predict: predicted_label; predict_proba: score per class",
        )
    return TrainedModel(
        estimator=estimator,
        feature_dim=train_set.x.shape[1],
        label_kind="regression",
        prediction="predict: score",
    )


def _log_loss(y: np.ndarray, probabilities: np.ndarray, classes: np.ndarray) -> float:
    from sklearn.metrics import log_loss

    return log_loss(y, probabilities, labels=classes)


def _final_metrics(
    predictor_type: str, estimator: object, x: np.ndarray, y: np.ndarray, channel: str
) -> None:
    from sklearn import metrics

    predicted = estimator.predict(x)  # type: ignore[attr-defined]
    if predictor_type == "regressor":
        mse = metrics.mean_squared_error(y, predicted)
        print_metric(channel, "objective_loss", mse)
        print_metric(channel, "mse", mse)
        print_metric(channel, "rmse", mse**0.5)
        print_metric(channel, "absolute_loss", metrics.mean_absolute_error(y, predicted))
        return
    probabilities = estimator.predict_proba(x)  # type: ignore[attr-defined]
    classes = estimator.classes_  # type: ignore[attr-defined]
    print_metric(channel, "objective_loss", safe(_log_loss, y, probabilities, classes))
    if predictor_type == "binary_classifier":
        print_metric(
            channel, "binary_classification_accuracy", metrics.accuracy_score(y, predicted)
        )
        print_metric(channel, "binary_f_beta", metrics.f1_score(y, predicted, zero_division=0))
        print_metric(channel, "precision", metrics.precision_score(y, predicted, zero_division=0))
        print_metric(channel, "recall", metrics.recall_score(y, predicted, zero_division=0))
        print_metric(channel, "roc_auc_score", safe(metrics.roc_auc_score, y, probabilities[:, 1]))
    else:
        print_metric(channel, "multiclass_accuracy", metrics.accuracy_score(y, predicted))
        for name, score in (
            ("macro_f_beta", metrics.f1_score),
            ("macro_precision", metrics.precision_score),
            ("macro_recall", metrics.recall_score),
        ):
            print_metric(channel, name, score(y, predicted, average="macro", zero_division=0))
