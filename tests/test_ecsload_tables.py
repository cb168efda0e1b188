"""Rendering the level table and the table across levels from summary.json's documents."""

import re

import pytest

from ecsload.report.tables import (
    SHORT_TABLE_NOTE,
    attention,
    level_line,
    level_notes,
    level_table,
    run_table,
    trend_cell,
)
from ecsload.tls import NOT_VERIFIED


def type_stats(ok: int, error: int = 0, rate_limited: int = 0, base: float = 1.0) -> dict:
    return {
        "ok": ok,
        "error": error,
        "rate_limited": rate_limited,
        "min": base,
        "p50": base + 0.5,
        "p60": base + 0.6,
        "p70": base + 0.7,
        "p80": base + 0.8,
        "p90": base + 0.9,
        "p95": base + 0.95,
        "p99": base + 0.99,
        "max": base + 2,
        "m": 0.125,
        "b": base,
    }


def level(users: int = 10, rate_limited: int = 0, **extra: object) -> dict:
    types = {
        "Version": type_stats(50, 50, rate_limited, base=3.0),
        "NoOp": type_stats(100, base=2.0),
        "Tasks-Happy-Path": type_stats(800, base=40.0),
    }
    requests = sum(t["ok"] + t["error"] for t in types.values())
    return {
        "concurrency": users,
        "users": users,
        "users_measured": users,
        "requests": requests,
        "started": "2024-05-01T12:00:00.000Z",
        "ended": "2024-05-01T12:00:10.000Z",
        "seconds": 10.0,
        "rps": requests / 10,
        "goodput": 95.0,
        "error_percent": 5.0,
        "ci": {"rps": [90.0, 104.5], "goodput": None, "error_percent": None},
        "stopped_by": "requests",
        "target_requests": requests,
        "time_cap_seconds": 600,
        "locust_requests": requests + 40,
        "samples": requests + 40,
        "unanswered": 0,
        "ramp": {"seconds": 2.0, "requests": 40, "completed": True, "users_started": users},
        "generator": None,
        "probe": None,
        "workers": None,
        "all": type_stats(950, 50, rate_limited, base=10.0),
        "types": types,
        **extra,
    }


def test_level_table_layout() -> None:
    lines = level_table(level()).splitlines()
    title = "1000 @ 10 from 2024-05-01T12:00:00.000Z to 2024-05-01T12:00:10.000Z"
    assert lines[:3] == ["=" * len(title), title, "=" * len(title)]
    assert lines[3].split() == [
        "Request",
        "Type",
        "Ok",
        "Error",
        "m",
        "b",
        "Min",
        "50",
        "60",
        "70",
        "80",
        "90",
        "95",
        "99",
        "Max",
    ]
    assert set(lines[4]) == {"-", " "}
    rows = [line.split() for line in lines[5:8]]
    assert [row[0] for row in rows] == ["NoOp", "Tasks-Happy-Path", "Version"]
    assert rows[0] == [
        "NoOp",
        "100",
        "0",
        "0.125",
        "2.00",
        "2.00",
        "2.50",
        "2.60",
        "2.70",
        "2.80",
        "2.90",
        "2.95",
        "2.99",
        "4.00",
    ]
    assert lines[8] == (
        "Requests/s: 100.0 ±10.0 (1000 requests in 10.0 s); goodput 95.0 OK/s; errors 5.00%"
    )
    assert lines[9] == "Rate limited: 0 (0.0% answered 503)"
    assert lines[10] == "Ramp: 10 users in 2.0 s, 40 requests, not in the table"
    assert len(lines) == 11


def test_rate_limit_warning_only_over_one_percent() -> None:
    assert "WARNING" not in level_table(level(rate_limited=10))  # exactly 1%
    text = level_table(level(rate_limited=11))
    assert "Rate limited: 11 (1.1% answered 503)" in text
    warning = text.splitlines()[-2]
    assert warning.startswith("WARNING: 1.1% of the requests were rate limited")
    assert "mostly measure the rate limiter" in warning
    assert "api_rate_limiting (see deployment.json.example)" in warning


