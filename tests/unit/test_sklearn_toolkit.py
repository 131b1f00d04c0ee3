"""The sklearn image's training toolkit, run on the host as the container runs it: `train` in a
subprocess over an `/opt/ml`-shaped tree (STUDIO_ML_ROOT), on small real CSV data.

Importing scikit-learn takes seconds here, so the successful built-in runs start together
(one module fixture) and the failure cases are ones the toolkit reports before that import.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLKIT_DIR = ROOT / "images" / "sklearn"
METRIC_LINE = re.compile(r"^(?:\[[^\]]+\] )?(train|validation|test):(\w+)=(\S+)$", re.M)

sys.path.insert(0, str(TOOLKIT_DIR))
from studio_toolkit import hyperparameter_specs  # noqa: E402
from studio_toolkit.environment import decode_hyperparameters, to_cmd_args  # noqa: E402
from studio_toolkit.metric_definitions import BUILTIN_METRIC_DEFINITIONS  # noqa: E402


@dataclass
class Job:
    root: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def failure(self) -> str | None:
        path = self.root / "output" / "failure"
        return path.read_text() if path.exists() else None

    def metrics(self) -> dict[str, float]:
        """The last value of each `<channel>:<metric>` line printed."""
        return {f"{c}:{m}": float(v) for c, m, v in METRIC_LINE.findall(self.stdout)}

    def load_model(self):
        import joblib

        return joblib.load(self.root / "model" / "model.joblib")

    def metadata(self) -> dict:
        return json.loads((self.root / "model" / "metadata.json").read_text())


def csv_text(table: np.ndarray) -> str:
    return "\n".join(",".join(f"{v:.6g}" for v in row) for row in table) + "\n"


def make_job(
    root: Path,
    hyperparameters: dict[str, str],
    channels: dict[str, dict[str, str | bytes]],
    content_types: dict[str, str] | None = None,
) -> Path:
    """An /opt/ml tree: config files and each channel's files."""
    config = root / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    content_types = content_types or {}
    (config / "inputdataconfig.json").write_text(
        json.dumps(
            {
                name: {
                    "ContentType": content_types.get(name, "text/csv"),
                    "TrainingInputMode": "File",
                    "S3DistributionType": "FullyReplicated",
                    "RecordWrapperType": "None",
                }
                for name in channels
            }
        )
    )
    (config / "resourceconfig.json").write_text(
        json.dumps(
            {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "eth0"}
        )
    )
    for name, files in channels.items():
        directory = root / "input" / "data" / name
        directory.mkdir(parents=True)
        for filename, content in files.items():
            path = directory / filename
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
    return root


