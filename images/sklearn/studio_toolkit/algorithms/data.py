"""CSV channels as SageMaker's built-in algorithms take them: no header, label first.

Supervised algorithms read the label from the first column (`text/csv`, or explicitly
`text/csv;label_size=1`). Unsupervised ones (kmeans, pca, randomcutforest) read every column as a
feature unless the channel says `label_size=1`, as SageMaker documents `label_size=0` for them.
Files may be gzip-compressed (detected by content, so `.csv.gz` and CompressionType Gzip work).
Parsing is done by hand, not with pandas, so every error can name the file and line.
"""

from __future__ import annotations

import csv
import gzip
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio_toolkit.environment import JobConfig, Paths
from studio_toolkit.errors import UserError

EVALUATION_CHANNELS = ("validation", "test")
_CSV_TYPES = {"text/csv", "csv", "text/x-csv", "application/csv"}
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class Dataset:
    """One channel's rows: features `x`, labels `y` (None without a label column)."""

    channel: str
    x: np.ndarray
    y: np.ndarray | None
    # Row i came from files[file_index[i]], line line_number[i]: for error messages.
    files: list[str]
    file_index: np.ndarray
    line_number: np.ndarray

    def where(self, row: int) -> str:
        return (
            f"channel {self.channel!r}, {self.files[self.file_index[row]]} "
            f"line {self.line_number[row]}"
        )

    def require_labels(self) -> np.ndarray:
        if self.y is None:
            raise UserError(f"Channel {self.channel!r} has no label column")
        return self.y


def label_size(config: JobConfig, channel: str, default: int) -> int:
    """The channel's label column count from its ContentType; fails on non-CSV content."""
    content_type = str(config.input_data_config.get(channel, {}).get("ContentType") or "text/csv")
    media_type, *params = (part.strip() for part in content_type.split(";"))
    if media_type.lower() not in _CSV_TYPES:
        raise UserError(
            f"Channel {channel!r} has ContentType {content_type!r}; the built-in algorithms "
            "here read text/csv (label in the first column, no header)"
        )
    size = default
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "label_size":
            if value.strip() not in ("0", "1"):
                raise UserError(
                    f"Channel {channel!r} ContentType {content_type!r}: label_size must be 0 or 1"
                )
            size = int(value)
    return size


def load_channels(
    paths: Paths,
    config: JobConfig,
    *,
    supervised: bool,
    allow_missing: bool = False,
    feature_dim: int | None = None,
) -> tuple[Dataset, list[Dataset]]:
    """The `train` channel (required) and the `validation` / `test` channels present.

    `allow_missing` lets empty fields and "nan" through as NaN (for algorithms that handle
    missing values); labels are never allowed to be missing. `feature_dim`, when the job set
    it, must match the number of feature columns.
    """
    if not _present(paths, config, "train"):
        others = [p.name for p in sorted(paths.input_data_dir.glob("*")) if p.is_dir()]
        others = sorted(set(others) | set(config.input_data_config))
        hint = f"; this job has: {', '.join(others)}" if others else ""
        raise UserError(f"The built-in algorithms need a 'train' channel{hint}")
    datasets = []
    for channel in ("train", *EVALUATION_CHANNELS):
        if channel != "train" and not _present(paths, config, channel):
            continue
        size = label_size(config, channel, default=1 if supervised else 0)
        if supervised and size == 0:
            raise UserError(
                f"Channel {channel!r} says label_size=0, but this algorithm needs the label "
                "in the first column"
            )
        dataset = read_csv_channel(paths.channel_dir(channel), channel, size, allow_missing)
        print(
            f"Channel {channel!r}: {dataset.x.shape[0]} rows, {dataset.x.shape[1]} features"
            + (", label in the first column" if size else ""),
            flush=True,
        )
        datasets.append(dataset)
    train, evaluations = datasets[0], datasets[1:]
    expected = train.x.shape[1]
    if feature_dim is not None and feature_dim != expected:
        hint = (
            " (if the first column is a label, give the channel ContentType text/csv;label_size=1)"
            if not supervised and expected == feature_dim + 1
            else ""
        )
        raise UserError(
            f"Hyperparameter feature_dim={feature_dim} but channel 'train' has {expected} "
            f"feature columns{hint}"
        )
    for dataset in evaluations:
        if dataset.x.shape[1] != expected:
            raise UserError(
                f"Channel {dataset.channel!r} has {dataset.x.shape[1]} feature columns but "
                f"'train' has {expected}"
            )
    return train, evaluations


