#!/bin/sh
# Installs the jupyter image into the current root file system, as root: run by the Dockerfile
# and, without Docker, by `studio images build` inside bubblewrap, so the two cannot drift.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

# The host's certificate bundle and constraints, when `studio images build` passed them.
if [ -f "$here/.pip-ca.pem" ]; then export PIP_CERT="$here/.pip-ca.pem"; fi
if [ -f "$here/.pip-constraints.txt" ]; then export PIP_CONSTRAINT="$here/.pip-constraints.txt"; fi
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# A virtual environment, so Debian's externally managed Python is left alone.
python3 -m venv /opt/venv
/opt/venv/bin/pip install --requirement "$here/requirements.txt"

# SageMaker Studio's user: uid 1000 in group users (gid 100), home /home/sagemaker-user.
id sagemaker-user >/dev/null 2>&1 ||
	useradd --uid 1000 --gid 100 --create-home --home-dir /home/sagemaker-user \
		--shell /bin/bash sagemaker-user

# JupyterLab's defaults for every user of the image: no "official Jupyter news" question on
# first open and no update check. A space has no route to jupyter.org, and the question is
# noise inside Studio. Users can still turn both on in Settings; overrides.json only sets the
# defaults (it lives in the application settings directory of the venv's JupyterLab).
install -D -m 0644 "$here/overrides.json" /opt/venv/share/jupyter/lab/settings/overrides.json
