"""The ECS traffic model (docs/ecs-api.md, "The traffic model of this harness").

Five kinds of user, sharing each level's users by weight (ecsload.model). Four
ask for one cheap endpoint each and wait 0.5-1 s between requests; the tasks
user (75%) posts tasks back to back.
Credentials, the stop after N requests, the samples and level.json come from
ecsload; its options are under "ECS load test" in `locust -f locustfile.py --help`.
"""

import random
from typing import Any

from locust import between, constant, events, task

from ecsload.api import API_ROOT
from ecsload.model import USER_WEIGHTS
from ecsload.plugin import level
from ecsload.plugin.users import ECSUser, TaskTemplate, task_deck

level.install(events)

HELLO_WORLD = ["echo", "hello world"]


class NoOpUser(ECSUser):
    weight = USER_WEIGHTS["NoOpUser"]
    wait_time = between(0.5, 1)

    @task
    def noop(self) -> None:
        self.call("GET", f"{API_ROOT}/_noop", "NoOp", 200)


class VersionUser(ECSUser):
    weight = USER_WEIGHTS["VersionUser"]
    wait_time = between(0.5, 1)

    @task
    def version(self) -> None:
        self.call("GET", f"{API_ROOT}/_version", "Version", 200)


class QuickHealthUser(ECSUser):
    weight = USER_WEIGHTS["QuickHealthUser"]
    wait_time = between(0.5, 1)

    @task
    def quick_health(self) -> None:
        self.call("GET", f"{API_ROOT}/_health?quick=true", "Health-Check-Quick", 200)


class SlowHealthUser(ECSUser):
    weight = USER_WEIGHTS["SlowHealthUser"]
    wait_time = between(0.5, 1)

    @task
    def slow_health(self) -> None:
        self.call("GET", f"{API_ROOT}/_health?quick=false", "Health-Check-Slow", 200)


def happy_path(options: Any) -> dict[str, Any]:
    return {"docker_image": options.happy_image, "cmd": HELLO_WORLD}


def image_not_found(options: Any) -> dict[str, Any]:
    return {"docker_image": options.missing_image, "cmd": HELLO_WORLD}


def bad_request_body(options: Any) -> dict[str, Any]:
    return {}


class TasksUser(ECSUser):
    weight = USER_WEIGHTS["TasksUser"]
    wait_time = constant(0)
    templates = (
        TaskTemplate("Happy-Path", 80, 201, happy_path),
        TaskTemplate("Image-Not-Found", 10, 404, image_not_found),
        TaskTemplate("Bad-Request-Body", 10, 400, bad_request_body),
    )

    def on_start(self) -> None:
        self.deck = task_deck(self.templates, self.environment.parsed_options)

    @task
    def run_task(self) -> None:
        request = random.choice(self.deck)
        self.call("POST", request.path, request.name, request.expected, request.body)