def _present(paths: Paths, config: JobConfig, channel: str) -> bool:
    return channel in config.input_data_config or paths.channel_dir(channel).is_dir()


def read_csv_channel(
    directory: Path, channel: str, label_columns: int, allow_missing: bool
) -> Dataset:
    """Every file under the channel's directory (sorted; hidden files skipped), as one table."""
    if not directory.is_dir():
        raise UserError(f"Channel {channel!r} has no data directory ({directory})")
    files = sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    )
    if not files:
        raise UserError(f"Channel {channel!r} has no files")

    rows: list[list[float]] = []
    file_index: list[int] = []
    line_numbers: list[int] = []
    width: int | None = None
    names = [str(p.relative_to(directory)) for p in files]
    for index, (path, name) in enumerate(zip(files, names, strict=True)):
        for line_number, fields in _csv_rows(path, channel, name):
            if width is None:
                width = len(fields)
                if width <= label_columns:
                    raise UserError(
                        f"Channel {channel!r}, {name} line {line_number}: "
                        f"{width} column(s), but features are needed after the label"
                    )
            elif len(fields) != width:
                raise UserError(
                    f"Channel {channel!r}, {name} line {line_number}: {len(fields)} columns, "
                    f"expected {width} like the first row"
                )
            rows.append(
                _parse_row(fields, channel, name, line_number, label_columns, allow_missing)
            )
            file_index.append(index)
            line_numbers.append(line_number)
    if not rows:
        raise UserError(f"Channel {channel!r} has no data rows ({', '.join(names)} empty)")

    table = np.asarray(rows, dtype=np.float64)
    return Dataset(
        channel=channel,
        x=table[:, label_columns:],
        y=table[:, 0] if label_columns else None,
        files=names,
        file_index=np.asarray(file_index),
        line_number=np.asarray(line_numbers),
    )


def _csv_rows(path: Path, channel: str, name: str) -> Iterator[tuple[int, list[str]]]:
    with path.open("rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
    try:
        opener = gzip.open if compressed else open
        with opener(path, "rt", encoding="utf-8", newline="") as text:
            reader = csv.reader(text)
            for fields in reader:
                if fields and any(f.strip() for f in fields):
                    yield reader.line_num, fields
    except (UnicodeDecodeError, OSError, EOFError, csv.Error) as exc:
        raise UserError(f"Channel {channel!r}, {name}: not a readable CSV file ({exc})") from exc


def _parse_row(
    fields: list[str],
    channel: str,
    name: str,
    line_number: int,
    label_columns: int,
    allow_missing: bool,
) -> list[float]:
    values = []
    for column, field in enumerate(fields, start=1):
        text = field.strip()
        try:
            value = float(text) if text else math.nan
        except ValueError:
            hint = (
                " (the built-in algorithms take CSV without a header row)"
                if line_number == 1
                else ""
            )
            raise UserError(
                f"Channel {channel!r}, {name} line {line_number}, column {column}: "
                f"{text[:40]!r} is not a number{hint}"
            ) from None
        if not math.isfinite(value):
            what = "label" if column <= label_columns else "value"
            if column <= label_columns or not (allow_missing and math.isnan(value)):
                raise UserError(
                    f"Channel {channel!r}, {name} line {line_number}, column {column}: "
                    f"missing or non-finite {what} {text!r}"
                )
        values.append(value)
    return values


def check_class_labels(
    dataset: Dataset, *, binary: bool, num_classes: int | None, context: str
) -> None:
    """Labels as SageMaker's classifiers take them: 0/1, or class indexes 0..num_classes-1.

    `context` names the setting that asks for it (e.g. "objective=binary:logistic").
    """
    y = dataset.require_labels()
    if binary:
        bad = ~np.isin(y, (0.0, 1.0))
        rule = "0 or 1"
    else:
        limit = num_classes if num_classes is not None else math.inf
        bad = (y < 0) | (y != np.floor(y)) | (y >= limit)
        rule = "a class index 0, 1, 2, ..." + (
            f" below num_classes={num_classes}" if num_classes is not None else ""
        )
    if bad.any():
        row = int(np.argmax(bad))
        raise UserError(f"{dataset.where(row)}: label {y[row]:g} must be {rule} ({context})")
