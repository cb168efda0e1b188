"""The base of the traffic model's users: one signed, budgeted, checked request at a time.

Every request is signed with a credential picked at random from the level's
file, counted against the level's budget, and judged by its status alone: the
expected one is Ok, any other a failure "got X, expected Y" (X = 0: no answer).
"""

import itertools
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from geventhttpclient.url import URL
from locust import FastHttpUser
from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment
from locust.exception import StopUser

from ecsload.api import API_ROOT
from ecsload.plugin.level import Level
from ecsload.sample_columns import RAMP


@dataclass(frozen=True)
class TaskTemplate:
    """A kind of POST /tasks request: its name, weight, expected status and body.

    As in the original harness, its request type is `Tasks-<name>` and it sends
    `?comment=<name in lower case>`.
    """

    name: str
    weight: int
    expected: int
    body: Callable[[Any], dict[str, Any]]  # of Locust's parsed options (for the image names)


@dataclass(frozen=True)
class TaskRequest:
    name: str
    path: str
    expected: int
    body: bytes


def task_deck(templates: tuple[TaskTemplate, ...], options: Any) -> list[TaskRequest]:
    """Each template's ready-made request, `weight` times: a random pick honours the weights."""
    deck = []
    for t in templates:
        request = TaskRequest(
            f"Tasks-{t.name}",
            f"{API_ROOT}/tasks?comment={t.name.lower()}",
            t.expected,
            json.dumps(t.body(options)).encode(),
        )
        deck += [request] * t.weight
    return deck


def count_connections(
    session: FastHttpSession, url: str, on_connect: Callable[[Any], None]
) -> None:
    """Call `on_connect` for each new connection of `session` to `url`, at no cost per request.

    geventhttpclient keeps one client per host, made on its first request, whose
    connection pool calls `after_connect(sock)` once per connection it opens, after
    the TCP (and TLS) handshake. Making the client now (as the first request would)
    lets that hook be set once; a user reuses its keep-alive connection, so more
    connections than users means the server or a proxy closed some.
    """
    client = session.client.clientpool.get_client(URL(url))
    client._connection_pool.after_connect = on_connect


class ECSUser(FastHttpUser):
    abstract = True
    _ids = itertools.count(1)

    def __init__(self, environment: Environment) -> None:
        self.level = Level.of(environment)
        # Read by FastHttpUser as it makes the client: the level's verification (ecsload.tls).
        self.insecure = self.level.insecure
        self.ssl_context_factory = self.level.ssl_context
        super().__init__(environment)
        count_connections(self.client, self.host, self.level.count_connection)
        self.user_id = self.level.role.user_id_base + next(ECSUser._ids)
        self._context = {"user_id": self.user_id, "phase": RAMP}
        self._pause = self.wait_time  # the kind's own wait between requests
        self.wait_time = self._wait_then_measure  # what Locust calls between requests

    def _wait_then_measure(self) -> float:
        """The kind's pause, except that a user whose last request was in the ramp sends
        its next one as soon as the measured phase opens.

        Without it, a user that waits between requests (0.5-1 s in the model) could
        miss a short measured phase altogether, and the level would be measured with
        fewer users than its title says.
        """
        pause = self._pause()
        if self._context["phase"] == RAMP and pause:
            self.level.measure_opened.wait(pause)
            return 0
        return pause

    def context(self) -> dict[str, Any]:
        """The user's id and the request's phase, for the samples (Locust copies it per request)."""
        return self._context

    def call(
        self, method: str, path: str, name: str, expected: int, body: bytes | None = None
    ) -> None:
        """One request of the model; the user stops once the level's budget is spent.

        While the request is out, the level knows it (`in_flight`): if the level stops
        first, the request is recorded as one that got no answer.
        """
        phase = self.level.admit()
        if phase is None:
            raise StopUser
        self._context["phase"] = phase
        headers = random.choice(self.level.get_headers if body is None else self.level.post_headers)
        in_flight = self.level.in_flight
        in_flight[self.user_id] = (time.time(), name, phase)
        with self.client.request(
            method, path, name=name, data=body, headers=headers, catch_response=True
        ) as response:
            status = response.status_code
            if status == expected:
                response.success()
            elif status:
                response.failure(f"got {status}, expected {expected}")
            else:
                error = type(getattr(response, "error", None)).__name__
                response.failure(f"got 0 ({error}), expected {expected}")
        del in_flight[self.user_id]