@pytest.mark.parametrize(
    ("stopped_by", "note"),
    [
        ("time", "NOTE: the level hit its time cap of 600 s after 1000 of 5000 requests."),
        (
            "other",
            "NOTE: the level was stopped early (interrupted or Locust quit) after 1000 of "
            "5000 requests.",
        ),
    ],
)
def test_a_level_that_did_not_finish_says_so(stopped_by: str, note: str) -> None:
    text = level_table(level(stopped_by=stopped_by, target_requests=5000))
    assert text.splitlines()[-1] == note


def test_samples_fewer_than_locust_counted_are_reported() -> None:
    text = level_table(level(locust_requests=1043))
    assert text.splitlines()[-1] == (
        "NOTE: 1040 samples were recorded but Locust counted 1043 requests."
    )


def test_the_probe_and_the_generators_queueing() -> None:
    probe = {"rate": 2, "count": 21, "errors": 1, "p50": 0.41, "p95": 0.8, "p99": 0.9, "max": 1}
    text = level_table(level(probe=probe))
    assert "Probe: GET _noop at 2/s, 20 answers, 1 errors, p50 0.41 ms, p99 0.90 ms" in text
    assert (  # the model's NoOp p50 is 2.50 ms
        "NOTE: the model's NoOp p50 (2.50 ms) is 6.1x the probe's (0.41 ms): the difference "
        "is the load generator's own queueing, not the service's." in text
    )
    assert "queueing" not in level_table(level(probe={**probe, "p50": 1.3}))
    few = {**probe, "count": 3, "errors": 0, "few": ["p50", "p95", "p99"]}
    assert "queueing" not in level_table(level(probe=few))  # 3 answers cannot say so


@pytest.mark.parametrize(
    ("cpu", "busy", "warned"),
    [(85.0, 85.0, False), (85.1, None, True), (60.0, 97.0, True)],
)
def test_a_busy_generator_is_a_warning(cpu: float, busy: float | None, warned: bool) -> None:
    generator = {
        "processes": 3,
        "cpu_percent_max": cpu,
        "busy_percent_max": busy,
        "cpu_percent": [3.0, cpu, 60.0],
        "busy_percent": [3.0, busy, 61.0],
    }
    text = level_table(level(generator=generator))
    assert f"Generator CPU: {cpu:.0f}% of a core (the busiest of 3 Locust processes" in text
    assert ("% (on a CPU or waiting for one)" in text) is (busy is not None)
    if busy is not None:
        assert f"; busy {busy:.0f}% (on a CPU or waiting for one)" in text
    assert ("WARNING: a Locust process was busy" in text) is warned
    assert ("run with --processes N or more machines" in text) is warned


def test_fewer_users_measured_than_the_level_has_is_a_note() -> None:
    text = level_table(level(users=25, users_measured=23))
    assert "NOTE: 23 of the level's 25 users made a request while it was measured" in text


def test_a_level_stopped_in_its_ramp_measured_nothing() -> None:
    ramp = {"seconds": 3.0, "requests": 12, "completed": False, "users_started": 3}
    stopped = {**level(ramp=ramp, stopped_by="time"), "requests": 0, "all": None, "types": {}}
    lines = level_table(stopped).splitlines()
    assert lines[1] == "0 @ 10: no request was measured"
    assert lines[-1] == (
        "NOTE: the level stopped during its ramp, after 3.0 s with 3 of 10 users started and "
        "12 requests: nothing was measured at the full concurrency; raise -t or the hatch "
        "rate (-r)."
    )


def test_requests_with_no_answer_at_the_time_cap_are_a_note() -> None:
    text = level_table(level(stopped_by="time", unanswered=4, samples=1044))
    assert (
        "NOTE: 4 request(s) had no answer before the time cap: they are errors with status 0"
        in text
    )
    assert "Locust counted" not in text  # 1044 samples, 4 of them unanswered: 1040 answered


