"""knn: scikit-learn's KNeighborsClassifier / KNeighborsRegressor over the training rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from studio_toolkit.algorithms.data import load_channels
from studio_toolkit.algorithms.hyperparameters import Hyperparameters
from studio_toolkit.algorithms.report import print_metric
from studio_toolkit.environment import JobConfig, Paths
from studio_toolkit.errors import UserError

if TYPE_CHECKING:
    from studio_toolkit.algorithms import TrainedModel

# index_metric (hyperparameter_specs.KNN_INDEX_METRICS) → scikit-learn's metric.
METRICS = {"L2": "euclidean", "COSINE": "cosine"}


def train(hp: Hyperparameters, paths: Paths, config: JobConfig) -> TrainedModel:
    k = hp["k"]
    predictor_type = hp["predictor_type"]
    sample_size = hp["sample_size"]
    index_metric = hp["index_metric"]
    feature_dim = hp["feature_dim"]

    train_set, evaluations = load_channels(paths, config, supervised=True, feature_dim=feature_dim)
    x, y = train_set.x, train_set.require_labels()
    if sample_size is not None and sample_size < len(x):
        # SageMaker k-NN indexes a random sample of sample_size training rows.
        chosen = np.random.default_rng(0).choice(len(x), size=sample_size, replace=False)
        x, y = x[chosen], y[chosen]
    if k > len(x):
        raise UserError(
            f"Hyperparameter k={k} for knn: more neighbours than the {len(x)} training rows"
        )

    from sklearn import metrics
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    from studio_toolkit.algorithms import TrainedModel

    estimator_class = (
        KNeighborsClassifier if predictor_type == "classifier" else KNeighborsRegressor
    )
    model = estimator_class(n_neighbors=k, metric=METRICS[index_metric]).fit(x, y)
    for dataset in (train_set, *evaluations):
        labels = dataset.require_labels()
        predicted = model.predict(dataset.x)
        if predictor_type == "classifier":
            print_metric(dataset.channel, "accuracy", metrics.accuracy_score(labels, predicted))
        else:
            mse = metrics.mean_squared_error(labels, predicted)
            print_metric(dataset.channel, "mse", mse)
            print_metric(dataset.channel, "rmse", mse**0.5)
    if predictor_type == "classifier":
        return TrainedModel(
            estimator=model,
            feature_dim=x.shape[1],
            label_kind="multiclass",
            classes=[float(c) for c in model.classes_],
            prediction="predict: predicted_label",
        )
    return TrainedModel(
        estimator=model,
        feature_dim=x.shape[1],
        label_kind="regression",
        prediction="predict: predicted_label",
    )
