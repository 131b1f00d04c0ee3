"""`train`: the sklearn image's training entry point (SageMaker's training container contract).

With STUDIO_BUILTIN_ALGORITHM set (the platform sets it for AlgorithmSpecification.AlgorithmName)
it runs that built-in algorithm; otherwise it runs the user's script (script mode). On failure
it writes a short reason to `/opt/ml/output/failure` and exits non-zero.
"""

from __future__ import annotations

import os
import sys
import traceback

from studio_toolkit.environment import Paths, num_cpus, read_job_config
from studio_toolkit.errors import UserError

BUILTIN_ENV = "STUDIO_BUILTIN_ALGORITHM"
INTERNAL_ERROR_EXIT_CODE = 2


def main() -> None:
    """Run the job and exit with its status."""
    sys.exit(run(Paths.from_env()))


def run(paths: Paths) -> int:
    """Run the job under `paths`; return the container's exit code."""
    # Line-buffered so metric lines reach the platform's log stream as they are printed.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    # OpenMP (scikit-learn, numpy) would size its thread pool from the host's CPUs, not the
    # instance type's cgroup quota, and oversubscribe a small container.
    os.environ.setdefault("OMP_NUM_THREADS", str(num_cpus()))
    try:
        # A failure file left by an earlier attempt (RetryStrategy) must not stand for this one.
        paths.failure_file.unlink(missing_ok=True)
        for directory in (paths.model_dir, paths.output_data_dir):
            directory.mkdir(parents=True, exist_ok=True)
        config = read_job_config(paths)
        algorithm = os.environ.get(BUILTIN_ENV, "").strip()
        # Each mode imports only its own modules: script mode needs none of numpy's start-up.
        if algorithm:
            from studio_toolkit.algorithms import run_builtin

            run_builtin(algorithm, paths, config)
        else:
            from studio_toolkit.script_mode import run_script

            run_script(paths, config)
    except UserError as exc:
        _report_failure(paths, str(exc))
        return exc.exit_code
    except Exception as exc:
        traceback.print_exc()
        _report_failure(
            paths, f"Internal error in the training toolkit: {type(exc).__name__}: {exc}"
        )
        return INTERNAL_ERROR_EXIT_CODE
    print("Training finished.", flush=True)
    return 0


def _report_failure(paths: Paths, reason: str) -> None:
    print(f"Training failed: {reason}", file=sys.stderr, flush=True)
    # A script may write its own reason (the contract allows it); that one wins.
    if paths.failure_file.exists():
        return
    try:
        paths.output_dir.mkdir(parents=True, exist_ok=True)
        paths.failure_file.write_text(reason + "\n", encoding="utf-8")
    except OSError as exc:
        print(f"Could not write {paths.failure_file}: {exc}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