@pytest.mark.parametrize(
    ("tls", "connections", "notes"),
    [
        (None, None, []),  # a summary from before connections were counted
        (None, 10, []),
        ({"verified": True, "ca_bundle": None}, 10, []),
        ({"verified": False, "ca_bundle": None}, 10, [NOT_VERIFIED]),
        (
            None,
            25,
            [
                "NOTE: the users opened 25 connections, more than one each (10 users): the "
                "server or a proxy closed keep-alive connections (or requests failed), and the "
                "requests that opened new ones paid their TCP handshakes."
            ],
        ),
    ],
)
def test_tls_and_connection_notes(tls: dict | None, connections: int | None, notes: list) -> None:
    text = level_table(level(tls=tls, connections=connections)).splitlines()
    assert [line for line in text if line.startswith((NOT_VERIFIED, "NOTE: the users"))] == notes
    if connections == 25:
        https = level(tls={"verified": True, "ca_bundle": None}, connections=25)
        assert "paid their TCP and TLS handshakes." in level_table(https)


def test_run_table() -> None:
    generator = {"cpu_percent_max": 91.0, "busy_percent_max": 99.0}
    second = level(users=20, users_measured=19, generator=generator)
    second["probe"] = {"p50": 0.5, "p99": 1.25}
    del second["types"]["Version"]
    text = run_table({"endpoint": "https://api.example.com", "levels": [level(), second]})
    lines = text.splitlines()
    assert lines[1] == "2 level(s) against https://api.example.com"
    assert lines[0] == lines[2] == "=" * len(lines[1])
    assert lines[3].split() == ["Users", "10", "20"]
    assert set(lines[4]) == {"-", " "}
    cells = [re.split(r"\s{2,}", line.strip()) for line in lines[5:]]  # "100.0 ±10.0" is one
    rows = {row[0]: row[1:] for row in cells}
    assert rows == {
        "Users measured": ["10", "19"],
        "Requests": ["1000", "1000"],
        "Seconds": ["10.0", "10.0"],
        "Requests/s": ["100.0 ±10.0", "100.0 ±10.0"],
        "Goodput (OK/s)": ["95.0", "95.0"],
        "Error %": ["5.00", "5.00"],
        "Rate limited %": ["0.00", "0.00"],
        "p50": ["10.50", "10.50"],
        "p95": ["10.95", "10.95"],
        "p99": ["10.99", "10.99"],
        "p99 corrected": ["-", "-"],  # levels summarised before corrected figures
        "Longest stall ms": ["-", "-"],
        "p95 NoOp": ["2.95", "2.95"],
        "p95 Tasks-Happy-Path": ["40.95", "40.95"],
        "p95 Version": ["3.95", "-"],  # a type the second level did not see
        "Probe p50": ["-", "0.50"],
        "Probe p99": ["-", "1.25"],
        "Generator CPU %": ["-", "91"],
        "Generator busy %": ["-", "99"],
    }


def open_level(p50: float, late_p50: float, lag: dict | None) -> dict:
    one = level(1)
    one.update(model="open", rate=1000, arrivals="constant", dropped=0, max_in_flight=1500)
    one["all"] = {**one["all"], "p50": p50, "service": None}
    one["lateness"] = {"p50": late_p50, "p99": 0.4, "max": 2.0, "behind": False}
    one["generator"] = {
        "processes": 1,
        "cpu_percent_max": 40.0,
        "busy_percent_max": 50.0,
        "cpu_percent": [40.0],
        "busy_percent": [50.0],
        "loop_lag_ms": lag,
    }
    return one


def test_an_arrival_level_says_its_loop_lag_and_warns_when_the_generator_adds_much() -> None:
    lag = {"p50": 0.15, "p99": 0.9, "max": 3.0, "samples": 500}
    quiet = level_table(open_level(5.0, 0.05, lag))
    assert (
        "Generator: sent p50 0.050 ms, p99 0.400 ms, max 2.0 ms after schedule; answers "
        "waited for its event loop p50 0.150 ms, p99 0.900 ms"
    ) in quiet
    assert "WARNING: the generator adds" not in quiet  # 0.2 ms of 5 ms: 4%
    loud = level_table(open_level(0.8, 0.05, lag))
    assert (
        "WARNING: the generator adds about 0.20 ms to a typical answer (25% of the p50 0.80 ms: "
        "sent 0.05 ms late, timed 0.15 ms after it came)"
    ) in " ".join(loud.split())
    tiny = level_table(open_level(0.2, 0.01, {**lag, "p50": 0.02}))
    assert "WARNING: the generator adds" not in tiny  # 0.03 ms: under what the clocks resolve
    without = level_table(open_level(0.8, 0.3, None))
    assert "event loop" not in without and "WARNING: the generator adds about 0.30 ms" in (
        " ".join(without.split())
    )


