"""The built-in algorithms' hyperparameters, as data, and the one way they are read.

The algorithms read their hyperparameters with `read` (through studio_toolkit.algorithms.
hyperparameters), and the platform loads this file to refuse at CreateTrainingJob what the
algorithm would refuse once running, as SageMaker does for its built-ins: the same rules and the
same code on both sides, so they cannot drift. Only the standard library is imported, so the
platform can load the file without scikit-learn or the rest of this package.

Each hyperparameter has a kind ("integer", "number", "choice", "boolean", "names") and rules:
`required`, `default`, `minimum` / `maximum`, `positive` (greater than 0), `auto` (the value
"auto" lets the algorithm choose, read as None), `options` (choice, names). With `depends_on`,
the value of an earlier hyperparameter picks `options` and `default` (dicts keyed by its values).
"""

from __future__ import annotations

import json
import math
from typing import Any

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def integer(default: int | None = None, **rules: Any) -> dict[str, Any]:
    return {"kind": "integer", "default": default, **rules}


def number(default: float | None = None, **rules: Any) -> dict[str, Any]:
    return {"kind": "number", "default": None if default is None else float(default), **rules}


def choice(options: Any, default: str | None = None, **rules: Any) -> dict[str, Any]:
    return {"kind": "choice", "options": tuple(options), "default": default, **rules}


def boolean(default: bool) -> dict[str, Any]:
    return {"kind": "boolean", "default": default}


def names(options: Any, default: Any, **rules: Any) -> dict[str, Any]:
    return {"kind": "names", "options": options, "default": default, **rules}


FEATURE_DIM = integer(minimum=1, auto=True)

LINEAR_LEARNER_PREDICTOR_TYPES = ("binary_classifier", "multiclass_classifier", "regressor")
KNN_INDEX_METRICS = ("L2", "COSINE")
# XGBoost objective → the task it trains for, and the eval metrics of each task.
XGBOOST_OBJECTIVE_TASKS = {
    "reg:squarederror": "regression",
    "reg:linear": "regression",  # XGBoost's old name for squarederror
    "reg:absoluteerror": "regression",
    "count:poisson": "regression",
    "reg:gamma": "regression",
    "binary:logistic": "binary",
    "multi:softmax": "multiclass",
    "multi:softprob": "multiclass",
}
XGBOOST_TASK_METRICS = {
    "binary": ("accuracy", "auc", "error", "f1", "logloss"),
    "multiclass": ("accuracy", "merror", "mlogloss", "f1"),
    "regression": ("rmse", "mse", "mae"),
}
_XGBOOST_DEFAULT_METRIC = {"binary": "logloss", "multiclass": "mlogloss", "regression": "rmse"}

HYPERPARAMETERS = {
    "linear-learner": {
        "predictor_type": choice(LINEAR_LEARNER_PREDICTOR_TYPES, required=True),
        "epochs": integer(15, minimum=1),
        "learning_rate": number(positive=True, auto=True),
        "wd": number(minimum=0, auto=True),
        "l1": number(minimum=0, auto=True),
        "use_bias": boolean(True),
        "normalize_data": boolean(True),
        "normalize_label": boolean(True),
        "num_classes": integer(minimum=3),
        "feature_dim": FEATURE_DIM,
    },
    "xgboost": {
        "num_round": integer(required=True, minimum=1),
        "objective": choice(XGBOOST_OBJECTIVE_TASKS, "reg:squarederror"),
        "eta": number(0.3, positive=True, maximum=1),
        "max_depth": integer(6, minimum=0),
        "max_leaves": integer(0, minimum=0),
        "max_bin": integer(256, minimum=2),
        "min_child_weight": number(1, minimum=0),
        "lambda": number(1, minimum=0),
        "colsample_bynode": number(1, positive=True, maximum=1),
        "num_class": integer(minimum=2),
        "seed": integer(0),
        "early_stopping_rounds": integer(minimum=1),
        "eval_metric": names(
            {o: XGBOOST_TASK_METRICS[t] for o, t in XGBOOST_OBJECTIVE_TASKS.items()},
            {
                o: ["mae" if o == "reg:absoluteerror" else _XGBOOST_DEFAULT_METRIC[t]]
                for o, t in XGBOOST_OBJECTIVE_TASKS.items()
            },
            depends_on="objective",
        ),
    },
    "kmeans": {
        "k": integer(required=True, minimum=1),
        "init_method": choice(("random", "kmeans++"), "random"),
        "local_lloyd_max_iter": integer(300, minimum=1),
        "local_lloyd_tol": number(0.0001, minimum=0),
        "local_lloyd_num_trials": integer(minimum=1, auto=True),
        "eval_metrics": names(("msd", "ssd"), ["msd"]),
        "feature_dim": FEATURE_DIM,
    },
    "pca": {
        "num_components": integer(required=True, minimum=1),
        "algorithm_mode": choice(("regular", "randomized"), "regular"),
        "subtract_mean": boolean(True),
        "feature_dim": FEATURE_DIM,
    },
    "knn": {
        "k": integer(required=True, minimum=1),
        "predictor_type": choice(("classifier", "regressor"), required=True),
        "sample_size": integer(minimum=1),
        "index_metric": choice(KNN_INDEX_METRICS, "L2"),
        "feature_dim": FEATURE_DIM,
    },
    "randomcutforest": {
        "num_trees": integer(100, minimum=1),
        "num_samples_per_tree": integer(256, minimum=1),
        "eval_metrics": names(
            ("accuracy", "precision_recall_fscore"), ["accuracy", "precision_recall_fscore"]
        ),
        "feature_dim": FEATURE_DIM,
    },
}