def start(root: Path, algorithm: str | None = None, **env: str) -> subprocess.Popen:
    environment = {
        **os.environ,
        "PYTHONPATH": str(TOOLKIT_DIR),
        "STUDIO_ML_ROOT": str(root),
        # Tiny data: OpenMP threads cost more than they give, and the runs share the CPUs.
        "OMP_NUM_THREADS": "1",
        **env,
    }
    environment.pop("STUDIO_ALLOW_PIP", None)
    environment.pop("STUDIO_BUILTIN_ALGORITHM", None)
    if algorithm:
        environment["STUDIO_BUILTIN_ALGORITHM"] = algorithm
    return subprocess.Popen(
        [sys.executable, "-m", "studio_toolkit.train"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(root: Path, process: subprocess.Popen) -> Job:
    stdout, stderr = process.communicate(timeout=120)
    return Job(root, process.returncode, stdout, stderr)


def run(root: Path, algorithm: str | None = None, **env: str) -> Job:
    return finish(root, start(root, algorithm, **env))


# Small, seeded data sets: two or three well separated blobs, a linear target, outliers.
RNG = np.random.default_rng(7)


def blobs(rows: int, classes: int, features: int = 4) -> np.ndarray:
    labels = RNG.integers(0, classes, rows)
    centers = RNG.normal(scale=6, size=(classes, features))
    return np.column_stack([labels, centers[labels] + RNG.normal(size=(rows, features))])


BINARY = blobs(160, 2)
MULTICLASS = blobs(180, 3)
_X = RNG.normal(size=(160, 3))
REGRESSION = np.column_stack(
    [3 * _X[:, 0] - 2 * _X[:, 1] + 0.5 + RNG.normal(scale=0.1, size=160), _X]
)
CLUSTERS = blobs(150, 3)  # the label column is the true cluster, for checking only
_NORMAL = RNG.normal(size=(190, 3))
_OUTLIERS = RNG.uniform(8, 10, size=(10, 3)) * RNG.choice([-1, 1], size=(10, 3))
ANOMALIES = np.vstack(
    [np.column_stack([np.zeros(190), _NORMAL]), np.column_stack([np.ones(10), _OUTLIERS])]
)


def split(table: np.ndarray, at: int = 120) -> dict[str, dict[str, str]]:
    return {
        "train": {"train.csv": csv_text(table[:at])},
        "validation": {"v.csv": csv_text(table[at:])},
    }


BUILTIN_CASES = {
    "linear-learner-binary": (
        "linear-learner",
        {"predictor_type": "binary_classifier", "epochs": "5"},
        split(BINARY),
        {},
    ),
    "linear-learner-regressor": (
        "linear-learner",
        {"predictor_type": "regressor", "epochs": "10", "mini_batch_size": "32"},
        split(REGRESSION),
        {},
    ),
    # gzip'd CSV and the explicit label_size content type.
    "xgboost-binary": (
        "xgboost",
        {"num_round": "8", "objective": "binary:logistic", "max_depth": "3", "eta": "0.3"},
        {
            "train": {"train.csv.gz": gzip.compress(csv_text(BINARY[:120]).encode())},
            "validation": {"v.csv": csv_text(BINARY[120:])},
        },
        {"train": "text/csv;label_size=1"},
    ),
    "xgboost-multiclass": (
        "xgboost",
        {"num_round": "6", "objective": "multi:softmax", "num_class": "3"},
        split(MULTICLASS, 140),
        {},
    ),
    # Features only, as SageMaker's k-means takes them.
    "kmeans": (
        "kmeans",
        {"k": "3", "feature_dim": "4"},
        {"train": {"c.csv": csv_text(CLUSTERS[:, 1:])}},
        {},
    ),
    "pca": ("pca", {"num_components": "2"}, {"train": {"p.csv": csv_text(CLUSTERS[:, 1:])}}, {}),
    "knn": (
        "knn",
        {"k": "5", "predictor_type": "classifier", "sample_size": "100"},
        split(MULTICLASS, 140),
        {},
    ),
    "randomcutforest": (
        "randomcutforest",
        {"num_trees": "50", "num_samples_per_tree": "128"},
        {"train": {"t.csv": csv_text(ANOMALIES[:, 1:])}, "test": {"t.csv": csv_text(ANOMALIES)}},
        {"test": "text/csv;label_size=1"},
    ),
}


def run_all(base: Path, cases: dict[str, tuple]) -> dict[str, Job]:
    """Start every case's job at once, then collect them: each pays Python's start-up (and the
    successful built-ins scikit-learn's import), so running them side by side saves most of it."""
    started = {}
    for case, (algorithm, hyperparameters, channels, content_types) in cases.items():
        root = make_job(base / case / "ml", hyperparameters, channels, content_types)
        started[case] = (root, start(root, algorithm))
    return {case: finish(root, process) for case, (root, process) in started.items()}


@pytest.fixture(scope="module")
def builtin_jobs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Job]:
    return run_all(tmp_path_factory.mktemp("builtin"), BUILTIN_CASES)


@pytest.mark.parametrize("case", BUILTIN_CASES)
def test_builtin_completes_with_model_metadata_and_metric_lines(builtin_jobs, case):
    job = builtin_jobs[case]
    algorithm = BUILTIN_CASES[case][0]
    assert job.returncode == 0, job.stderr
    assert job.failure is None
    metadata = job.metadata()
    assert metadata["algorithm"] == algorithm
    assert metadata["feature_dim"] == (
        3 if case in ("randomcutforest", "linear-learner-regressor") else 4
    )
    # Every metric line is one the algorithm's MetricDefinitions pick up, and there are some.
    lines = [line for line in job.stdout.splitlines() if METRIC_LINE.match(line)]
    assert lines
    definitions = BUILTIN_METRIC_DEFINITIONS[algorithm]
    for line in lines:
        assert any(re.search(d["Regex"], line) for d in definitions), line


def test_linear_learner_classifies_and_reports_each_epoch(builtin_jobs):
    job = builtin_jobs["linear-learner-binary"]
    assert "[epoch 1/5] train:objective_loss=" in job.stdout
    assert "[epoch 5/5] validation:objective_loss=" in job.stdout
    metrics = job.metrics()
    assert metrics["validation:binary_classification_accuracy"] > 0.9
    model = job.load_model()
    assert (model.predict(BINARY[120:, 1:]) == BINARY[120:, 0]).mean() > 0.9
    assert job.metadata()["label"] == {"kind": "binary", "classes": [0.0, 1.0]}
    # SageMaker's hyperparameters of its own optimizer are accepted, with a note.
    assert "Unknown" not in job.stderr


def test_linear_learner_regressor_fits_the_line(builtin_jobs):
    job = builtin_jobs["linear-learner-regressor"]
    assert "mini_batch_size has no effect" in job.stderr
    predicted = job.load_model().predict(REGRESSION[120:, 1:])
    residual = predicted - REGRESSION[120:, 0]
    assert np.sqrt(np.mean(residual**2)) < 0.5
    assert job.metrics()["validation:rmse"] < 0.5


def test_xgboost_reports_every_round_and_predicts(builtin_jobs):
    job = builtin_jobs["xgboost-binary"]
    for round_number in range(1, 9):
        assert f"[{round_number}/8] validation:logloss=" in job.stdout
    metrics = job.metrics()
    assert metrics["validation:accuracy"] > 0.9
    assert metrics["validation:error"] == pytest.approx(1 - metrics["validation:accuracy"])
    model = job.load_model()
    assert type(model).__name__ == "HistGradientBoostingClassifier"
    assert model.n_iter_ == 8
    assert (model.predict(BINARY[120:, 1:]) == BINARY[120:, 0]).mean() > 0.9


def test_xgboost_multiclass(builtin_jobs):
    job = builtin_jobs["xgboost-multiclass"]
    assert job.metrics()["validation:merror"] < 0.1
    assert job.metadata()["label"]["classes"] == [0.0, 1.0, 2.0]
    assert (job.load_model().predict(MULTICLASS[140:, 1:]) == MULTICLASS[140:, 0]).mean() > 0.9


def test_kmeans_finds_the_clusters(builtin_jobs):
    from sklearn.metrics import adjusted_rand_score

    job = builtin_jobs["kmeans"]
    assert "train:msd=" in job.stdout
    clusters = job.load_model().predict(CLUSTERS[:, 1:])
    assert adjusted_rand_score(CLUSTERS[:, 0], clusters) > 0.9


def test_pca_projects(builtin_jobs):
    job = builtin_jobs["pca"]
    assert job.load_model().transform(CLUSTERS[:5, 1:]).shape == (5, 2)
    assert 0.5 < job.metrics()["train:explained_variance_ratio"] <= 1


def test_knn_classifies(builtin_jobs):
    job = builtin_jobs["knn"]
    assert job.metrics()["validation:accuracy"] > 0.9
    assert job.load_model().n_samples_fit_ == 100  # sample_size


def test_randomcutforest_flags_the_outliers(builtin_jobs):
    job = builtin_jobs["randomcutforest"]
    metrics = job.metrics()
    assert metrics["test:recall"] >= 0.9
    scores = -job.load_model().score_samples(ANOMALIES[:, 1:])
    assert scores[190:].min() > np.median(scores[:190])


# Failures reported before scikit-learn is imported: fast, and each names what is wrong.
def _binary_train(**files: str) -> dict[str, dict[str, str]]:
    return {"train": files or {"train.csv": csv_text(BINARY[:40])}}


FAILURE_CASES = {
    "not-an-integer": (
        "xgboost",
        {"num_round": "ten"},
        _binary_train(),
        "Hyperparameter num_round='ten' for xgboost: must be an integer",
    ),
    "out-of-range": (
        "xgboost",
        {"num_round": "5", "eta": "0"},
        _binary_train(),
        "Hyperparameter eta='0' for xgboost: must be a number greater than 0 and at most 1",
    ),
    "eval-metric-of-another-objective": (
        "xgboost",
        {"num_round": "5", "objective": "binary:logistic", "eval_metric": "rmse"},
        _binary_train(),
        "Hyperparameter eval_metric='rmse' for xgboost: must be one or more of accuracy, auc, "
        "error, f1, logloss (those of objective binary:logistic)",
    ),
    "bad-choice": (
        "linear-learner",
        {"predictor_type": "classifier"},
        _binary_train(),
        "predictor_type='classifier' for linear-learner: must be one of binary_classifier",
    ),
    "required": (
        "kmeans",
        {},
        _binary_train(),
        "Hyperparameter k for kmeans: is required (an integer of at least 1)",
    ),
    "unknown": (
        "pca",
        {"num_components": "2", "n_components": "2"},
        _binary_train(),
        "Unknown hyperparameter(s) for pca: n_components",
    ),
    "non-numeric": (
        "xgboost",
        {"num_round": "5"},
        _binary_train(**{"train.csv": "1,2,3\n0,4,5\n1,abc,6\n"}),
        "Channel 'train', train.csv line 3, column 2: 'abc' is not a number",
    ),
    "header": (
        "linear-learner",
        {"predictor_type": "binary_classifier"},
        _binary_train(**{"train.csv": "label,a,b\n1,2,3\n"}),
        "'label' is not a number (the built-in algorithms take CSV without a header row)",
    ),
    "ragged": (
        "knn",
        {"k": "1", "predictor_type": "classifier"},
        _binary_train(**{"train.csv": "1,2,3\n0,4\n"}),
        "train.csv line 2: 2 columns, expected 3",
    ),
    "empty": (
        "kmeans",
        {"k": "2"},
        _binary_train(**{"train.csv": ""}),
        "Channel 'train' has no data rows",
    ),
    "missing-channel": (
        "linear-learner",
        {"predictor_type": "regressor"},
        {"training": {"train.csv": csv_text(REGRESSION[:10])}},
        "need a 'train' channel; this job has: training",
    ),
    "binary-labels": (
        "linear-learner",
        {"predictor_type": "binary_classifier"},
        _binary_train(**{"train.csv": "0,1,2\n1,3,4\n2,5,6\n"}),
        "train.csv line 3: label 2 must be 0 or 1 (predictor_type=binary_classifier)",
    ),
    "feature-dim": (
        "kmeans",
        {"k": "2", "feature_dim": "2"},
        _binary_train(**{"train.csv": "0,1,2\n1,3,4\n"}),
        "feature_dim=2 but channel 'train' has 3 feature columns (if the first column is a label",
    ),
    "unknown-algorithm": (
        "deepar",
        {},
        _binary_train(),
        "Unknown built-in algorithm 'deepar'",
    ),
}


@pytest.fixture(scope="module")
def failure_jobs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Job]:
    cases = {case: (a, hps, channels, {}) for case, (a, hps, channels, _) in FAILURE_CASES.items()}
    return run_all(tmp_path_factory.mktemp("failure"), cases)


