"""kmeans: scikit-learn's KMeans (Lloyd's algorithm) on the features.

Like SageMaker's k-means on CSV, every column is a feature unless the channel's ContentType is
`text/csv;label_size=1`, in which case the first column is ignored.
"""

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


def train(hp: Hyperparameters, paths: Paths, config: JobConfig) -> TrainedModel:
    k = hp["k"]
    init_method = hp["init_method"]
    max_iter = hp["local_lloyd_max_iter"]
    tol = hp["local_lloyd_tol"]
    num_trials = hp["local_lloyd_num_trials"]
    eval_metrics = hp["eval_metrics"]
    feature_dim = hp["feature_dim"]

    train_set, evaluations = load_channels(paths, config, supervised=False, feature_dim=feature_dim)
    if k > len(train_set.x):
        raise UserError(
            f"Hyperparameter k={k} for kmeans: more clusters than the {len(train_set.x)} "
            "rows of channel 'train'"
        )

    from sklearn.cluster import KMeans

    from studio_toolkit.algorithms import TrainedModel

    model = KMeans(
        n_clusters=k,
        init="k-means++" if init_method == "kmeans++" else "random",
        max_iter=max_iter,
        tol=tol,
        n_init=num_trials or "auto",
        random_state=0,
    ).fit(train_set.x)
    for dataset in (train_set, *evaluations):
        squared = np.min(model.transform(dataset.x), axis=1) ** 2
        values = {"msd": float(squared.mean()), "ssd": float(squared.sum())}
        for name in eval_metrics:
            print_metric(dataset.channel, name, values[name])
    return TrainedModel(
        estimator=model,
        feature_dim=train_set.x.shape[1],
        label_kind="none",
        prediction="predict: closest_cluster; transform: distance to each cluster",
    )