def test_a_levels_line_says_its_figures_and_what_needs_a_look() -> None:
    quiet = level(all={**type_stats(1000, 0, base=10.0), "ci": {"p95": [10.5, 11.5]}})
    assert level_line(quiet) == (
        "10 users: 100.0 ±10.0 req/s, no errors, p50 10.50, p95 10.95 ±0.55, p99 10.99 ms"
    )
    generator = {"processes": 1, "cpu_percent_max": 97.0, "busy_percent_max": 99.0}
    busy = level(
        rate_limited=20, generator=generator, unanswered=3, stopped_by="time", samples=1043
    )
    line = level_line(busy, "level-10/summary.txt")
    assert line.startswith("10 users: 100.0 ±10.0 req/s, errors 5.00%, p50 10.50,")
    assert line.endswith(
        "  ! time cap hit, 3 unanswered, 2.0% rate limited, generator busy 99% "
        "(level-10/summary.txt)"
    )
    few = {**type_stats(30, base=10.0), "few": ["p95", "p99"]}
    assert "p95 10.95*, p99 10.99*" in level_line(level(all=few))
    # A note the short words do not name still gets a mark.
    assert level_line(level(locust_requests=1043)).endswith("! see the notes (summary.txt)")


def test_every_warning_or_note_of_a_level_gets_a_mark() -> None:
    probe = {"rate": 2, "count": 21, "errors": 1, "p50": 0.41, "p95": 0.8, "p99": 0.9, "max": 1}
    for noted in (
        level(users=25, users_measured=23),
        level(probe=probe),
        level(connections=25),
        level(tls={"verified": False, "ca_bundle": None}),
        level(stopped_by="other", target_requests=5000),
        level(workers={"joined": 2, "finished": 1, "lost": 1}),
        level(other_sweeps=[{"pid": 4321, "run": "/ci/results/20240501-120000", "started": None}]),
    ):
        assert any(n.startswith(("WARNING", "NOTE", NOT_VERIFIED)) for n in level_notes(noted))
        assert attention(noted), noted


def test_an_arrival_rate_level_says_its_rate_never_its_users() -> None:
    rate = level(users=1, model="open", rate=200, arrivals="constant", max_in_flight=300)
    assert level_line(rate).startswith("200/s: 100.0 ±10.0 req/s")
    text = level_table(rate)
    assert "Ramp: 1 arrival user (one per Locust process) in 2.0 s" in text
    assert "1 users" not in text
    table = run_table({"endpoint": None, "levels": [rate, {**rate, "rate": 300}]}, full=False)
    assert table.splitlines()[3].split() == ["Rate", "/s", "200", "300"]
    assert "users" not in table.lower().replace("user", "")


def test_the_short_run_table_keeps_what_a_person_reads() -> None:
    quiet = run_table({"endpoint": None, "levels": [level(), level(users=20)]}, full=False)
    rows = [re.split(r"\s{2,}", line.strip())[0] for line in quiet.splitlines()[5:]]
    assert rows == ["Requests/s", "Error %", "p50", "p95", "p99", "p99 corrected", SHORT_TABLE_NOTE]
    generator = {"processes": 1, "cpu_percent_max": 97.0, "busy_percent_max": 99.0}
    probe = {"rate": 2, "count": 21, "errors": 0, "p50": 0.41, "p95": 0.8, "p99": 0.9, "max": 1}
    stalls = {"count": 2, "longest_ms": 1000.0}
    levels = [
        level(rate_limited=20, generator=generator, probe=probe, stalls=stalls),
        level(users=20, users_measured=18),
    ]
    loud = run_table({"endpoint": None, "levels": levels}, full=False)
    rows = [re.split(r"\s{2,}", line.strip())[0] for line in loud.splitlines()[5:]]
    assert rows[:-1] == [
        "Users measured",
        "Requests/s",
        "Error %",
        "Rate limited %",
        "p50",
        "p95",
        "p99",
        "p99 corrected",
        "Longest stall ms",
        "Probe p50",
        "Generator busy %",
    ]


