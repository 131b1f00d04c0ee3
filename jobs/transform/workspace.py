"""Where a transform job's files are on the worker's host.

`$STUDIO_DATA_DIR/jobs/transform/<domain id>/<job>/`, root's, holding
- `model/model/`: the model.tar.gz, unpacked by the confined helper as the job owner's uid,
  mounted read-only at /opt/ml/model in each host's serving container;
- `hosts/<host>/`: a host's runtime directory, its server's uid's, mounted at /run/studio,
  where the server binds `serve.sock` (reached only through `studio.core.unix_socket`);
- `output.part`: the output object being assembled, the worker's own (no container mounts
  it), stored once its input object is done;
- `logs/<host>.log`: each host's container log, kept after the job.
"""

from pathlib import Path

from django.conf import settings

from jobs.hosting.paths import SOCKET_NAME
from studio.core.storage.paths import safe_join


def job_dir(domain_id: str, name: str) -> Path:
    """Below its domain's directory, since two domains may each have a job of this name."""
    domain = safe_join(Path(settings.DATA_DIR) / "jobs" / "transform", domain_id, "DomainId")
    return safe_join(domain, name, "TransformJobName")


def model_root(job_root: Path) -> Path:
    return job_root / "model"


def rundir(job_root: Path, host: str) -> Path:
    return job_root / "hosts" / host


def socket_path(job_root: Path, host: str) -> Path:
    return rundir(job_root, host) / SOCKET_NAME


def spool_path(job_root: Path) -> Path:
    return job_root / "output.part"