@pytest.mark.parametrize("case", FAILURE_CASES)
def test_bad_input_gives_a_clear_failure_reason(failure_jobs, case):
    reason = FAILURE_CASES[case][-1]
    job = failure_jobs[case]
    assert job.returncode == 1, job.stderr
    assert reason in job.failure
    assert reason in job.stderr
    assert not (job.root / "model" / "model.joblib").exists()


# Script mode.
USER_SCRIPT = """
import argparse, csv, json, os

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--learning-rate", type=float, default=0.1)
parser.add_argument("--model-dir", default=os.environ["SM_MODEL_DIR"])
parser.add_argument("--train", default=os.environ["SM_CHANNEL_TRAINING"])
args = parser.parse_args()

rows = list(csv.reader(open(os.path.join(args.train, "data.csv"))))
print("training on", len(rows), "rows")
with open(os.path.join(args.model_dir, "model.json"), "w") as f:
    json.dump({"epochs": args.epochs, "learning_rate": args.learning_rate, "rows": len(rows),
               "hp_epochs": os.environ["SM_HP_EPOCHS"]}, f)
env = {k: v for k, v in os.environ.items() if k.startswith("SM_") or k == "TRAINING_JOB_NAME"}
with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "env.json"), "w") as f:
    json.dump(env, f)
"""


