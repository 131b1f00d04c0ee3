"""Container backends behind one interface; `get_runtime()` picks the configured one."""

from functools import cache

from django.conf import settings

from studio.core.runtime.base import ContainerError, ContainerSpec, Mount, Runtime, State

__all__ = ["ContainerError", "ContainerSpec", "Mount", "Runtime", "State", "get_runtime"]


def docker_available() -> bool:
    """Does a Docker Engine answer here? (One quick ping; the answer is kept per process.)"""
    return _docker_ping()


@cache
def _docker_ping() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        client.close()
    except Exception:
        return False
    return True


def runtime_name(name: str | None = None) -> str:
    """`docker` or `sandbox`: STUDIO_RUNTIME, with `auto` meaning docker when it answers."""
    name = name or settings.STUDIO_RUNTIME
    if name == "auto":
        return "docker" if docker_available() else "sandbox"
    return name


def get_runtime(name: str | None = None) -> Runtime:
    return _runtime(runtime_name(name))


@cache
def _runtime(resolved: str) -> Runtime:
    if resolved == "docker":
        from studio.core.runtime.docker import DockerRuntime

        return DockerRuntime()
    from studio.core.runtime.sandbox import SandboxRuntime

    return SandboxRuntime()
