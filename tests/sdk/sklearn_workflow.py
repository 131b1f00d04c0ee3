"""A SageMaker Python SDK user's workflow, as written for AWS: upload data, fit a scikit-learn
script-mode estimator with its log streamed, deploy it, predict, delete the endpoint; then a
built-in algorithm from `image_uris.retrieve`. Run by the SDK tests with the SDK's own
interpreter (a virtual environment of its own), against Studio's endpoint.

Usage: python sklearn_workflow.py WORKDIR [--role ARN --bucket NAME]
  WORKDIR holds train.csv (label first) and source/train.py. Without --role and --bucket the
  SDK finds both itself, as in a Studio notebook (get_execution_role(), default_bucket()).
Prints one line `RESULT <json>` at the end.
"""

import argparse
import json
import os

import sagemaker
from sagemaker import image_uris
from sagemaker.deserializers import JSONDeserializer
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.serializers import CSVSerializer
from sagemaker.sklearn.estimator import SKLearn

INSTANCE = "ml.m5.large"
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir")
    parser.add_argument("--role")
    parser.add_argument("--bucket")
    args = parser.parse_args()

    session = sagemaker.Session(default_bucket=args.bucket)
    role = args.role or sagemaker.get_execution_role()
    bucket = session.default_bucket()
    train = session.upload_data(os.path.join(args.workdir, "train.csv"), key_prefix="sdk/train")

    estimator = SKLearn(
        entry_point="train.py",
        source_dir=os.path.join(args.workdir, "source"),
        role=role,
        instance_count=1,
        instance_type=INSTANCE,
        framework_version="1.2-1",
        py_version="py3",
        hyperparameters={"max_iter": 1000},
        base_job_name="sdk-sklearn",
        sagemaker_session=session,
    )
    estimator.fit({"train": train}, logs=True)
    predictor = estimator.deploy(
        initial_instance_count=1,
        instance_type=INSTANCE,
        serializer=CSVSerializer(),
        deserializer=JSONDeserializer(),
    )
    try:
        predictions = predictor.predict(ROWS)
    finally:
        predictor.delete_endpoint()

    builtin = Estimator(
        image_uri=image_uris.retrieve("linear-learner", session.boto_region_name),
        role=role,
        instance_count=1,
        instance_type=INSTANCE,
        output_path=f"s3://{bucket}/sdk/linear-learner",
        sagemaker_session=session,
    )
    builtin.set_hyperparameters(
        predictor_type="multiclass_classifier", num_classes=3, feature_dim=4, epochs=5
    )
    builtin.fit({"train": TrainingInput(train, content_type="text/csv")}, logs=False)

    print(
        "RESULT "
        + json.dumps(
            {
                "role": role,
                "bucket": bucket,
                "train": train,
                "job": estimator.latest_training_job.name,
                "model_data": estimator.model_data,
                "endpoint": predictor.endpoint_name,
                "predictions": predictions,
                "builtin_job": builtin.latest_training_job.name,
                "builtin_model_data": builtin.model_data,
            }
        )
    )


if __name__ == "__main__":
    main()
