"""Task runners, and `make_runner`, which picks one from the settings."""

from __future__ import annotations

import importlib
from types import ModuleType

from ecsnode.runners.base import ImageNotFound, RunnerError, TaskResult, TaskRunner
from ecsnode.runners.process import ProcessRunner
from ecsnode.settings import Settings

__all__ = ["ImageNotFound", "RunnerError", "TaskResult", "TaskRunner", "make_runner"]


def _docker_module() -> ModuleType | None:
    """ecsnode.runners.docker, imported only when asked for (it pulls in the docker library)."""
    try:
        return importlib.import_module("ecsnode.runners.docker")
    except ModuleNotFoundError as error:
        if error.name in ("ecsnode.runners.docker", "docker"):
            return None
        raise


def make_runner(settings: Settings) -> TaskRunner:
    """The runner `settings.runner` names; "auto" is docker when a daemon answers, else process."""
    if settings.runner == "process":
        return ProcessRunner(settings)
    docker = _docker_module()
    if settings.runner == "docker":
        if docker is None:
            raise RunnerError("the docker runner is not available (ecsnode.runners.docker)")
        return docker.DockerRunner(settings)
    if docker is not None and docker.docker_available(settings):
        return docker.DockerRunner(settings)
    return ProcessRunner(settings)
