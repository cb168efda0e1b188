"""The task runner interface: what the node needs from anything that runs a task.

A runner checks (and if it can, pulls) the image, runs the command to its end and reports
its own health. The node caps how many tasks run at once, so runners need not.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class TaskResult:
    exit_code: int
    stdout: bytes
    stderr: bytes


class ImageNotFound(Exception):
    """The image does not exist (answered 404)."""


class RunnerError(Exception):
    """The runner itself failed, not the task (answered 500)."""


class TaskRunner(ABC):
    name: str

    @abstractmethod
    async def run(self, image: str, cmd: list[str], creds: dict[str, str] | None) -> TaskResult:
        """Run `cmd` in `image` to its end; raises ImageNotFound or RunnerError."""

    @abstractmethod
    async def health(self) -> tuple[str, dict[str, object]]:
        """(component name, {"status": "green"|"red", "details": {...}}) for /_health."""

    @abstractmethod
    async def close(self) -> None:
        """Stop whatever still runs: called once, at the node's shutdown."""

    def log_setup(self) -> None:  # noqa: B027 (most runners have nothing to say)
        """Log how tasks will run; called once the node listens, so that a node that refuses
        to start says only why."""
