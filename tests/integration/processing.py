"""A processing request and the script it runs, for the processing tests."""

from tests.integration.training import DATA

PREPARE = """
import csv, os, sys
rows = list(csv.reader(open("/opt/ml/processing/input/raw/train.csv")))
os.makedirs("/opt/ml/processing/output/clean", exist_ok=True)
with open("/opt/ml/processing/output/clean/clean.csv", "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["label", "x0", "x1"])
    for label, x0, x1 in rows:
        if float(x0) > -0.5:
            writer.writerow([label, x0, x1])
print(f"kept rows of {len(rows)}", flush=True)
"""


def request(name: str, code_uri: str, **overrides) -> dict:
    spec = {
        "ProcessingJobName": name,
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "VolumeSizeInGB": 1,
            }
        },
        "AppSpecification": {
            "ImageUri": "studio/sklearn:latest",
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/prepare.py"],
        },
        "ProcessingInputs": [
            {
                "InputName": "raw",
                "S3Input": {
                    "S3Uri": DATA,
                    "S3DataType": "S3Prefix",
                    "LocalPath": "/opt/ml/processing/input/raw",
                },
            },
            {
                "InputName": "code",
                "S3Input": {
                    "S3Uri": code_uri,
                    "S3DataType": "S3Prefix",
                    "LocalPath": "/opt/ml/processing/input/code",
                },
            },
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "clean",
                    "S3Output": {
                        "S3Uri": "s3://research-output/processing/clean",
                        "LocalPath": "/opt/ml/processing/output/clean",
                        "S3UploadMode": "EndOfJob",
                    },
                },
            ]
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 120},
    }
    spec.update(overrides)
    return spec