def script_job(root: Path, script: str, **hyperparameters: str) -> Path:
    make_job(
        root,
        {
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": '"s3://b/code/sourcedir.tar.gz"',
            **hyperparameters,
        },
        {"training": {"data.csv": "1,2\n3,4\n5,6\n"}},
    )
    (root / "code").mkdir()
    (root / "code" / "train.py").write_text(script)
    return root


def test_script_mode_runs_the_user_script_with_the_sagemaker_environment(tmp_path):
    root = script_job(tmp_path / "ml", USER_SCRIPT, epochs="3", **{"learning-rate": "0.05"})
    (root / "code" / "requirements.txt").write_text("somepackage\n")
    job = run(root, TRAINING_JOB_NAME="job-1")
    assert job.returncode == 0, job.stderr
    assert "training on 3 rows" in job.stdout
    assert "Skipping pip install -r requirements.txt" in job.stdout
    model = json.loads((root / "model" / "model.json").read_text())
    assert model == {"epochs": 3, "learning_rate": 0.05, "rows": 3, "hp_epochs": "3"}

    env = json.loads((root / "output" / "data" / "env.json").read_text())
    assert env["SM_MODEL_DIR"] == str(root / "model")
    assert env["SM_CHANNELS"] == '["training"]'
    assert env["SM_CHANNEL_TRAINING"] == str(root / "input" / "data" / "training")
    assert json.loads(env["SM_HPS"]) == {"epochs": 3, "learning-rate": 0.05}
    assert json.loads(env["SM_USER_ARGS"]) == ["--epochs", "3", "--learning-rate", "0.05"]
    assert env["SM_HOSTS"] == '["algo-1"]'
    assert env["SM_CURRENT_HOST"] == "algo-1"
    assert int(env["SM_NUM_CPUS"]) >= 1
    assert env["SM_NUM_GPUS"] == "0"
    assert env["SM_MODULE_NAME"] == "train"
    assert env["SM_MODULE_DIR"] == "s3://b/code/sourcedir.tar.gz"
    assert env["SM_OUTPUT_DATA_DIR"] == str(root / "output" / "data")
    assert env["SM_INPUT_CONFIG_DIR"] == str(root / "input" / "config")
    assert env["TRAINING_JOB_NAME"] == "job-1"
    training_env = json.loads(env["SM_TRAINING_ENV"])
    assert training_env["hyperparameters"] == {"epochs": 3, "learning-rate": 0.05}
    assert training_env["channel_input_dirs"] == {"training": env["SM_CHANNEL_TRAINING"]}
    assert training_env["job_name"] == "job-1"


