# The two commands of the README: `make up` runs the platform, `make test` runs the tests (as
# CI does, with DATABASE_URL, REDIS_URL and STUDIO_REQUIRE taken from the environment).

PYTHON ?= python3
VENV ?= .venv
ARGS ?=
PYTEST_ARGS ?=
BIN := $(VENV)/bin
# As root (CI, containers) apt-get runs as it is; otherwise through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The built-in images `make images` builds (`make images IMAGES=sklearn` for one).
IMAGES ?= sklearn jupyter

.PHONY: up test lint install system-packages test-packages images image-packages sdk-venvs

# Jobs need the built-in images: the first `make up` builds them (a few minutes), later ones
# find them unchanged and go straight on.
up: install system-packages images
	$(BIN)/studio up $(ARGS)

test: install test-packages sdk-venvs
	$(BIN)/pytest -n 2 --durations=25 $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

install: $(BIN)/.installed

# The air-gapped Debian base, then the images on it, for Docker and the sandbox runtime; both
# steps skip what is built already and unchanged (docs/images.md).
images: install image-packages
	$(BIN)/studio images build-base
	$(BIN)/studio images build $(IMAGES)

# Reinstalled when pyproject.toml changes; the stamp keeps later runs quiet and quick. Debian and
# Ubuntu ship venv's pip bootstrap (ensurepip) separately, in python3-venv.
$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Studio needs Python 3.11 or newer: make PYTHON=python3.11 ..."; exit 1; }
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { $(call apt-get,python3-venv); }
	@[ -x $(BIN)/pip ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

# The SageMaker Python SDK, each line in a virtual environment of its own, as users install it
# (its pins do not mix with Studio's): the SDK tests run scripts with these interpreters.
SDK_VENVS := .venv-sdk2 .venv-sdk3
sdk-venvs: $(SDK_VENVS:%=%/.installed)

.venv-sdk%/.installed: tests/sdk/requirements-v%.txt
	@[ -x .venv-sdk$*/bin/pip ] || $(PYTHON) -m venv .venv-sdk$*
	.venv-sdk$*/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	@touch $@

# `studio up` starts a private redis-server unless REDIS_URL points at a Redis already running.
system-packages:
	@$(if $(REDIS_URL),true,$(call apt-get-missing,redis-server:redis-server))

# The studio-up test needs redis-server; the browser tests need Debian's Chromium and its driver.
test-packages:
	@$(call apt-get-missing,redis-server:redis-server chromium:chromium chromedriver:chromium-driver)

# Without Docker, images are built as sandbox trees: debootstrap, then bubblewrap.
image-packages:
	@$(call apt-get-missing,debootstrap:debootstrap bwrap:bubblewrap)

# $(call apt-get,PACKAGES): install PACKAGES with apt-get, or say what to install without it.
define apt-get
if command -v apt-get >/dev/null 2>&1; then \
	echo "installing system packages: $(1)"; \
	$(SUDO) apt-get update -qq && \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(1); \
else \
	echo "no apt-get here: install $(1) yourself"; \
fi
endef

# $(call apt-get-missing,COMMAND:PACKAGE ...): install the package of each command not on PATH.
# Nothing is fatal here: a test that needs what is missing skips with a reason, and `studio up`
# says how to get redis-server.
define apt-get-missing
missing=""; \
for pair in $(1); do \
	command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
done; \
if [ -n "$$missing" ]; then $(call apt-get,$$missing); fi
endef
