"""randomcutforest: scikit-learn's IsolationForest, the same idea (random partitions isolate
anomalies in few cuts) with SageMaker's hyperparameter names.

Training reads features only, as SageMaker's random cut forest does. A channel whose
ContentType is `text/csv;label_size=1` (1 = anomaly, 0 = normal) is also scored against its
labels: accuracy, precision, recall and f1, SageMaker's test metrics for this algorithm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio_toolkit.algorithms.data import load_channels
from studio_toolkit.algorithms.hyperparameters import Hyperparameters
from studio_toolkit.algorithms.report import print_metric
from studio_toolkit.environment import JobConfig, Paths

if TYPE_CHECKING:
    from studio_toolkit.algorithms import TrainedModel


def train(hp: Hyperparameters, paths: Paths, config: JobConfig) -> TrainedModel:
    num_trees = hp["num_trees"]
    num_samples_per_tree = hp["num_samples_per_tree"]
    eval_metrics = hp["eval_metrics"]
    feature_dim = hp["feature_dim"]

    train_set, evaluations = load_channels(paths, config, supervised=False, feature_dim=feature_dim)

    from sklearn import metrics
    from sklearn.ensemble import IsolationForest

    from studio_toolkit.algorithms import TrainedModel

    model = IsolationForest(
        n_estimators=num_trees,
        max_samples=min(num_samples_per_tree, len(train_set.x)),
        random_state=0,
    ).fit(train_set.x)
    for dataset in (train_set, *evaluations):
        # score_samples is the negated anomaly score; higher means more anomalous, as in RCF.
        print_metric(
            dataset.channel, "mean_anomaly_score", float(-model.score_samples(dataset.x).mean())
        )
        if dataset.y is None:
            continue
        predicted = (model.predict(dataset.x) == -1).astype(float)
        if "accuracy" in eval_metrics:
            print_metric(dataset.channel, "accuracy", metrics.accuracy_score(dataset.y, predicted))
        if "precision_recall_fscore" in eval_metrics:
            for name, score in (
                ("precision", metrics.precision_score),
                ("recall", metrics.recall_score),
                ("f1", metrics.f1_score),
            ):
                print_metric(dataset.channel, name, score(dataset.y, predicted, zero_division=0))
    return TrainedModel(
        estimator=model,
        feature_dim=train_set.x.shape[1],
        label_kind="none",
        prediction=(
            "-score_samples: anomaly score (higher is more anomalous); "
            "predict: -1 anomaly, 1 normal"
        ),
    )
