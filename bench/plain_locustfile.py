"""Plain Locust users for bench/bench_scale.py: GET /v1.1/_noop back to back, nothing else.

The reference the harness is compared with: no credentials, no budget, no samples.
Pick one with its class name on Locust's command line.
"""

from locust import FastHttpUser, HttpUser, constant, task

NOOP = "/v1.1/_noop"


class PlainHttpUser(HttpUser):
    wait_time = constant(0)

    @task
    def noop(self) -> None:
        self.client.get(NOOP, name="NoOp")


class PlainFastHttpUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def noop(self) -> None:
        self.client.get(NOOP, name="NoOp")
