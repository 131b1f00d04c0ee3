"""MetricDefinitions of the built-in algorithms, as data the platform imports.

Deliberately free of imports (not even the rest of this package), so the platform can load it
without scikit-learn. Each algorithm prints one `<channel>:<metric>=<value>` line per metric,
for the `train` channel and for `validation` and `test` when the job has them; iterative ones
(linear-learner per epoch, xgboost per round) print a line per step, so the last value is final.
At most 40 definitions per algorithm, SageMaker's limit for a training job.
"""

CHANNELS = ("train", "validation", "test")
VALUE_PATTERN = "([0-9.eE+-]+)"

METRICS = {
    "linear-learner": (
        "objective_loss",
        # predictor_type binary_classifier
        "binary_classification_accuracy",
        "binary_f_beta",
        "precision",
        "recall",
        "roc_auc_score",
        # multiclass_classifier
        "multiclass_accuracy",
        "macro_f_beta",
        "macro_precision",
        "macro_recall",
        # regressor
        "mse",
        "rmse",
        "absolute_loss",
    ),
    "xgboost": (
        "accuracy",
        "auc",
        "error",
        "f1",
        "logloss",
        "mae",
        "merror",
        "mlogloss",
        "mse",
        "rmse",
    ),
    "kmeans": ("msd", "ssd"),
    "pca": ("explained_variance_ratio", "reconstruction_mse"),
    "knn": ("accuracy", "mse", "rmse"),
    "randomcutforest": ("mean_anomaly_score", "accuracy", "precision", "recall", "f1"),
}

BUILTIN_METRIC_DEFINITIONS = {
    algorithm: [
        {"Name": f"{channel}:{metric}", "Regex": f"{channel}:{metric}={VALUE_PATTERN}"}
        for channel in CHANNELS
        for metric in metrics
    ]
    for algorithm, metrics in METRICS.items()
}
