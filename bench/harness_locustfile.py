"""The harness's user for bench/bench_scale.py: the same GET /v1.1/_noop back to back.

It goes through everything a level of the traffic model does (ECSUser's signed,
budgeted, checked request; the samples; level.json; with --processes, tickets and
samples shipped to the master): only the model's mix and waits are left out, so
that every driver of the benchmark makes the same request as fast as it can.
"""

from locust import constant, events, task

from ecsload.plugin import level
from ecsload.plugin.users import ECSUser

level.install(events)


class HarnessNoOpUser(ECSUser):
    wait_time = constant(0)

    @task
    def noop(self) -> None:
        self.call("GET", "/v1.1/_noop", "NoOp", 200)
