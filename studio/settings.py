"""One settings module, driven by environment variables (see docs/configuration.md)."""

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _private(path: Path, mode: int) -> None:
    """Take group and other rights off `path` (down to `mode`) if this process owns it: an
    older install made its data directory 0755 and its files 0644."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid == os.geteuid() and info.st_mode & 0o777 & ~mode:
        path.chmod(info.st_mode & 0o777 & mode)


def _secret_from_file(path: Path, make) -> str:
    """Read a secret kept in the data directory, creating it (mode 0600) on first use."""
    _private(path, 0o600)
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    # Write a private temporary file, then link it into place: the link fails if another
    # process (web, worker, beat start together) got there first, and then theirs wins.
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(make())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()


DATA_DIR = Path(os.environ.get("STUDIO_DATA_DIR", BASE_DIR / "var")).resolve()
# Only its owner enters the data directory: containers get what they may see by bind mounts
# that root makes (dockerd; the sandbox's shim stages them before bwrap drops to the job's uid).
DATA_DIR_MODE = 0o700
DATA_DIR.mkdir(mode=DATA_DIR_MODE, parents=True, exist_ok=True)
_private(DATA_DIR, DATA_DIR_MODE)
SECRET_KEY = os.environ.get("SECRET_KEY") or _secret_from_file(
    DATA_DIR / "secret_key", lambda: secrets.token_urlsafe(50)
)
# Access-key secrets are encrypted with this key; it is separate from SECRET_KEY so that
# rotating sessions does not make stored secrets unreadable.
ENCRYPTION_KEY = os.environ.get("STUDIO_ENCRYPTION_KEY") or _secret_from_file(
    DATA_DIR / "encryption_key", lambda: secrets.token_urlsafe(32)
)
DEBUG = _env_bool("DEBUG")
# This machine's own names only, unless told more (`studio up --host` adds the one it serves):
# "*" would also switch off the websocket Origin check, which trusts ALLOWED_HOSTS.
LOCAL_HOSTS = "localhost,127.0.0.1,[::1]"
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", LOCAL_HOSTS).split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# A refused form is a Studio page that says to reload and send it again (studio/web/errors.py).
CSRF_FAILURE_VIEW = "studio.web.errors.csrf_failure"

# Built images for the sandbox runtime (root file system trees, hundreds of MB each): shared
# by every data directory on the machine that points here.
STUDIO_IMAGES_DIR = Path(os.environ.get("STUDIO_IMAGES_DIR", DATA_DIR / "images")).resolve()
STUDIO_RUNTIME = os.environ.get("STUDIO_RUNTIME", "auto")
if STUDIO_RUNTIME not in {"docker", "sandbox", "auto"}:
    raise ValueError(f"STUDIO_RUNTIME must be docker, sandbox or auto, not {STUDIO_RUNTIME!r}")
STUDIO_REGION = os.environ.get("STUDIO_REGION", "us-east-1")
# Studio's address as browsers reach it: presigned sign-in links (CreatePresignedDomainUrl)
# may be asked for from a notebook, whose own address for Studio no browser can reach.
STUDIO_PUBLIC_URL = os.environ.get("STUDIO_PUBLIC_URL", "http://localhost:8000").rstrip("/")
STUDIO_ACCOUNT_ID = os.environ.get("STUDIO_ACCOUNT_ID", "000000000000")
# Home directories of user profiles get uids from here up, as SageMaker's EFS homes do.
STUDIO_HOME_UID_BASE = int(os.environ.get("STUDIO_HOME_UID_BASE", "200000"))
# How many stopped JupyterLab apps (the most recently used) keep a server started for them, so
# that starting them again takes a fraction of a second. Each holds its instance's memory.
STUDIO_WARM_POOL_SIZE = int(os.environ.get("STUDIO_WARM_POOL_SIZE", "0"))
# Where artifacts (datasets, code, models, outputs) are kept: "local", a directory under
# DATA_DIR (studio/core/storage/store.py; an S3 backend plugs in beside it).
STUDIO_ARTIFACT_STORE = os.environ.get("STUDIO_ARTIFACT_STORE", "local")
# file:// URIs in job requests name the worker host's files: off unless a single-user install
# wants them (SageMaker's local mode reads them).
STUDIO_ALLOW_FILE_URIS = _env_bool("STUDIO_ALLOW_FILE_URIS")
# What a job's archive (script mode's sourcedir.tar.gz; next, model.tar.gz) may unpack to: a
# bomb fails the job with its reason instead of filling the data directory (docs/security.md).
STUDIO_ARCHIVE_MAX_BYTES = int(os.environ.get("STUDIO_ARCHIVE_MAX_BYTES", 10 * 2**30))
STUDIO_ARCHIVE_MAX_ENTRIES = int(os.environ.get("STUDIO_ARCHIVE_MAX_ENTRIES", 100_000))
STUDIO_ARCHIVE_MAX_RATIO = int(os.environ.get("STUDIO_ARCHIVE_MAX_RATIO", 200))
# How long one confined file operation (packing a model, unpacking code) may take.
STUDIO_CONFINED_TIMEOUT = int(os.environ.get("STUDIO_CONFINED_TIMEOUT", 3600))
STUDIO_MAX_UPLOAD_BYTES = int(os.environ.get("STUDIO_MAX_UPLOAD_BYTES", str(512 * 1024**2)))


def _env_limit(name: str, default: int) -> int | None:
    """A quota from the environment; "none" (or empty) lifts it."""
    value = os.environ.get(name, str(default)).strip().lower()
    return None if value in {"", "none"} else int(value)


# Fair share (docs/tenancy.md): what a profile may run when no policy of theirs sets a quota
# (a new domain's default policy starts with these values, for its admins to change), and
# what a whole domain may run at once, which only this installation's operator changes.
STUDIO_DEFAULT_MAX_CONCURRENT_JOBS = _env_limit("STUDIO_DEFAULT_MAX_CONCURRENT_JOBS", 4)
STUDIO_DEFAULT_MAX_CONCURRENT_APPS = _env_limit("STUDIO_DEFAULT_MAX_CONCURRENT_APPS", 2)
STUDIO_DEFAULT_MAX_RUNTIME_SECONDS = _env_limit("STUDIO_DEFAULT_MAX_RUNTIME_SECONDS", 86_400)
STUDIO_DOMAIN_MAX_CONCURRENT_JOBS = _env_limit("STUDIO_DOMAIN_MAX_CONCURRENT_JOBS", 16)
STUDIO_DOMAIN_MAX_CONCURRENT_APPS = _env_limit("STUDIO_DOMAIN_MAX_CONCURRENT_APPS", 16)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "studio.core.apps.StudioConfig",
    "studio.web.apps.WebConfig",
    "metering.apps.MeteringConfig",
    "domains.apps.DomainsConfig",
    "jobs.apps.JobsConfig",
]

MIDDLEWARE = [
    # First: API requests carry a SigV4 signature, not a session or a CSRF token.
    "studio.web.api.middleware.SageMakerApiMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "studio.web.accounts.OneTimePasswordMiddleware",
    # Last, as django-axes requires: it turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]
X_FRAME_OPTIONS = "SAMEORIGIN"

ROOT_URLCONF = "studio.web.urls"
ASGI_APPLICATION = "studio.web.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "studio.web.dashboard.context.studio",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'studio.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if os.environ.get("DATABASE_TEST_NAME"):
    # Lets concurrent test runs against one server use separate test databases.
    DATABASES["default"]["TEST"] = {"NAME": os.environ["DATABASE_TEST_NAME"]}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Created 0600 before SQLite opens it, which would make it 0644; SQLite gives its -wal
    # and -shm files the database's own mode.
    _database = Path(str(DATABASES["default"]["NAME"]))
    if _database.is_absolute() and _database.parent.is_dir():
        os.close(os.open(_database, os.O_WRONLY | os.O_CREAT, 0o600))
        _private(_database, 0o600)
    # The embedded default is shared by web, worker and beat: WAL lets readers run beside the
    # writer, and IMMEDIATE transactions queue writers instead of failing with "locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# Separate deployments (or parallel test runs) sharing one Redis keep apart by this prefix.
STUDIO_REDIS_PREFIX = os.environ.get("STUDIO_REDIS_PREFIX", "studio")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{STUDIO_REDIS_PREFIX}:asgi"},
    }
}


def _celery_url(url: str) -> str:
    # kombu spells a Unix-socket Redis "redis+socket://", redis-py spells it "unix://".
    return "redis+socket://" + url.removeprefix("unix://") if url.startswith("unix://") else url


CELERY_BROKER_URL = _celery_url(REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("STUDIO_CELERY_QUEUE", "studio")
# What a user waits for at the screen has a queue of its own, read first (studio/core/queue.py):
# a JupyterLab start never queues behind jobs.
STUDIO_INTERACTIVE_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}.interactive"
CELERY_TASK_ROUTES = {
    task: {"queue": STUDIO_INTERACTIVE_QUEUE}
    for task in (
        "domains.tasks.start_app",
        "domains.tasks.stop_app",
        "domains.tasks.provision_space",
        # Endpoints deploy in seconds and a cold start has a caller waiting on it.
        "jobs.tasks.deploy_endpoint",
        "jobs.tasks.wake_endpoint",
        "jobs.tasks.converge_endpoint",
    )
}
CELERY_BROKER_TRANSPORT_OPTIONS = {"queue_order_strategy": "priority"}
# Threads, as tasks mostly wait on containers; the dashboard counts slots from it.
CELERY_WORKER_CONCURRENCY = 4
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = _env_bool("CELERY_TASK_ALWAYS_EAGER")
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "reconcile-tenancy": {"task": "domains.tasks.reconcile_tenancy", "schedule": 30.0},
    "reconcile-jobs": {"task": "jobs.tasks.reconcile_jobs", "schedule": 10.0},
    "reconcile-apps": {"task": "domains.tasks.reconcile_apps", "schedule": 10.0},
    "cull-idle-apps": {"task": "domains.tasks.cull_idle_apps", "schedule": 60.0},
    "refill-warm-pool": {"task": "domains.tasks.refill_warm_pool", "schedule": 15.0},
    "tend-endpoints": {"task": "jobs.tasks.tend_endpoints", "schedule": 2.0},
}
# Hosting (docs/hosting.md). How long a retired serving instance is left out of routing before
# it is stopped (the routers' cache of who serves lives a second); how long a serverless or
# MinInstanceCount-0 variant is kept warm after its last invocation.
STUDIO_DRAIN_SECONDS = float(os.environ.get("STUDIO_DRAIN_SECONDS", "2"))
STUDIO_SCALE_TO_ZERO_IDLE_S = float(os.environ.get("STUDIO_SCALE_TO_ZERO_IDLE_S", "300"))
# The window over which the autoscaler measures a variant's invocations per minute.
STUDIO_AUTOSCALE_WINDOW_S = int(os.environ.get("STUDIO_AUTOSCALE_WINDOW_S", "60"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Login throttling (django-axes): after STUDIO_LOGIN_FAILURE_LIMIT wrong passwords for one
# username from one address, that pair may not sign in for STUDIO_LOGIN_LOCKOUT_MINUTES
# (counted from the last failure that counted: tries during the lockout do not extend it), so
# an attacker elsewhere never locks the user out, and no lockout lasts for ever.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("STUDIO_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("STUDIO_LOGIN_LOCKOUT_MINUTES", "15")))
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_TIME.total_seconds() <= 0:
    # django-axes reads no cool-off as "locked until an admin unlocks".
    raise ValueError("STUDIO_LOGIN_FAILURE_LIMIT and STUDIO_LOGIN_LOCKOUT_MINUTES must be positive")
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A successful sign-in forgets the mistakes before it (else they count until the cool-off passes).
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "studio.web.accounts.locked_out"
AXES_VERBOSE = False  # no banner on every command's start; failures and lockouts still log
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"

# Single sign-on with an OpenID Connect provider (docs/configuration.md, "Single sign-on"), on
# when STUDIO_OIDC_CLIENT_ID is set. mozilla-django-oidc reads the OIDC_* settings; the endpoints
# left unset are read from the issuer's discovery document when a sign-in first needs them
# (studio/web/oidc.py), and the admins' identity mappings decide who may use which domain
# (domains/identity.py).
STUDIO_OIDC_ISSUER = os.environ.get("STUDIO_OIDC_ISSUER", "").strip()
OIDC_RP_CLIENT_ID = os.environ.get("STUDIO_OIDC_CLIENT_ID", "").strip()
OIDC_RP_CLIENT_SECRET = os.environ.get("STUDIO_OIDC_CLIENT_SECRET", "")
OIDC_RP_SIGN_ALGO = os.environ.get("STUDIO_OIDC_SIGN_ALGO", "").strip() or "RS256"
OIDC_RP_SCOPES = os.environ.get("STUDIO_OIDC_SCOPES", "").strip() or "openid email profile"
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("STUDIO_OIDC_AUTHORIZATION_URL", "").strip()
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("STUDIO_OIDC_TOKEN_URL", "").strip()
OIDC_OP_USER_ENDPOINT = os.environ.get("STUDIO_OIDC_USERINFO_URL", "").strip()
OIDC_OP_JWKS_ENDPOINT = os.environ.get("STUDIO_OIDC_JWKS_URL", "").strip()
STUDIO_OIDC_PROVIDER_NAME = (
    os.environ.get("STUDIO_OIDC_PROVIDER_NAME", "").strip() or "single sign-on"
)
STUDIO_OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10  # seconds, for each call to the provider


def _oidc_config_error() -> str | None:
    """What is wrong with the STUDIO_OIDC_* variables, naming the variable; None if nothing."""
    given = sorted(n for n, v in os.environ.items() if n.startswith("STUDIO_OIDC_") and v.strip())
    if not STUDIO_OIDC_ENABLED:
        if given:
            return (
                f"{', '.join(given)} set but STUDIO_OIDC_CLIENT_ID is not: set it to turn "
                "single sign-on on, or unset them."
            )
        return None
    if not OIDC_RP_CLIENT_SECRET:
        return "STUDIO_OIDC_CLIENT_SECRET must be set when STUDIO_OIDC_CLIENT_ID is."
    algorithms = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512"]
    if OIDC_RP_SIGN_ALGO not in algorithms:
        return (
            f"STUDIO_OIDC_SIGN_ALGO must be one of {', '.join(algorithms)}, "
            f"not {OIDC_RP_SIGN_ALGO!r}."
        )
    endpoints = {
        "STUDIO_OIDC_AUTHORIZATION_URL": OIDC_OP_AUTHORIZATION_ENDPOINT,
        "STUDIO_OIDC_TOKEN_URL": OIDC_OP_TOKEN_ENDPOINT,
        "STUDIO_OIDC_USERINFO_URL": OIDC_OP_USER_ENDPOINT,
        "STUDIO_OIDC_JWKS_URL": OIDC_OP_JWKS_ENDPOINT,
    }
    for name, url in {"STUDIO_OIDC_ISSUER": STUDIO_OIDC_ISSUER, **endpoints}.items():
        parts = urlsplit(url)
        if url and (parts.scheme not in {"http", "https"} or not parts.netloc):
            return f"{name} must be an http:// or https:// URL, not {url!r}."
    missing = [name for name, url in endpoints.items() if not url]
    if missing and not STUDIO_OIDC_ISSUER:
        return (
            "Set STUDIO_OIDC_ISSUER (the provider's discovery document gives its endpoints), "
            f"or else {', '.join(missing)}."
        )
    return None


if _oidc_error := _oidc_config_error():
    raise ValueError(_oidc_error)
if STUDIO_OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.append("studio.web.oidc.Backend")

LANGUAGE_CODE = "en-us"
# Dates and times as the dashboard prints them, in the admin console too (studio/formats/).
FORMAT_MODULE_PATH = ["studio.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # ServeStatic serves from here after collectstatic
SERVESTATIC_USE_FINDERS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Exhaustion limits (docs/configuration.md): a container's /tmp and /dev/shm (0: half its
# memory), the output a container's log keeps, and the home size beyond which an app does
# not start.
STUDIO_TMPFS_BYTES = int(os.environ.get("STUDIO_TMPFS_BYTES", "0"))
STUDIO_CONTAINER_LOG_BYTES = int(os.environ.get("STUDIO_CONTAINER_LOG_BYTES", str(64 * 2**20)))
STUDIO_HOME_MAX_BYTES = int(os.environ.get("STUDIO_HOME_MAX_BYTES", str(50 * 2**30)))

# Each space is served on a host name of its own, `<label>.<STUDIO_SPACES_DOMAIN>`, on Studio's
# scheme and port, so that what a space serves never runs with Studio's origin
# (docs/notebooks.md, "Each space on its own origin"). Browsers resolve `*.localhost` to the
# loopback themselves; elsewhere this needs a wildcard DNS record (and certificate).
STUDIO_SPACES_DOMAIN = os.environ.get("STUDIO_SPACES_DOMAIN", "localhost").strip(".").lower()
ALLOWED_HOSTS.append("." + STUDIO_SPACES_DOMAIN)

# The invocation router (studio/web/router/, docs/hosting.md): the largest request body it
# takes (SageMaker's 6 MB), how long a model may take to answer, how long a request waits for
# a scale-to-zero variant's cold start, how long it keeps an endpoint's routing table and an
# authorization decision, and how many captured invocations wait for the capture writer.
STUDIO_INVOKE_MAX_BYTES = int(os.environ.get("STUDIO_INVOKE_MAX_BYTES", str(6 * 2**20)))
STUDIO_INVOKE_TIMEOUT_S = float(os.environ.get("STUDIO_INVOKE_TIMEOUT_S", "60"))
STUDIO_COLD_START_WAIT_S = float(os.environ.get("STUDIO_COLD_START_WAIT_S", "30"))
STUDIO_ROUTE_TTL_S = float(os.environ.get("STUDIO_ROUTE_TTL_S", "1"))
STUDIO_INVOKE_AUTH_TTL_S = float(os.environ.get("STUDIO_INVOKE_AUTH_TTL_S", "5"))
STUDIO_CAPTURE_QUEUE = int(os.environ.get("STUDIO_CAPTURE_QUEUE", "1000"))

# --- S3-compatible endpoint (studio/web/s3/, docs/s3.md) ---------------------------------
# Virtual-hosted addressing: a request to `<bucket>.<one of these>` names that bucket
# (boto3 uses it for an endpoint URL with a host name; an IP address gets path style).
STUDIO_S3_DOMAINS = [
    d.strip(".").lower()
    for d in os.environ.get("STUDIO_S3_DOMAINS", STUDIO_SPACES_DOMAIN).split(",")
    if d.strip(".")
]
ALLOWED_HOSTS.extend("." + d for d in STUDIO_S3_DOMAINS if "." + d not in ALLOWED_HOSTS)
# S3's own limits: 5 GiB an object in one PUT and a part; 5 MiB a part but the last.
STUDIO_S3_MAX_OBJECT_BYTES = int(os.environ.get("STUDIO_S3_MAX_OBJECT_BYTES", str(5 * 2**30)))
STUDIO_S3_MAX_PART_BYTES = int(os.environ.get("STUDIO_S3_MAX_PART_BYTES", str(5 * 2**30)))
STUDIO_S3_MIN_PART_BYTES = int(os.environ.get("STUDIO_S3_MIN_PART_BYTES", str(5 * 2**20)))