def test_script_mode_extracts_sourcedir_tar_gz(tmp_path):
    root = make_job(
        tmp_path / "ml", {"sagemaker_program": '"train.py"'}, {"training": {"d.csv": "1\n"}}
    )
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, text in {
            "train.py": "from lib.helper import save\nsave()\n",
            "lib/__init__.py": "",
            "lib/helper.py": (
                "import os\n"
                "def save():\n"
                "    open(os.path.join(os.environ['SM_MODEL_DIR'], 'model.txt'), 'w').write('ok')\n"
            ),
        }.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (root / "code").mkdir()
    (root / "code" / "sourcedir.tar.gz").write_bytes(archive.getvalue())
    job = run(root)
    assert job.returncode == 0, job.stderr
    assert (root / "model" / "model.txt").read_text() == "ok"


def test_failing_script_reports_its_own_error(tmp_path):
    script = "import sys\nprint('starting')\nraise ValueError('learning rate 7 is too high')\n"
    job = run(script_job(tmp_path / "ml", script))
    assert job.returncode == 1
    assert "starting" in job.stdout
    assert "Traceback" in job.stderr  # streamed through
    first, *rest = job.failure.splitlines()
    assert first == (
        "ExecuteUserScriptError: train.py exited with code 1: "
        "ValueError: learning rate 7 is too high"
    )
    assert rest[0] == "Traceback (most recent call last):"


