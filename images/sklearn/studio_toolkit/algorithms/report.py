"""Metric lines in the format BUILTIN_METRIC_DEFINITIONS matches: `<channel>:<metric>=<value>`."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


def print_metric(channel: str, name: str, value: float | None, step: str = "") -> None:
    """One metric line; `step` (like "epoch 3/15") prefixes the per-iteration ones. Values that
    are missing or not finite are left out: the definitions' regex matches numbers only."""
    if value is None or not math.isfinite(value):
        return
    prefix = f"[{step}] " if step else ""
    print(f"{prefix}{channel}:{name}={value:.6g}", flush=True)


def safe(metric: Callable[..., Any], *args: Any, **kwargs: Any) -> float | None:
    """`metric(*args, **kwargs)`, or None where it is undefined for this data (ROC AUC on a
    channel holding one class, for example)."""
    try:
        return float(metric(*args, **kwargs))
    except ValueError:
        return None