def test_the_local_nodes_own_limiter_is_named_as_the_likely_cause() -> None:
    limiter = {"by": "local node", "deployment": "d.json", "rates": {"per_key": 500.0}}
    text = level_table(level(rate_limited=11, rate_limiter=limiter))
    [warning] = [line for line in text.splitlines() if line.startswith("WARNING")]
    assert "measure the local node's limiter (--node-deployment d.json)" in warning
    assert "nginx's limit_req without burst" in warning
    assert "(per_key 500r/s: 2.0 ms)" in warning
    assert "api_rate_limiting (see deployment.json.example)" not in warning


def test_a_level_beside_other_sweeps_says_which_and_what_that_does() -> None:
    one = {"pid": 4321, "run": "/ci/a/20240501-120000", "started": "2024-05-01T11:59:00.000Z"}
    registering = {"pid": 4400, "run": None, "started": None}  # seen before it wrote its run
    notes = level_notes(level(other_sweeps=[one]))
    assert (
        "WARNING: another ecs-load sweep ran on this machine during this level (pid 4321, "
        "/ci/a/20240501-120000): the two shared its cores (and, against the same endpoint, the "
        "service), so these figures are not this sweep's alone; run one sweep at a time on a "
        "machine." in notes
    )
    two = "\n".join(level_notes(level(other_sweeps=[one, registering])))
    assert "2 other ecs-load sweeps ran on this machine during this level (pid 4321, " in two
    assert "/ci/a/20240501-120000; pid 4400): the sweeps shared its cores" in two
    assert level_line(level(other_sweeps=[one])).endswith(
        "! another sweep ran beside it (summary.txt)"
    )
    assert "! 2 other sweeps ran beside it" in level_line(level(other_sweeps=[one, registering]))
    for alone in ([], None):  # none seen; a level.json from before the key was recorded
        assert not any("sweep" in note for note in level_notes(level(other_sweeps=alone)))
        assert "sweep" not in level_line(level(other_sweeps=alone))


def test_a_trend_from_too_few_answers_is_marked_and_the_note_says_what_it_needs() -> None:
    """8 Version answers: their m is marked in the level's table and its intervals; NoOp's 100
    are enough. A summary from before `answers` was written marks nothing."""
    few = level()
    few["types"]["Version"].update(answers=8, few=["p50", "p60", "p70", "p80", "p90", "p95", "p99"])
    few["types"]["NoOp"].update(answers=100, few=["p95", "p99"])
    few["types"]["Version"]["ci"] = few["types"]["NoOp"]["ci"] = {"m": [-0.5, 0.75]}
    table = level_table(few)
    rows = {line.split()[0]: line.split() for line in table.splitlines() if line[:1].isalpha()}
    assert rows["Version"][3] == "0.125*" and rows["NoOp"][3] == "0.125"
    assert trend_cell(few["types"]["Version"]) == "0.125 ±0.625* ~0"
    assert trend_cell(few["types"]["NoOp"]) == "0.125 ±0.625 ~0"
    assert (
        "*: a percentile or a trend (m) from too few answers to rely on (a percentile needs "
        "10/(1-p): p50 20, p60 25, p70 34, p80 50, p90 100, p95 200, p99 1000; m needs 20); "
        "answers: NoOp 100, Version 8" in table
    )
    old = level()
    old["types"]["Version"]["few"] = ["p99"]  # no `answers`: m unmarked, the note as it was
    assert "*: a percentile from too few answers to rely on (it needs" in level_table(old)
    assert "0.125*" not in level_table(old)
