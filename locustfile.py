"""The ECS traffic model (docs/ecs-api.md, "The traffic model of this harness").

Five kinds of user, sharing each level's users by weight (ecsload.model). Four
ask for one cheap endpoint each and wait 0.5-1 s between requests; the tasks
user (75%) posts tasks back to back. In an arrival-rate level (--arrival-rate)
ModelArrivals sends the same requests instead, each arrival picking a kind by
the same weights (and a task by the templates' weights).
Credentials, the stop after N requests, the samples and level.json come from
ecsload; its options are under "ECS load test" in `locust -f locustfile.py --help`.
"""

import itertools
import random
from typing import Any

from locust import between, constant, events, task

from ecsload.api import API_ROOT
from ecsload.model import ARRIVAL_WEIGHTS, PACED_WAIT_SECONDS, TASK_WEIGHTS, USER_WEIGHTS
from ecsload.plugin import level
from ecsload.plugin.options import LevelOptions, level_options
from ecsload.plugin.users import ArrivalUser, ECSUser, TaskTemplate, model_request, task_deck

level.install(events)

HELLO_WORLD = ["echo", "hello world"]


class PacedUser(ECSUser):
    """A kind that asks for one endpoint (`request`) and waits 0.5-1 s between requests."""

    abstract = True
    wait_time = between(*PACED_WAIT_SECONDS)
    request = model_request("GET", "", "", 0)

    @task
    def ask(self) -> None:
        r = self.request
        self.call(r.method, r.path, r.name, r.expected)


class NoOpUser(PacedUser):
    weight = USER_WEIGHTS["NoOpUser"]
    request = model_request("GET", f"{API_ROOT}/_noop", "NoOp", 200)


class VersionUser(PacedUser):
    weight = USER_WEIGHTS["VersionUser"]
    request = model_request("GET", f"{API_ROOT}/_version", "Version", 200)


class QuickHealthUser(PacedUser):
    weight = USER_WEIGHTS["QuickHealthUser"]
    request = model_request("GET", f"{API_ROOT}/_health?quick=true", "Health-Check-Quick", 200)


class SlowHealthUser(PacedUser):
    weight = USER_WEIGHTS["SlowHealthUser"]
    request = model_request("GET", f"{API_ROOT}/_health?quick=false", "Health-Check-Slow", 200)


def happy_path(options: LevelOptions) -> dict[str, Any]:
    return {"docker_image": options.happy_image, "cmd": HELLO_WORLD}


def image_not_found(options: LevelOptions) -> dict[str, Any]:
    return {"docker_image": options.missing_image, "cmd": HELLO_WORLD}


def bad_request_body(options: LevelOptions) -> dict[str, Any]:
    return {}


class TasksUser(ECSUser):
    weight = USER_WEIGHTS["TasksUser"]
    wait_time = constant(0)
    templates = (
        TaskTemplate("Happy-Path", TASK_WEIGHTS["Happy-Path"], 201, happy_path),
        TaskTemplate("Image-Not-Found", TASK_WEIGHTS["Image-Not-Found"], 404, image_not_found),
        TaskTemplate("Bad-Request-Body", TASK_WEIGHTS["Bad-Request-Body"], 400, bad_request_body),
    )

    def on_start(self) -> None:
        self.deck = task_deck(self.templates, level_options(self.environment))

    @task
    def run_task(self) -> None:
        request = random.choice(self.deck)
        self.call("POST", request.path, request.name, request.expected, request.body)


class ModelArrivals(ArrivalUser):
    """The model's requests as arrivals, each type as often as ecsload.model.ARRIVAL_WEIGHTS
    says (NoOp 500, ..., Tasks-Happy-Path 75 x 80 = 6000): the capacity search plans its
    steps' answers from the same weights."""

    def on_start(self) -> None:
        paced = (NoOpUser, VersionUser, QuickHealthUser, SlowHealthUser)
        tasks = task_deck(TasksUser.templates, self.environment.parsed_options)
        by_name = {request.name: request for request in tasks}
        self.requests = [kind.request for kind in paced] + list(by_name.values())
        self.weights = [ARRIVAL_WEIGHTS[request.name] for request in self.requests]
        self.cumulative = list(itertools.accumulate(self.weights))
