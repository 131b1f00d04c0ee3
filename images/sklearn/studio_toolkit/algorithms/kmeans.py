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

# SageMaker k-means settings of its mini-batch implementation.
ACCEPTED_UNUSED = {
    "epochs",
    "extra_center_factor",
    "half_life_time_size",
    "local_lloyd_init_method",
    "mini_batch_size",
}


def train(hp: Hyperparameters, paths: Paths, config: JobConfig) -> TrainedModel:
    k = hp.integer("k", required=True, minimum=1)
    init_method = hp.choice("init_method", ("random", "kmeans++"), "random")
    max_iter = hp.integer("local_lloyd_max_iter", 300, minimum=1)
    tol = hp.number("local_lloyd_tol", 0.0001, minimum=0)
    num_trials = hp.integer("local_lloyd_num_trials", None, minimum=1, auto=True)
    eval_metrics = hp.names("eval_metrics", ("msd", "ssd"), ["msd"])
    feature_dim = hp.integer("feature_dim", None, minimum=1, auto=True)
    hp.reject_unknown(ACCEPTED_UNUSED)

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
