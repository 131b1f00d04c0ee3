"""pca: scikit-learn's PCA (subtract_mean true) or TruncatedSVD (subtract_mean false).

Every column is a feature unless the channel's ContentType is `text/csv;label_size=1`.
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
    num_components = hp["num_components"]
    algorithm_mode = hp["algorithm_mode"]
    subtract_mean = hp["subtract_mean"]
    feature_dim = hp["feature_dim"]

    train_set, evaluations = load_channels(paths, config, supervised=False, feature_dim=feature_dim)
    rows, features = train_set.x.shape
    # TruncatedSVD needs fewer components than features; PCA allows as many.
    limit = min(rows, features) if subtract_mean else min(rows, features - 1)
    if num_components > limit:
        raise UserError(
            f"Hyperparameter num_components={num_components} for pca: at most {limit} here "
            f"(channel 'train' has {rows} rows and {features} features)"
        )

    from sklearn.decomposition import PCA, TruncatedSVD

    from studio_toolkit.algorithms import TrainedModel

    if subtract_mean:
        model = PCA(
            n_components=num_components,
            svd_solver="full" if algorithm_mode == "regular" else "randomized",
            random_state=0,
        )
    else:
        model = TruncatedSVD(n_components=num_components, random_state=0)
    model.fit(train_set.x)
    # Share of the variance around train's mean (or of the raw energy, without centering)
    # that the components keep, and the mean squared error of the reconstruction.
    center = train_set.x.mean(axis=0) if subtract_mean else 0.0
    for dataset in (train_set, *evaluations):
        residual = dataset.x - model.inverse_transform(model.transform(dataset.x))
        total = float(np.sum((dataset.x - center) ** 2))
        explained = 1 - float(np.sum(residual**2)) / total if total else None
        print_metric(dataset.channel, "explained_variance_ratio", explained)
        print_metric(dataset.channel, "reconstruction_mse", float(np.mean(residual**2)))
    return TrainedModel(
        estimator=model,
        feature_dim=features,
        label_kind="none",
        prediction="transform: projection",
    )
