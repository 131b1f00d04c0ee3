"""A SageMaker scikit-learn script-mode entry point, as the SDK's examples write one: it trains
when run, and serves (model_fn) when the serving container imports it."""

import argparse
import os

import joblib
import pandas as pd
from sklearn.linear_model import LogisticRegression


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--max_iter", type=int, default=100)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
    args = parser.parse_args()
    frame = pd.read_csv(os.path.join(args.train, "train.csv"), header=None)
    model = LogisticRegression(max_iter=args.max_iter).fit(frame.iloc[:, 1:], frame.iloc[:, 0])
    joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
    print(f"trained on {len(frame)} rows")