# Hyperparameters that only work with a channel the job must then have (each algorithm checks it
# again when it runs, as its data may still lack the channel).
CHANNEL_NEEDED = {
    "xgboost": {"early_stopping_rounds": "validation"},
}

# SageMaker hyperparameters of each algorithm that have no effect here (tuning knobs of its own
# implementation): accepted, so jobs written for SageMaker keep working.
ACCEPTED_UNUSED = {
    # Settings of SageMaker linear-learner's own optimizer and model selection.
    "linear-learner": frozenset(
        {
            "accuracy_top_k",
            "balance_multiclass_weights",
            "beta_1",
            "beta_2",
            "bias_lr_mult",
            "bias_wd_mult",
            "binary_classifier_model_selection_criteria",
            "early_stopping_patience",
            "early_stopping_tolerance",
            "f_beta",
            "huber_delta",
            "init_bias",
            "init_method",
            "init_scale",
            "init_sigma",
            "loss",
            "loss_insensitivity",
            "lr_scheduler_factor",
            "lr_scheduler_minimum_lr",
            "lr_scheduler_step",
            "margin",
            "mini_batch_size",
            "momentum",
            "num_calibration_samples",
            "num_models",
            "num_point_for_scaler",
            "optimizer",
            "positive_example_weight_mult",
            "quantile",
            "target_precision",
            "target_recall",
            "unbias_data",
            "unbias_label",
            "use_lr_scheduler",
        }
    ),
    # SageMaker XGBoost settings with no HistGradientBoosting counterpart.
    "xgboost": frozenset(
        {
            "alpha",
            "base_score",
            "booster",
            "colsample_bylevel",
            "colsample_bytree",
            "csv_weights",
            "deterministic_histogram",
            "gamma",
            "grow_policy",
            "interaction_constraints",
            "lambda_bias",
            "max_delta_step",
            "monotone_constraints",
            "normalize_type",
            "nthread",
            "one_drop",
            "process_type",
            "rate_drop",
            "refresh_leaf",
            "sample_type",
            "scale_pos_weight",
            "sketch_eps",
            "skip_drop",
            "subsample",
            "tree_method",
            "tweedie_variance_power",
            "updater",
            "verbosity",
        }
    ),
    # Settings of SageMaker's mini-batch k-means.
    "kmeans": frozenset(
        {
            "epochs",
            "extra_center_factor",
            "half_life_time_size",
            "local_lloyd_init_method",
            "mini_batch_size",
        }
    ),
    "pca": frozenset({"extra_components", "mini_batch_size"}),
    # Settings of SageMaker k-NN's FAISS index.
    "knn": frozenset(
        {
            "dimension_reduction_target",
            "dimension_reduction_type",
            "faiss_index_ivf_nlists",
            "faiss_index_pq_m",
            "index_type",
            "mini_batch_size",
        }
    ),
    "randomcutforest": frozenset(),
}
# Set by tuning jobs and the SageMaker SDK on any job: never the algorithm's own.
PASSED_THROUGH_PREFIXES = ("_", "sagemaker_")


