"""The traffic model's user kinds and weights (docs/ecs-api.md), and how a level's users are shared.

The locustfile runs the kinds; the plan prints each level's mix with `-v`; the
level gives Locust the counts (`fixed_count`) before it spawns. Standard
library only: the plan imports it (and checks thresholds' request types with
REQUEST_TYPES, the names the locustfile gives its requests).
"""

import math
from collections.abc import Mapping

USER_WEIGHTS = {
    "NoOpUser": 5,
    "VersionUser": 5,
    "QuickHealthUser": 10,
    "SlowHealthUser": 5,
    "TasksUser": 75,
}
PACED_WAIT_SECONDS = (0.5, 1.0)  # the wait between requests of the paced kinds (uniform)
PACED_TYPES = ("NoOp", "Version", "Health-Check-Quick", "Health-Check-Slow")  # their requests
PACED_KINDS = ("NoOpUser", "VersionUser", "QuickHealthUser", "SlowHealthUser")  # those kinds
TASK_WEIGHTS = {  # a TasksUser's requests, by template (their types: Tasks-NAME), out of 100
    "Happy-Path": 80,
    "Image-Not-Found": 10,
    "Bad-Request-Body": 10,
}
# An arrival-rate level's requests by type (the locustfile's ModelArrivals): a paced kind's
# weight x 100, a task template's weight x the tasks' weight, so the open model sends the
# closed model's mix of kinds (NoOp 500 of 10,000: 5%; Tasks-Happy-Path 6,000: 60%).
ARRIVAL_WEIGHTS = {
    **{name: USER_WEIGHTS[kind] * 100 for name, kind in zip(PACED_TYPES, PACED_KINDS, strict=True)},
    **{f"Tasks-{name}": USER_WEIGHTS["TasksUser"] * w for name, w in TASK_WEIGHTS.items()},
}
MIN_IN_FLIGHT = 100  # the default cap on an arrival-rate level's requests in flight, at least
STALL_ROOM_SECONDS = 1.5  # ... and room for this long a stall's arrivals at the top rate


# The arrival rate one Locust process sends on schedule (bench/bench_open_model.py: its
# lateness p99 under 1 ms and its added latency under 0.5 ms, against nginx).
ARRIVALS_PER_PROCESS = 1000


def auto_processes(top_rate: float, cores: int, local_node: bool) -> int:
    """`--processes auto` for an arrival-rate sweep whose top rate is `top_rate`: as many
    Locust processes as that rate needs at ARRIVALS_PER_PROCESS each, at most one per core
    of the `cores`, less one for the local node when it runs on this machine; at least 1."""
    usable = max(1, cores - (1 if local_node else 0))
    return max(1, min(math.ceil(top_rate / ARRIVALS_PER_PROCESS), usable))


def default_max_in_flight(top_rate: float) -> int:
    """The cap on requests in flight of an arrival-rate sweep whose top rate is `top_rate`,
    when none is given (--max-in-flight 0): a stall of STALL_ROOM_SECONDS fills it."""
    return max(MIN_IN_FLIGHT, math.ceil(STALL_ROOM_SECONDS * top_rate))


REQUEST_TYPES = (
    "NoOp",
    "Version",
    "Health-Check-Quick",
    "Health-Check-Slow",
    "Tasks-Happy-Path",
    "Tasks-Image-Not-Found",
    "Tasks-Bad-Request-Body",
)


def users_by_kind(users: int, weights: Mapping[str, float]) -> dict[str, int]:
    """Share `users` among the kinds by weight: exactly `users` in all, and at least one of
    each kind once there are as many users as kinds.

    Largest-remainder rounding (Hamilton's method), as the original harness's Locust
    0.7 gave every kind round(U * weight / total) users; with a floor of one, the
    kinds above it give back a user in order of their smallest remainder.
    """
    total = sum(weights.values())
    quota = {kind: users * weight / total for kind, weight in weights.items()}
    counts = {kind: int(share) for kind, share in quota.items()}
    if users >= len(weights):
        counts = {kind: max(count, 1) for kind, count in counts.items()}

    def remainder(kind: str) -> float:
        return quota[kind] - counts[kind]

    order = list(weights)  # ties go to the kind listed first
    while sum(counts.values()) < users:
        counts[max(order, key=remainder)] += 1
    while sum(counts.values()) > users:
        counts[min((k for k in order if counts[k] > 1), key=remainder)] -= 1
    return counts
