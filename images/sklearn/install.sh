#!/bin/sh
# Installs the sklearn image into the current root file system, as root: run by the Dockerfile
# and, without Docker, by `studio images build` inside bubblewrap, so the two cannot drift.
# Phases: `requirements` (Python, the libraries, the user), `toolkit` (train and serve);
# with no argument, both.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
phase=${1:-all}

# The host's certificate bundle and constraints, when `studio images build` passed them.
if [ -f "$here/.pip-ca.pem" ]; then export PIP_CERT="$here/.pip-ca.pem"; fi
if [ -f "$here/.pip-constraints.txt" ]; then export PIP_CONSTRAINT="$here/.pip-constraints.txt"; fi
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

if [ "$phase" = requirements ] || [ "$phase" = all ]; then
	# A virtual environment, so Debian's externally managed Python is left alone.
	python3 -m venv /opt/venv
	/opt/venv/bin/pip install --requirement "$here/requirements.txt"

	# SageMaker Studio's user: uid 1000 in group users (gid 100).
	id sagemaker-user >/dev/null 2>&1 ||
		useradd --uid 1000 --gid 100 --create-home --home-dir /home/sagemaker-user \
			--shell /bin/bash sagemaker-user
	mkdir -p /opt/ml/input/data /opt/ml/input/config /opt/ml/model /opt/ml/output /opt/ml/code
	chown -R 1000:100 /opt/ml
fi

if [ "$phase" = toolkit ] || [ "$phase" = all ]; then
	/opt/venv/bin/pip install "$here"
	# On the default PATH too, for a runtime that does not apply the image's ENV.
	ln -sf /opt/venv/bin/train /opt/venv/bin/serve /usr/local/bin/
fi
