"""The `/opt/ml` tree, its configuration files and the `SM_*` environment built from them.

The layout and the variables follow SageMaker's training container contract (and the
sagemaker-training-toolkit's formatting of them), so users' scripts run unchanged.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio_toolkit.errors import UserError

ROOT_ENV = "STUDIO_ML_ROOT"
DEFAULT_ROOT = "/opt/ml"

# Hyperparameters the SageMaker SDK sets for the toolkit itself: they are not passed to the
# user's script, and (unlike other `sagemaker_*` names) not listed in SM_FRAMEWORK_PARAMS.
TOOLKIT_HYPERPARAMETERS = frozenset(
    {
        "sagemaker_program",
        "sagemaker_submit_directory",
        "sagemaker_region",
        "sagemaker_job_name",
        "sagemaker_container_log_level",
        "sagemaker_enable_cloudwatch_metrics",
        "sagemaker_s3_output",
    }
)
SAGEMAKER_PREFIX = "sagemaker_"
FRAMEWORK_MODULE = "studio_toolkit.train:main"


@dataclass(frozen=True)
class Paths:
    """Where things are under the `/opt/ml` root (overridable with STUDIO_ML_ROOT)."""

    root: Path

    @classmethod
    def from_env(cls) -> Paths:
        return cls(Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT))

    @property
    def input_dir(self) -> Path:
        return self.root / "input"

    @property
    def input_config_dir(self) -> Path:
        return self.input_dir / "config"

    @property
    def input_data_dir(self) -> Path:
        return self.input_dir / "data"

    @property
    def code_dir(self) -> Path:
        return self.root / "code"

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.output_dir / "data"

    @property
    def output_intermediate_dir(self) -> Path:
        return self.output_dir / "intermediate"

    @property
    def failure_file(self) -> Path:
        return self.output_dir / "failure"

    def channel_dir(self, channel: str) -> Path:
        return self.input_data_dir / channel


@dataclass(frozen=True)
class JobConfig:
    """The three configuration files of `/opt/ml/input/config`."""

    hyperparameters: dict[str, Any]  # as written: SageMaker writes every value as a string
    input_data_config: dict[str, dict[str, Any]]
    resource_config: dict[str, Any]

    @property
    def current_host(self) -> str:
        return str(self.resource_config.get("current_host", "algo-1"))

    @property
    def hosts(self) -> list[str]:
        return list(self.resource_config.get("hosts") or [self.current_host])


def _read_json(path: Path, default: Any) -> Any:
    # Missing files are tolerated so the toolkit also runs on a hand-made tree; SageMaker (and
    # the platform) always write all three.
    if not path.exists():
        return default
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{path.name} is not readable JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise UserError(f"{path.name} must hold a JSON object, not {type(value).__name__}")
    return value


def read_job_config(paths: Paths) -> JobConfig:
    """Read hyperparameters.json, inputdataconfig.json and resourceconfig.json."""
    config_dir = paths.input_config_dir
    return JobConfig(
        hyperparameters=_read_json(config_dir / "hyperparameters.json", {}),
        input_data_config=_read_json(config_dir / "inputdataconfig.json", {}),
        resource_config=_read_json(
            config_dir / "resourceconfig.json", {"current_host": "algo-1", "hosts": ["algo-1"]}
        ),
    )


def decode_hyperparameters(raw: dict[str, Any]) -> dict[str, Any]:
    """Decode JSON-looking values ("10" → 10, "true" → True, '["a"]' → ["a"]), as the
    sagemaker-training-toolkit does; anything else stays the string it was."""
    decoded = {}
    for name, value in raw.items():
        try:
            decoded[name] = json.loads(value)
        except (TypeError, ValueError):
            decoded[name] = value
    return decoded


def channel_names(paths: Paths, config: JobConfig) -> list[str]:
    """Channels named in inputdataconfig.json, plus any directory placed under input/data."""
    names = set(config.input_data_config)
    if paths.input_data_dir.is_dir():
        names.update(p.name for p in paths.input_data_dir.iterdir() if p.is_dir())
    return sorted(names)


def num_cpus() -> int:
    """CPUs this container may use: the affinity mask, capped by a cgroup CPU quota.

    os.cpu_count() would report the host's CPUs, while the platform limits a job to its
    instance type's vCPUs with a cgroup quota.
    """
    count = len(os.sched_getaffinity(0))
    quota = _cgroup_cpu_quota()
    if quota is not None:
        count = min(count, max(1, math.ceil(quota)))
    return count


def _cgroup_cpu_quota() -> float | None:
    try:  # cgroup v2: "max 100000" or "<quota> <period>"
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:  # cgroup v1
        quota_us = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period_us = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        return None if quota_us <= 0 else quota_us / period_us
    except (OSError, ValueError):
        return None


def num_gpus() -> int:
    """GPUs visible in the container, counted as the SageMaker toolkit does (nvidia-smi)."""
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        listing = subprocess.run(
            ["nvidia-smi", "--list-gpus"], capture_output=True, text=True, timeout=10, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in listing.splitlines() if line.startswith("GPU "))


def to_cmd_args(hyperparameters: dict[str, Any]) -> list[str]:
    """`--name value` pairs, sorted by name, formatted as the SageMaker toolkit formats them."""
    args: list[str] = []
    for name in sorted(hyperparameters):
        value = hyperparameters[name]
        args.append(f"--{name}" if len(name) > 1 else f"-{name}")
        if isinstance(value, dict):
            args.append(",".join(f"{k}={v}" for k, v in sorted(value.items())))
        else:
            args.append("" if value is None else str(value))
    return args


def _env_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def script_mode_environment(
    paths: Paths,
    config: JobConfig,
    *,
    program: str,
    module_dir: str,
) -> tuple[dict[str, str], list[str]]:
    """The `SM_*` variables and the command-line arguments for a user's script."""
    decoded = decode_hyperparameters(config.hyperparameters)
    user_hps = {k: v for k, v in decoded.items() if not k.startswith(SAGEMAKER_PREFIX)}
    framework_params = {
        k: v
        for k, v in decoded.items()
        if k.startswith(SAGEMAKER_PREFIX) and k not in TOOLKIT_HYPERPARAMETERS
    }
    channels = channel_names(paths, config)
    channel_dirs = {name: str(paths.channel_dir(name)) for name in channels}
    user_args = to_cmd_args(user_hps)
    hosts = config.hosts
    job_name = os.environ.get("TRAINING_JOB_NAME") or decoded.get("sagemaker_job_name")
    module_name = program[:-3] if program.endswith(".py") else program

    training_env = {
        "additional_framework_parameters": framework_params,
        "channel_input_dirs": channel_dirs,
        "current_host": config.current_host,
        "current_instance_type": config.resource_config.get("current_instance_type", "local"),
        "framework_module": FRAMEWORK_MODULE,
        "hosts": hosts,
        "hyperparameters": user_hps,
        "input_config_dir": str(paths.input_config_dir),
        "input_data_config": config.input_data_config,
        "input_dir": str(paths.input_dir),
        "is_master": config.current_host == hosts[0],
        "job_name": job_name,
        "log_level": decoded.get("sagemaker_container_log_level", 20),
        "master_hostname": hosts[0],
        "model_dir": str(paths.model_dir),
        "module_dir": module_dir,
        "module_name": module_name,
        "network_interface_name": config.resource_config.get("network_interface_name", "eth0"),
        "num_cpus": num_cpus(),
        "num_gpus": num_gpus(),
        "output_data_dir": str(paths.output_data_dir),
        "output_dir": str(paths.output_dir),
        "output_intermediate_dir": str(paths.output_intermediate_dir),
        "resource_config": config.resource_config,
        "user_entry_point": program,
    }
    variables: dict[str, Any] = {
        "hosts": hosts,
        "network_interface_name": training_env["network_interface_name"],
        "hps": user_hps,
        "user_entry_point": program,
        "framework_params": framework_params,
        "resource_config": config.resource_config,
        "input_data_config": config.input_data_config,
        "output_data_dir": training_env["output_data_dir"],
        "channels": channels,
        "current_host": config.current_host,
        "current_instance_type": training_env["current_instance_type"],
        "module_name": module_name,
        "log_level": training_env["log_level"],
        "framework_module": FRAMEWORK_MODULE,
        "input_dir": training_env["input_dir"],
        "input_config_dir": training_env["input_config_dir"],
        "output_dir": training_env["output_dir"],
        "num_cpus": training_env["num_cpus"],
        "num_gpus": training_env["num_gpus"],
        "model_dir": training_env["model_dir"],
        "module_dir": module_dir,
        "training_env": training_env,
        "user_args": user_args,
        "output_intermediate_dir": training_env["output_intermediate_dir"],
    }
    variables.update({f"channel_{name}": path for name, path in channel_dirs.items()})
    variables.update({f"hp_{name}": value for name, value in user_hps.items()})

    env = {f"SM_{key.upper()}": _env_value(value) for key, value in variables.items()}
    if job_name:
        env["TRAINING_JOB_NAME"] = str(job_name)
    return env, user_args