def test_script_exit_code_and_own_failure_file_are_kept(tmp_path):
    script = (
        "import os\n"
        "failure = os.path.join(os.environ['SM_OUTPUT_DIR'], 'failure')\n"
        "open(failure, 'w').write('no rows in training')\n"
        "raise SystemExit(3)\n"
    )
    job = run(script_job(tmp_path / "ml", script))
    assert job.returncode == 3
    assert job.failure == "no rows in training"


def test_stop_signal_reaches_the_script(tmp_path):
    script = "import time\nprint('ready', flush=True)\ntime.sleep(60)\n"
    root = script_job(tmp_path / "ml", script)
    process = start(root)
    assert "ready" in process.stdout.readline() + process.stdout.readline()
    process.send_signal(signal.SIGTERM)
    job = finish(root, process)
    assert job.returncode == 128 + signal.SIGTERM
    assert job.failure.startswith("ExecuteUserScriptError: train.py was killed by SIGTERM")


def test_script_mode_without_a_program_says_so(tmp_path):
    root = make_job(tmp_path / "ml", {"epochs": "3"}, {"training": {"d.csv": "1\n"}})
    job = run(root)
    assert job.returncode == 1
    assert "set the sagemaker_program hyperparameter" in job.failure

    root = make_job(
        tmp_path / "ml2", {"sagemaker_program": "missing.py"}, {"training": {"d.csv": "1\n"}}
    )
    job = run(root)
    assert job.returncode == 1
    assert "sagemaker_program 'missing.py' was not found in" in job.failure


def test_hyperparameters_decode_and_become_arguments_as_in_the_sagemaker_toolkit():
    decoded = decode_hyperparameters(
        {"a": "10", "b": "0.5", "c": "true", "d": "adam", "e": '["x"]'}
    )
    assert decoded == {"a": 10, "b": 0.5, "c": True, "d": "adam", "e": ["x"]}
    assert to_cmd_args({"lr": 0.5, "x": True, "opt": {"k": 1}}) == [
        "--lr",
        "0.5",
        "--opt",
        "k=1",
        "-x",
        "True",
    ]


def test_metric_definitions_are_plain_data_within_sagemakers_limit():
    source = (TOOLKIT_DIR / "studio_toolkit" / "metric_definitions.py").read_text()
    assert not re.search(r"^\s*(import|from)\s", source, re.M)
    for algorithm, definitions in BUILTIN_METRIC_DEFINITIONS.items():
        assert 0 < len(definitions) <= 40, algorithm
        for definition in definitions:
            assert re.search(definition["Regex"], f"{definition['Name']}=0.25").group(1) == "0.25"
    assert {"Name": "validation:accuracy", "Regex": "validation:accuracy=([0-9.eE+-]+)"} in (
        BUILTIN_METRIC_DEFINITIONS["xgboost"]
    )


