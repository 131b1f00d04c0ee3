"""The files that make a space SDK-ready, as SageMaker Studio makes its own: the SageMaker Python
SDK and boto3 in a notebook find who they run as, the default bucket and how to reach S3 with
no configuration.

- `/opt/ml/metadata/resource-metadata.json`: the app's ARN and name, its domain, profile,
  space and execution role. `sagemaker.get_execution_role()` returns its ExecutionRoleArn.
- `/etc/xdg/sagemaker/config.yaml`: the SDK's administrator defaults (its config_schema):
  the session's default bucket and the role of training and processing jobs and models.
- an AWS config file (`AWS_CONFIG_FILE`) asking for path-style S3 addressing: the S3 endpoint
  is a loopback address and port (the API forwarder), which has no bucket subdomains.

All three are written by root into the space's boot directory (root's, never the container's:
DESIGN.md §6) and mounted read-only, so a notebook can read them and change none of them.
"""

import json
from pathlib import Path

from django.conf import settings

from domains.models import App
from domains.services.roles import execution_role
from studio.core.runtime import Mount

SDK_DIR = "sdk"  # in the boot directory
METADATA_DIR = "/opt/ml/metadata"
METADATA_FILE = "resource-metadata.json"
SDK_CONFIG_DIR = "/etc/xdg/sagemaker"  # platformdirs' site_config_dir("sagemaker") on Linux
SDK_CONFIG_FILE = "config.yaml"
AWS_CONFIG = "aws-config"


def sdk_default_bucket(account_id: str) -> str:
    """The bucket the SDK's Session would name by itself: `sagemaker-<region>-<account id>`."""
    return f"sagemaker-{settings.STUDIO_REGION}-{account_id}"


def resource_metadata(app: App) -> dict[str, str]:
    """What SageMaker Studio writes to /opt/ml/metadata/resource-metadata.json in an app. The
    role is the one DescribeUserProfile answers (`roles.execution_role`: the profile's own,
    else its domain's, else `role/studio` of the domain's account)."""
    space = app.space
    return {
        "AppType": app.app_type,
        "DomainId": space.domain.domain_id,
        "SpaceName": space.name,
        "UserProfileName": space.owner.name,
        "ExecutionRoleArn": execution_role(space.owner),
        "ResourceArn": app.arn,
        "ResourceName": app.app_name,
    }


def sdk_config(app: App) -> dict:
    """The SDK's defaults (sagemaker/config/config_schema.py): the session's bucket, the role
    of what it creates, and no telemetry (a space has no route to it)."""
    role = execution_role(app.space.owner)
    return {
        "SchemaVersion": "1.0",
        "SageMaker": {
            "PythonSDK": {
                "Modules": {
                    "Session": {"DefaultS3Bucket": sdk_default_bucket(app.space.domain.account_id)},
                    "TelemetryOptOut": True,
                }
            },
            "TrainingJob": {"RoleArn": role},
            "ProcessingJob": {"RoleArn": role},
            "Model": {"ExecutionRoleArn": role},
            "Pipeline": {"RoleArn": role},
            "AutoMLJob": {"RoleArn": role},
            "CompilationJob": {"RoleArn": role},
        },
    }


# The endpoint is http://127.0.0.1:<port>: a bucket cannot be a subdomain of it.
AWS_CONFIG_TEXT = "[default]\ns3 =\n    addressing_style = path\n"


def write(app: App, boot_dir: Path) -> None:
    """Write the three files under `boot_dir` (root's), readable by all, writable by root."""
    files = {
        f"metadata/{METADATA_FILE}": json.dumps(resource_metadata(app), indent=2) + "\n",
        # JSON is YAML: the SDK reads it with yaml.safe_load.
        f"sagemaker/{SDK_CONFIG_FILE}": json.dumps(sdk_config(app), indent=2) + "\n",
        AWS_CONFIG: AWS_CONFIG_TEXT,
    }
    root = boot_dir / SDK_DIR
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        path.parent.chmod(0o755)
        path.write_text(content)
        path.chmod(0o644)


def mounts(boot_dir: Path) -> list[Mount]:
    """The SDK's two directories, read-only at the paths the SDK reads."""
    root = boot_dir / SDK_DIR
    return [
        Mount(root / "metadata", METADATA_DIR, read_only=True),
        Mount(root / "sagemaker", SDK_CONFIG_DIR, read_only=True),
    ]


def environment(boot_dir_in_container: str) -> dict[str, str]:
    """AWS_CONFIG_FILE: the AWS config file, in the read-only boot directory."""
    return {"AWS_CONFIG_FILE": f"{boot_dir_in_container}/{SDK_DIR}/{AWS_CONFIG}"}
