#!/bin/sh
# Installs the sklearn image into the current root file system, as root: run by the Dockerfile
# and, without Docker, by `studio images build` inside bubblewrap, so the two cannot drift.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

# The host's certificate bundle and constraints, when `studio images build` passed them.
[ -f "$here/.studio-build/ca.pem" ] && export PIP_CERT="$here/.studio-build/ca.pem"
[ -f "$here/.studio-build/constraints.txt" ] && export PIP_CONSTRAINT="$here/.studio-build/constraints.txt"
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# A virtual environment, so Debian's externally managed Python is left alone.
python3 -m venv /opt/venv
/opt/venv/bin/pip install --requirement "$here/requirements.txt"
/opt/venv/bin/pip install "$here"
# On the default PATH too, for a runtime that does not apply the image's ENV.
ln -sf /opt/venv/bin/train /opt/venv/bin/serve /usr/local/bin/

# SageMaker Studio's user: uid 1000 in group users (gid 100).
id sagemaker-user >/dev/null 2>&1 ||
	useradd --uid 1000 --gid 100 --create-home --home-dir /home/sagemaker-user \
		--shell /bin/bash sagemaker-user
mkdir -p /opt/ml/input/data /opt/ml/input/config /opt/ml/model /opt/ml/output /opt/ml/code
chown -R 1000:100 /opt/ml
