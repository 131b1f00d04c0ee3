"""The SageMaker Python SDK 3.x's way of training, as its migration guide writes it: a
`ModelTrainer` with a source directory and the scikit-learn image `image_uris.retrieve` names,
its log streamed. Run by the SDK tests with the 3.x line's own interpreter.

Usage: python v3_workflow.py WORKDIR --role ARN --bucket NAME
  WORKDIR holds train.csv (label first) and source/train.py.
Prints one line `RESULT <json>` at the end.
"""

import argparse
import json
import os

from sagemaker.core import image_uris
from sagemaker.core.helper.session_helper import Session
from sagemaker.train import ModelTrainer
from sagemaker.train.configs import Compute, InputData, SourceCode

INSTANCE = "ml.m5.large"


def print_job_log(session: Session, trainer: ModelTrainer) -> None:
    """The job's log from CloudWatch Logs (3.x shows it in a live console a pipe loses)."""
    job = trainer._latest_training_job
    if job is None:
        return
    logs = session.boto_session.client("logs")
    streams = logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{job.training_job_name}/"
    )["logStreams"]
    for stream in streams:
        events = logs.get_log_events(
            logGroupName="/aws/sagemaker/TrainingJobs",
            logStreamName=stream["logStreamName"],
            startFromHead=True,
        )["events"]
        for event in events:
            print(event["message"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir")
    parser.add_argument("--role", required=True)
    parser.add_argument("--bucket", required=True)
    args = parser.parse_args()

    session = Session(default_bucket=args.bucket)
    train = session.upload_data(os.path.join(args.workdir, "train.csv"), key_prefix="sdk3/train")
    trainer = ModelTrainer(
        training_image=image_uris.retrieve("sklearn", session.boto_region_name, version="1.2-1"),
        source_code=SourceCode(
            source_dir=os.path.join(args.workdir, "source"), entry_script="train.py"
        ),
        compute=Compute(instance_type=INSTANCE, instance_count=1),
        hyperparameters={"max_iter": 1000},
        role=args.role,
        base_job_name="sdk3-sklearn",
        sagemaker_session=session,
    )
    try:
        trainer.train(
            input_data_config=[InputData(channel_name="train", data_source=train)], logs=True
        )
    finally:
        print_job_log(session, trainer)
    job = trainer._latest_training_job
    job.refresh()
    print(
        "RESULT "
        + json.dumps(
            {
                "job": job.training_job_name,
                "status": job.training_job_status,
                "model_data": job.model_artifacts.s3_model_artifacts,
            }
        )
    )


if __name__ == "__main__":
    main()