class Invalid(ValueError):
    """A hyperparameter the algorithm cannot take. `value` is None when it is missing; `rule`
    says in words what it must be ("an integer of at least 3"). For names the algorithm does
    not know, `name` is the first of `unknown` and `known` lists the names it does know."""

    def __init__(
        self,
        name: str,
        value: str | None,
        rule: str,
        unknown: tuple[str, ...] | list[str] = (),
        known: list[str] | tuple[str, ...] = (),
    ) -> None:
        self.name, self.value, self.rule = name, value, rule
        self.unknown, self.known = tuple(unknown), tuple(known)
        super().__init__(f"{name}: {rule}")


def _range(spec):
    minimum, maximum = spec.get("minimum"), spec.get("maximum")
    if spec.get("positive"):
        return " greater than 0" + ("" if maximum is None else f" and at most {maximum}")
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" of at least {minimum}"
    if maximum is not None:
        return f" of at most {maximum}"
    return ""


def describe(spec: dict[str, Any]) -> str:
    """What a value of `spec` must be, in words: "an integer of at least 1"."""
    kind = spec["kind"]
    auto = ' or "auto"' if spec.get("auto") else ""
    if kind == "integer":
        return "an integer" + _range(spec) + auto
    if kind == "number":
        return "a number" + _range(spec) + auto
    if kind == "choice":
        return "one of " + ", ".join(spec["options"])
    if kind == "boolean":
        return "true or false"
    context = f" (those of {spec['context']})" if "context" in spec else ""
    return f"one or more of {', '.join(spec['options'])}{context}, comma-separated or a JSON list"


def _in_range(spec, value):
    minimum, maximum = spec.get("minimum"), spec.get("maximum")
    return (
        (not spec.get("positive") or value > 0)
        and (minimum is None or value >= minimum)
        and (maximum is None or value <= maximum)
    )


def _parse(spec, value):
    """`value` (a stripped string) read as `spec` says; ValueError if it cannot be."""
    kind = spec["kind"]
    if kind in ("integer", "number"):
        if spec.get("auto") and value == "auto":
            return None
        try:
            result = float(value)
        except ValueError:
            result = math.nan
        if not math.isfinite(result) or (kind == "integer" and not result.is_integer()):
            raise ValueError(value)
        result = int(result) if kind == "integer" else result
        if not _in_range(spec, result):
            raise ValueError(value)
        return result
    if kind == "choice":
        if value not in spec["options"]:
            raise ValueError(value)
        return value
    if kind == "boolean":
        if value.lower() not in _TRUE | _FALSE:
            raise ValueError(value)
        return value.lower() in _TRUE
    try:
        decoded = json.loads(value)
    except ValueError:
        decoded = value.split(",")
    items = decoded if isinstance(decoded, list) else [decoded]
    chosen = [str(item).strip() for item in items if str(item).strip()]
    if not chosen or any(item not in spec["options"] for item in chosen):
        raise ValueError(value)
    return chosen


def _resolved(spec, values):
    """`spec` with the options and default its `depends_on` hyperparameter's value picks."""
    if "depends_on" not in spec:
        return spec
    other = spec["depends_on"]
    key = values[other]
    return {
        **spec,
        "options": spec["options"][key],
        "default": spec["default"][key],
        "context": f"{other} {key}",
    }


def known_names(algorithm: str) -> list[str]:
    return sorted({*HYPERPARAMETERS[algorithm], *ACCEPTED_UNUSED[algorithm]})


def read(algorithm: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Every hyperparameter of `algorithm` from `raw` (values as SageMaker passes them, strings),
    defaults filled in and "auto" read as None; Invalid for the first one it cannot take,
    in declaration order, then for the first name it does not know."""
    given = {name: str(value).strip() for name, value in raw.items()}
    values = {}
    for name, declared in HYPERPARAMETERS[algorithm].items():
        spec = _resolved(declared, values)
        rule = describe(spec)
        value = given.get(name)
        if value is None:
            if spec.get("required"):
                raise Invalid(name, None, rule)
            default = spec["default"]
            values[name] = list(default) if isinstance(default, (list, tuple)) else default
            continue
        try:
            values[name] = _parse(spec, value)
        except ValueError:
            raise Invalid(name, value, rule) from None
    unknown = [
        name
        for name in sorted(given)
        if name not in values
        and name not in ACCEPTED_UNUSED[algorithm]
        and not name.startswith(PASSED_THROUGH_PREFIXES)
    ]
    if unknown:
        name = unknown[0]
        raise Invalid(
            name,
            given[name],
            "not a hyperparameter of " + algorithm,
            unknown,
            known_names(algorithm),
        )
    return values