def test_hyperparameter_specs_import_only_the_standard_library_and_cover_every_algorithm():
    # The platform loads this file by path, without scikit-learn or the rest of the package.
    source = (TOOLKIT_DIR / "studio_toolkit" / "hyperparameter_specs.py").read_text()
    imported = re.findall(r"^(?:from|import) (\S+)", source, re.M)
    assert set(imported) == {"__future__", "json", "math", "typing"}
    algorithms = set(BUILTIN_METRIC_DEFINITIONS)
    assert set(hyperparameter_specs.HYPERPARAMETERS) == algorithms
    assert set(hyperparameter_specs.ACCEPTED_UNUSED) == algorithms


@pytest.mark.parametrize(
    ("algorithm", "raw", "name", "value", "rule"),
    [
        (
            "linear-learner",
            {"predictor_type": "binary_classifier", "num_classes": "abc"},
            "num_classes",
            "abc",
            "an integer of at least 3",
        ),
        (
            "linear-learner",
            {"predictor_type": "banana"},
            "predictor_type",
            "banana",
            "one of binary_classifier, multiclass_classifier, regressor",
        ),
        ("knn", {"k": "3"}, "predictor_type", None, "one of classifier, regressor"),
        ("xgboost", {"num_round": "2.5"}, "num_round", "2.5", "an integer of at least 1"),
        (
            "xgboost",
            {"num_round": "2", "eta": "nan"},
            "eta",
            "nan",
            "a number greater than 0 and at most 1",
        ),
        (
            "pca",
            {"num_components": "2", "subtract_mean": "maybe"},
            "subtract_mean",
            "maybe",
            "true or false",
        ),
        (
            "kmeans",
            {"k": "2", "feature_dim": "-1"},
            "feature_dim",
            "-1",
            'an integer of at least 1 or "auto"',
        ),
        (
            "randomcutforest",
            {"eval_metrics": "auc"},
            "eval_metrics",
            "auc",
            "one or more of accuracy, precision_recall_fscore, comma-separated or a JSON list",
        ),
    ],
)
def test_hyperparameter_specs_refuse_with_the_rule_in_words(algorithm, raw, name, value, rule):
    with pytest.raises(hyperparameter_specs.Invalid) as refused:
        hyperparameter_specs.read(algorithm, raw)
    assert (refused.value.name, refused.value.value, refused.value.rule) == (name, value, rule)


def test_hyperparameter_specs_read_values_defaults_and_passed_through_names():
    values = hyperparameter_specs.read(
        "xgboost",
        {
            "num_round": " 10 ",
            "objective": "multi:softprob",
            "eval_metric": '["merror", "f1"]',
            "subsample": "0.5",  # SageMaker's, without effect here: accepted
            "_tuning_objective_metric": "validation:f1",
            "sagemaker_container_log_level": "20",
        },
    )
    assert values["num_round"] == 10 and values["eta"] == 0.3 and values["max_depth"] == 6
    assert values["eval_metric"] == ["merror", "f1"]
    assert "subsample" not in values
    assert hyperparameter_specs.read("xgboost", {"num_round": "1"})["eval_metric"] == ["rmse"]
    assert (
        hyperparameter_specs.read("kmeans", {"k": "2", "feature_dim": "auto"})["feature_dim"]
        is None
    )
    with pytest.raises(hyperparameter_specs.Invalid) as refused:
        hyperparameter_specs.read("pca", {"num_components": "2", "n_components": "2", "zz": "1"})
    assert refused.value.name == "n_components"
    assert refused.value.unknown == ("n_components", "zz")
    assert "mini_batch_size" in refused.value.known
