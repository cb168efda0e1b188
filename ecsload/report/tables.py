"""The text tables an operator reads: one per level, one across levels (tabulate).

They are rendered from summary.json's documents (ecsload.analysis.documents), so
the text and the JSON always say the same thing. Times are in ms; m is in ms
per second. Under each level's table, its notes: throughput, rate limiting,
an unverified certificate and reopened connections, the ramp, the probe, the
generator, and anything that makes a figure less than it seems.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tabulate import tabulate

from ecsload.analysis.documents import level_label
from ecsload.analysis.generator import GENERATOR_BUSY_PERCENT
from ecsload.analysis.omission import fell_behind
from ecsload.analysis.sample_size import MARK, TREND_ANSWERS, marked, needs_text, trend_too_few
from ecsload.analysis.stats import percent
from ecsload.tls import NOT_VERIFIED
from ecsload.vocabulary import HEADLINE, HEADLINE_KEYS, PERCENTILES

RATE_LIMIT_WARNING_RATIO = 0.01
ADDED_SHARE = 0.2  # of the p50, the generator's added time that is material (a WARNING)
ADDED_MS_FLOOR = 0.1  # ms: less is within what the clocks here resolve
QUEUEING_RATIO = 2  # the model's NoOp p50 over the probe's p50 that says "generator"
LEVEL_COLUMNS = ("Request Type", "Ok", "Error", "m", "b", "Min", *map(str, PERCENTILES), "Max")
LEVEL_FORMATS = ("", "d", "d", ".3f", ".2f", ".2f", *[".2f"] * len(PERCENTILES), ".2f", ".2f")
CORRECTED_COLUMN = "99 corrected"  # a closed level's p99 from intended sends


def framed(title: str) -> str:
    rule = "=" * len(title)
    return f"{rule}\n{title}\n{rule}"


def headline(text: str) -> str:
    """A table's title: its first line that is not a rule."""
    return next((line for line in text.splitlines() if line.strip("=- ")), "")


def level_title(level: Mapping[str, Any]) -> str:
    """`N @ U from START to END`: what was measured, at how many users (or at what arrival
    rate), when; for a timed level `in S s (timed)`, and which repeat or how many (`over K
    repeats`)."""
    at = str(level["users"])
    if level.get("rate"):
        at = f"{level_label(level)} ({level['arrivals']} arrivals, timed from their schedule)"
    if not level["requests"]:
        return f"0 @ {at}: no request was measured"
    title = f"{level['requests']} @ {at}"
    repeats = level.get("repeats") or []
    if len(repeats) > 1:
        title += f" over {len(repeats)} repeats"
    elif level.get("repeat"):
        title += f" (repeat {level['repeat']})"
    if level.get("level_seconds"):
        warmup = f" after {level['warmup_seconds']:g} s warmup" if level["warmup_seconds"] else ""
        title += f" in {level['seconds']:.1f} s (timed: -d {level['level_seconds']:g}{warmup})"
    return f"{title} from {level['started']} to {level['ended']}"


def level_grid(level: Mapping[str, Any]) -> dict[str, Any]:
    """The level's table as tabulate's arguments: one row per request type, by name.

    The text table and the report's HTML table are both this grid, in two formats.
    """
    corrected = level.get("model") == "closed"
    rows = [
        [
            name,
            t["ok"],
            t["error"],
            trend_figure(t),
            t["b"],
            t["min"],
            *(figure_cell(t, f"p{p}") for p in PERCENTILES),
            t["max"],
            *([corrected_cell(t, "p99")] if corrected else []),
        ]
        for name, t in sorted(level["types"].items())
    ]
    return {
        "tabular_data": [
            [cell(v, f) for v, f in zip(row, LEVEL_FORMATS, strict=False)] for row in rows
        ],
        "headers": (*LEVEL_COLUMNS, *([CORRECTED_COLUMN] if corrected else [])),
        "disable_numparse": True,
        "colalign": ("left", *["right"] * (len(LEVEL_COLUMNS) - 1 + corrected)),
    }


def figure_cell(figures: Mapping[str, Any] | None, key: str) -> Any:
    """A percentile as a table shows it: marked `*` when from too few answers
    (ecsload.analysis.sample_size), "-" when there is none."""
    value = (figures or {}).get(key)
    if value is None or not marked(figures, key):
        return value
    return f"{value:.2f}{MARK}"


def trend_figure(figures: Mapping[str, Any]) -> Any:
    """m as the level's table shows it: marked `*` when fitted from too few answers."""
    value = figures["m"]
    return f"{value:.3f}{MARK}" if value is not None and trend_too_few(figures) else value


def corrected_cell(figures: Mapping[str, Any] | None, key: str) -> Any:
    """A corrected percentile (ecsload.analysis.omission), marked as its raw one is."""
    corrected = (figures or {}).get("corrected")
    value = (corrected or {}).get(key)
    if value is None or not marked(figures, key):
        return value
    return f"{value:.2f}{MARK}"


def level_line(level: Mapping[str, Any], notes: str = "summary.txt") -> str:
    """The terminal's one line of a finished level: its load, req/s, errors, p50/p95/p99 with
    their intervals and, after `!`, what needs a look (its table and notes are in `notes`):
    `10 users: 232.0 ±18.8 req/s, no errors, p50 24.97 ±2.90, p95 …, p99 57.11 ±4.85 ms`."""
    head = level_label(level)
    repeats = level.get("repeats") or []
    if len(repeats) > 1:
        head += f" over {len(repeats)} repeats"
    elif level.get("repeat"):
        head += f" (repeat {level['repeat']})"
    if level["requests"]:
        ci = level.get("ci") or {}
        rps = "n/a" if level["rps"] is None else plus_minus(level["rps"], ci.get("rps"), ".1f")
        failed = (level["all"] or {}).get("error") or 0
        errors = (
            f"errors {plus_minus(level.get('error_percent'), ci.get('error_percent'))}%"
            if failed
            else "no errors"
        )
        latency = ", ".join(
            f"p{p} {with_ci(lambda lv: lv['all'], f'p{p}')(level) or '-'}" for p in HEADLINE
        )
        line = f"{head}: {rps} req/s, {errors}, {latency} ms"
    else:
        line = f"{head}: no request was measured"
    look = attention(level)
    return line + (f"  ! {', '.join(look)} ({notes})" if look else "")


def attention(level: Mapping[str, Any]) -> list[str]:
    """What needs a look, in a few words each: what the level's WARNING and NOTE lines say
    at length (level_notes); "see the notes" for one these words do not name."""
    requests, figures = level["requests"], level["all"] or {}
    found = []
    if requests and figures.get("no_answer") == requests:
        found.append("no request answered")
    if not level["ramp"]["completed"]:
        found.append("stopped in its ramp")
    elif level.get("stopped_by") == "time":
        found.append("time cap hit")
    elif level.get("stopped_by") == "other":
        found.append("stopped early")
    if level.get("unanswered"):
        found.append(f"{level['unanswered']} unanswered")
    limited = figures.get("rate_limited") or 0
    if limited > RATE_LIMIT_WARNING_RATIO * requests:
        found.append(f"{percent(limited, requests):.1f}% rate limited")
    generator = level.get("generator") or {}
    busy = max(generator.get("cpu_percent_max") or 0, generator.get("busy_percent_max") or 0)
    if busy > GENERATOR_BUSY_PERCENT:
        found.append(f"generator busy {busy:.0f}%")
    if (level.get("lateness") or {}).get("behind"):
        found.append("generator behind schedule")
    if fell_behind(level):
        found.append("service fell behind the rate")
    if level.get("dropped"):
        found.append(f"{level['dropped']} dropped")
    others = len(level.get("other_sweeps") or ())
    if others:
        found.append(
            "another sweep ran beside it" if others == 1 else f"{others} other sweeps ran beside it"
        )
    stalls = level.get("stalls") or {}
    if stalls.get("count"):
        found.append(f"stalls (longest {stalls['longest_ms']:.0f} ms)")
    lost = (level.get("workers") or {}).get("lost")
    if lost:
        found.append(f"{lost} worker(s) lost")
    rejected = (level.get("workers") or {}).get("rejected")
    if rejected:
        found.append(f"{rejected} foreign message(s) dropped")
    said = [note for note in level_notes(level) if note.startswith(("WARNING", "NOTE"))]
    if len(said) > len(found):  # a note the words above do not name (one each)
        found.append("see the notes")
    tls = level.get("tls")
    if tls and not tls["verified"]:  # its note is no WARNING or NOTE: the TLS line
        found.append("certificate not verified")
    return found


def level_table(level: Mapping[str, Any]) -> str:
    """The level's title, its table, its figures' intervals and what to note."""
    table = tabulate(**level_grid(level))
    return "\n".join(
        [framed(level_title(level)), table, *interval_lines(level), *level_notes(level)]
    )


def plus_minus(value: float | None, ci: list[float] | None, fmt: str = ".2f") -> str:
    """`41.20 ±4.10`: a figure and the larger half of its 95% interval; the figure alone
    where there is no interval, "-" where there is no figure."""
    if value is None:
        return "-"
    if not ci:
        return format(value, fmt)
    return f"{value:{fmt}} ±{max(value - ci[0], ci[1] - value, 0):{fmt}}"


def trend_cell(group: Mapping[str, Any]) -> str:
    """m and its interval, marked `~0` when the interval holds 0: no trend to speak of."""
    ci = group.get("ci", {}).get("m")
    text = plus_minus(group["m"], ci, ".3f") + (MARK if trend_too_few(group) else "")
    return text + (" ~0" if ci and ci[0] <= 0 <= ci[1] else "")


def interval_cell(group: Mapping[str, Any], key: str) -> str:
    """A percentile and its interval, marked when it came from too few answers (as the
    level's table marks it: an interval of two answers is no more to rely on)."""
    return plus_minus(group[key], group["ci"][key]) + (MARK if marked(group, key) else "")


def interval_lines(level: Mapping[str, Any]) -> list[str]:
    """The 95% intervals of the level's latencies and trends, one row per type (all first)."""
    uncertainty = level.get("uncertainty")
    if not uncertainty or level["all"] is None:
        return []
    repeats = uncertainty["repeats"]
    how = (
        f"95% intervals (block bootstrap over {uncertainty['windows']} windows of "
        f"{uncertainty['window_seconds']:g} s"
        + (f" in {repeats} repeats)" if repeats > 1 else ")")
        + "; m ~0: no trend beyond the noise"
    )
    groups = [("All", level["all"]), *sorted(level["types"].items())]
    rows = [
        [name, *(interval_cell(g, f"p{p}") for p in HEADLINE), trend_cell(g)] for name, g in groups
    ]
    headers = ["Request Type", "p50 ms", "p95 ms", "p99 ms", "m ms/s"]
    return [how, tabulate(rows, headers=headers, disable_numparse=True)]


def level_notes(level: Mapping[str, Any]) -> list[str]:
    """Throughput and rate limiting, TLS and connections, the ramp, the probe and the
    generator, then anything that makes the numbers less than they seem."""
    notes = throughput_notes(level)
    notes += connection_notes(level)
    notes += ramp_notes(level)
    notes += probe_notes(level)
    notes += generator_notes(level)
    notes += other_sweeps_notes(level)
    notes += completeness_notes(level)
    notes += model_notes(level)
    notes += few_answers_notes(level)
    return notes


def model_notes(level: Mapping[str, Any]) -> list[str]:
    """The closed level's corrected figures, or the arrival-rate level's generator; stalls
    for both (ecsload.analysis.omission)."""
    figures = level.get("all")
    if not figures:
        return []
    notes = []
    if level.get("model") == "closed" and figures.get("corrected"):
        c = figures["corrected"]
        notes.append(
            f"Corrected for coordinated omission (from each request's intended send): "
            f"p50 {c['p50']:.2f}, p95 {c['p95']:.2f}, p99 {c['p99']:.2f} ms"
        )
    notes += arrival_notes(level)
    stalls = level.get("stalls")
    if stalls and stalls["count"]:
        notes.append(stall_warning(level, stalls))
    return notes


def arrival_notes(level: Mapping[str, Any]) -> list[str]:
    if level.get("model") != "open":
        return []
    notes = []
    service = level["all"].get("service")
    if service:
        notes.append(
            f"Service time (from the actual send): p50 {service['p50']:.2f}, "
            f"p99 {service['p99']:.2f} ms"
        )
    late = level.get("lateness")
    lag = (level.get("generator") or {}).get("loop_lag_ms")
    if late:
        answered = (
            f"; answers waited for its event loop p50 {lag['p50']:.3f} ms, p99 {lag['p99']:.3f} ms"
            if lag
            else ""
        )
        notes.append(
            f"Generator: sent p50 {late['p50']:.3f} ms, p99 {late['p99']:.3f} ms, max "
            f"{late['max']:.1f} ms after schedule{answered}"
        )
        notes += added_time_warning(level["all"].get("p50"), late["p50"], lag)
        if late["behind"]:
            why = late.get("behind_why") or f"its sends' lateness p99 is {late['p99']:.2f} ms"
            notes.append(
                f"WARNING: the generator, not the service, is behind its schedule: {why}: "
                "the rate was not held; run with --processes N or more machines."
            )
    dropped = level.get("dropped") or 0
    if dropped:
        notes.append(
            f"WARNING: {dropped} arrivals ({percent(dropped, level['requests']):.1f}%) were "
            f"dropped: {level['max_in_flight']} requests were in flight (--max-in-flight); "
            "they are errors (Dropped), the service could not keep up with this rate."
        )
    return notes


def added_time_warning(
    p50: float | None, late_p50: float, lag: Mapping[str, float] | None
) -> list[str]:
    """A WARNING when what the generator adds to a typical answer (its sends' lateness and
    its event loop's lag, at their medians) is a material share of the level's p50."""
    added = late_p50 + (lag["p50"] if lag else 0.0)
    if not p50 or added < ADDED_MS_FLOOR or added < ADDED_SHARE * p50:
        return []
    return [
        f"WARNING: the generator adds about {added:.2f} ms to a typical answer "
        f"({100 * added / p50:.0f}% of the p50 {p50:.2f} ms: sent {late_p50:.2f} ms late, "
        f"timed {lag['p50'] if lag else 0.0:.2f} ms after it came): the service's own "
        "latency is less; run with --processes N or more machines."
    ]


def stall_warning(level: Mapping[str, Any], stalls: Mapping[str, Any]) -> str:
    """`WARNING: no answer for 1.00 s x3 (18% of the level); …`."""
    lengths = [f"{gap['seconds']:.2f} s" for gap in stalls["gaps"]]
    if len(set(lengths)) == 1 and len(lengths) > 1:
        named = f"{lengths[0]} x{len(lengths)}"
    else:
        named = ", ".join(sorted(lengths, reverse=True)[:5]) + (" …" if len(lengths) > 5 else "")
    p99 = (level["all"] or {}).get("p99")
    corrected = ((level["all"] or {}).get("corrected") or {}).get("p99")
    if p99 is None:
        seen = "no request of the level was answered"
    elif level.get("model") == "open":
        seen = f"this level times each request from its schedule: p99 {p99:.0f} ms"
    elif corrected is not None:
        seen = (
            f"a client arriving at a constant rate would see p99 ~ {corrected:.0f} ms "
            f"(corrected), not the {p99:.0f} ms these users recorded"
        )
    else:
        seen = f"these users recorded p99 {p99:.0f} ms, which hides the stalls"
    return (
        f"WARNING: no answer for {named} ({stalls['percent']:.0f}% of the level, gaps over "
        f"{stalls['threshold_ms']:.0f} ms); {seen}."
    )


def few_answers_notes(level: Mapping[str, Any]) -> list[str]:
    """Which percentiles (and trends) came from too few answers (marked *), and how many
    there were."""
    groups = [("all", level.get("all")), *sorted(level["types"].items())]
    if level.get("probe"):
        groups.append(("probe", level["probe"]))
    few = [(name, g) for name, g in groups if g and g.get("few")]
    if not few:
        return []
    keys = sorted({key for _, g in few for key in g["few"]}, key=lambda k: float(k[1:]))
    counts = ", ".join(
        f"{name} {g.get('answers', g.get('count', 0) - g.get('errors', 0))}" for name, g in few
    )
    if any(trend_too_few(g) for name, g in few if name != "probe"):
        return [
            f"{MARK}: a percentile or a trend (m) from too few answers to rely on (a percentile "
            f"needs 10/(1-p): {needs_text(keys)}; m needs {TREND_ANSWERS}); answers: {counts}"
        ]
    return [
        f"{MARK}: a percentile from too few answers to rely on (it needs 10/(1-p): "
        f"{needs_text(keys)}); answers: {counts}"
    ]


def throughput_notes(level: Mapping[str, Any]) -> list[str]:
    requests = level["requests"]
    if not requests:
        return []
    ci = level.get("ci") or {}
    rps = "n/a" if level["rps"] is None else plus_minus(level["rps"], ci.get("rps"), ".1f")
    goodput = plus_minus(level.get("goodput"), ci.get("goodput"), ".1f")
    errors = plus_minus(level.get("error_percent"), ci.get("error_percent"), ".2f")
    limited = level["all"]["rate_limited"]
    counted = f"{requests} requests in {level['seconds']:.1f} s"
    if level.get("rate"):
        counted = f"answered, as they arrived; {counted}"
    notes = [
        f"Requests/s: {rps} ({counted}); goodput {goodput} OK/s; errors {errors}%",
        f"Rate limited: {limited} ({percent(limited, requests):.1f}% answered 503)",
    ]
    if behind := fell_behind(level):
        notes.append(
            f"WARNING: {behind} through the level, so {level['rate']:g}/s is not "
            "sustained (a longer level would only make every latency longer)"
        )
    if limited > RATE_LIMIT_WARNING_RATIO * requests:
        notes.append(rate_limit_warning(level, percent(limited, requests)))
    return notes


def rate_limit_warning(level: Mapping[str, Any], share: float) -> str:
    """Over 1% answered 503: the limiter measured, not the service; with the local node's own
    limits (--node-deployment), their likely cause: nginx's limit_req without burst."""
    said = f"WARNING: {share:.1f}% of the requests were rate limited, so these numbers mostly "
    limiter = level.get("rate_limiter")
    if not limiter:
        return (
            said + "measure the rate limiter: raise the deployment's api_rate_limiting (see "
            "deployment.json.example) for load tests."
        )
    rates = ", ".join(
        f"{name} {rate:g}r/s: {1000 / rate:.1f} ms" for name, rate in limiter["rates"].items()
    )
    return (
        said + f"measure the local node's limiter (--node-deployment {limiter['deployment']}). "
        "Likely cause: like nginx's limit_req without burst, it refuses a request that comes "
        f"sooner than 1/rate after the previous one let in ({rates}), so bursts are refused "
        "even when the average rate is far below the limit; raise rate_limit in that file, or "
        "leave out --node-deployment, to measure the service."
    )


def connection_notes(level: Mapping[str, Any]) -> list[str]:
    """An unverified certificate; more connections than users (keep-alive connections closed)."""
    notes = []
    tls = level.get("tls")
    if tls and not tls["verified"]:
        notes.append(NOT_VERIFIED)
    connections, users = level.get("connections"), level["users"]
    if level.get("model") == "open":
        notes.append(
            f"Connections: {connections} opened, as the requests in flight grew (at most "
            f"{level['max_in_flight']}, --max-in-flight)"
        )
    elif connections is not None and connections > users:
        handshakes = "TCP and TLS handshakes" if tls else "TCP handshakes"
        notes.append(
            f"NOTE: the users opened {connections} connections, more than one each ({users} "
            "users): the server or a proxy closed keep-alive connections (or requests failed), "
            f"and the requests that opened new ones paid their {handshakes}."
        )
    return notes


def ramp_notes(level: Mapping[str, Any]) -> list[str]:
    ramp, users = level["ramp"], level["users"]
    seconds = "?" if ramp["seconds"] is None else f"{ramp['seconds']:.1f}"
    started = (
        f"{users} arrival user{'' if users == 1 else 's'} (one per Locust process)"
        if level.get("model") == "open"
        else f"{users} users"
    )
    if ramp["completed"]:
        warmup = level.get("warmup_seconds")
        then = f", then {warmup:g} s warmup;" if warmup else ","
        notes = [
            f"Ramp: {started} in {seconds} s{then} {ramp['requests']} requests, not in the table"
        ]
    else:
        notes = [
            f"NOTE: the level stopped during its ramp, after {seconds} s with "
            f"{ramp['users_started']} of {started} started and {ramp['requests']} requests: "
            "nothing was measured at the full concurrency; raise -t or the hatch rate (-r)."
        ]
    measured = level["users_measured"]
    if level["requests"] and measured != users:
        notes.append(
            f"NOTE: {measured} of the level's {users} users made a request while it was "
            "measured; the others were waiting between requests (raise -n for a longer level)."
        )
    return notes


def probe_notes(level: Mapping[str, Any]) -> list[str]:
    probe = level["probe"]
    if probe is None:
        return []
    rate = "" if probe["rate"] is None else f" at {probe['rate']:g}/s"
    answers = probe["count"] - probe["errors"]
    line = f"Probe: GET _noop{rate}, {answers} answers"
    if probe["errors"]:
        line += f", {probe['errors']} errors"
    if not answers:
        return [line]
    p50, p99 = (cell(figure_cell(probe, key), ".2f") for key in ("p50", "p99"))
    notes = [f"{line}, p50 {p50} ms, p99 {p99} ms"]
    noop = level["types"].get("NoOp")
    if not noop or noop["p50"] is None or marked(noop, "p50") or marked(probe, "p50"):
        return notes  # a p50 from too few answers cannot say where the time went
    if noop["p50"] > QUEUEING_RATIO * probe["p50"]:
        notes.append(
            f"NOTE: the model's NoOp p50 ({noop['p50']:.2f} ms) is "
            f"{noop['p50'] / probe['p50']:.1f}x the probe's ({probe['p50']:.2f} ms): the "
            "difference is the load generator's own queueing, not the service's."
        )
    return notes


def generator_notes(level: Mapping[str, Any]) -> list[str]:
    """The busiest Locust process: its CPU use, and a warning when its event loop was busy
    (on a CPU, or waiting for one) most of the measured time."""
    generator = level["generator"]
    if generator is None or generator["cpu_percent_max"] is None:
        return []
    cpu, busy = generator["cpu_percent_max"], generator["busy_percent_max"]
    processes = generator["processes"]
    line = f"Generator CPU: {cpu:.0f}% of a core"
    if processes > 1:
        each = ", ".join("?" if p is None else f"{p:.0f}%" for p in generator["cpu_percent"])
        line += f" (the busiest of {processes} Locust processes: {each})"
    if busy is not None:
        line += f"; busy {busy:.0f}% (on a CPU or waiting for one)"
    notes = [line]
    if max(cpu, busy or 0) > GENERATOR_BUSY_PERCENT:
        notes.append(
            f"WARNING: a Locust process was busy {max(cpu, busy or 0):.0f}% of the measured "
            "time: the latencies include the load generator's own queueing; run with "
            "--processes N or more machines (the probe's figures are the service's own)."
        )
    return notes


def other_sweeps_notes(level: Mapping[str, Any]) -> list[str]:
    """A warning when another sweep ran on this machine during the level (ecsload.sweeps_here):
    the two shared its cores, and each measured about half of what it does alone."""
    others = level.get("other_sweeps")
    if not others:
        return []
    which = "; ".join(
        f"pid {entry['pid']}" + (f", {entry['run']}" if entry.get("run") else "")
        for entry in others
    )
    many, sweeps = (
        ("another ecs-load sweep", "the two")
        if len(others) == 1
        else (f"{len(others)} other ecs-load sweeps", "the sweeps")
    )
    return [
        f"WARNING: {many} ran on this machine during this level ({which}): {sweeps} shared "
        "its cores (and, against the same endpoint, the service), so these figures are not "
        "this sweep's alone; run one sweep at a time on a machine."
    ]


def completeness_notes(level: Mapping[str, Any]) -> list[str]:
    """Cut short, unanswered, lost workers, samples that Locust counted differently."""
    requests, target = level["requests"], level.get("target_requests")
    notes = []
    if level.get("stopped_by") == "time" and level["ramp"]["completed"]:
        notes.append(
            f"NOTE: the level hit its time cap of {level['time_cap_seconds']} s "
            f"after {requests} of {target} requests."
        )
    elif level.get("stopped_by") == "other":
        notes.append(
            f"NOTE: the level was stopped early (interrupted or Locust quit) after "
            f"{requests} of {target} requests."
        )
    if requests and level["all"].get("no_answer") == requests:  # absent: an older summary
        why = ", ".join(f"{n} {name}" for name, n in level["no_answer_errors"].items())
        notes.append(
            f"WARNING: none of the {requests} requests at {level_label(level)} was answered "
            f"({why}): is the target up and reachable? No latency was measured."
        )
    unanswered = level.get("unanswered") or 0
    if unanswered:
        when = "before the time cap" if level.get("stopped_by") == "time" else "when it stopped"
        notes.append(
            f"NOTE: {unanswered} request(s) had no answer {when}: they are errors with status 0 "
            "(in the table when they were measured)."
        )
    counted = level.get("locust_requests")
    answered = level["samples"] - unanswered
    workers = level.get("workers")
    if workers:
        notes.append(
            f"Workers: {workers['finished']} of {workers['joined']} sent all their samples; "
            f"{answered} samples received, Locust counted {counted} requests"
        )
    if workers and workers.get("rejected"):
        notes.append(
            f"WARNING: {workers['rejected']} harness message(s) without this run's token were "
            "dropped: a process outside the run sent them to its master (none is counted)."
        )
    if workers and workers["lost"]:
        notes.append(
            f"NOTE: {workers['lost']} of {workers['joined']} workers lost mid-level: "
            "their last samples and statistics never arrived"
            + (
                f"; {target - requests} of the {target} requests have no sample."
                if target and requests < target
                else "."
            )
        )
    elif counted is not None and counted != answered:
        notes.append(
            f"NOTE: {answered} samples were recorded but Locust counted {counted} requests."
        )
    return notes


def run_title(summary: Mapping[str, Any]) -> str:
    return (
        f"{len(summary['levels'])} level(s) against {summary['endpoint'] or 'the local ECS node'}"
    )


def run_grid(summary: Mapping[str, Any], full: bool = True) -> dict[str, Any]:
    """The table across levels as tabulate's arguments: one column per level, one row per
    figure, so each figure's trend as load grows reads left to right (volume, errors, rate
    limiting, overall and per-type latency, probe, generator). Not `full`, the terminal's:
    only the rows a person reads first (SHORT_ROWS), and of those that only matter when
    something went wrong only the ones where it did."""
    levels = summary["levels"]
    names = sorted({name for level in levels for name in level["types"]})
    open_sweep = any(level.get("model") == "open" for level in levels)

    def share(key: str) -> Callable[[Mapping[str, Any]], Any]:
        return lambda lv: None if lv["all"] is None else percent(lv["all"][key], lv["requests"])

    figures: list[tuple[str, str, Callable[[Mapping[str, Any]], Any]]] = [
        *([] if open_sweep else [("Users measured", "d", lambda lv: lv["users_measured"])]),
        ("Requests", "d", lambda lv: lv["requests"]),
        ("Seconds", ".1f", lambda lv: lv["seconds"]),
        ("Requests/s", ".1f", with_ci(lambda lv: lv, "rps", ".1f")),
        ("Goodput (OK/s)", ".1f", with_ci(lambda lv: lv, "goodput", ".1f")),
        ("Error %", ".2f", with_ci(lambda lv: lv, "error_percent", ".2f")),
        ("Rate limited %", ".2f", share("rate_limited")),
        *((f"p{p}", ".2f", with_ci(lambda lv: lv["all"], f"p{p}")) for p in HEADLINE),
        *(
            []
            if open_sweep
            else [("p99 corrected", ".2f", lambda lv: corrected_cell(lv["all"], "p99"))]
        ),
        ("Longest stall ms", ".0f", lambda lv: (lv.get("stalls") or {}).get("longest_ms")),
        *([("Dropped", "d", lambda lv: lv.get("dropped"))] if open_sweep else []),
        *((f"p95 {name}", ".2f", with_ci(type_figures(name), "p95")) for name in names),
        ("Probe p50", ".2f", lambda lv: figure_cell(lv["probe"], "p50")),
        ("Probe p99", ".2f", lambda lv: figure_cell(lv["probe"], "p99")),
        ("Generator CPU %", ".0f", lambda lv: (lv["generator"] or {}).get("cpu_percent_max")),
        ("Generator busy %", ".0f", lambda lv: (lv["generator"] or {}).get("busy_percent_max")),
    ]
    if not full:
        figures = [row for row in figures if shown_short(row[0], levels)]
    return {
        "tabular_data": [
            [label, *(cell(value(level), fmt) for level in levels)] for label, fmt, value in figures
        ],
        "headers": [
            "Rate /s" if open_sweep else "Users",
            *(level_label(level).split()[0].removesuffix("/s") for level in levels),
        ],
        "disable_numparse": True,
        "colalign": ("left", *["right"] * len(levels)),
    }


SHORT_ROWS = ("Requests/s", "Error %", *HEADLINE_KEYS, "p99 corrected")
SHORT_WHEN_SEEN = {  # a row of the short table only where some level has one of these
    "Users measured": lambda lv: lv["requests"] and lv["users_measured"] != lv["users"],
    "Rate limited %": lambda lv: (lv["all"] or {}).get("rate_limited"),
    "Longest stall ms": lambda lv: (lv.get("stalls") or {}).get("count"),
    "Dropped": lambda lv: lv.get("dropped"),
    "Probe p50": lambda lv: lv["probe"],
    "Generator busy %": lambda lv: (
        max(
            (lv["generator"] or {}).get("cpu_percent_max") or 0,
            (lv["generator"] or {}).get("busy_percent_max") or 0,
        )
        > GENERATOR_BUSY_PERCENT
    ),
}


SHORT_TABLE_NOTE = (
    "Every figure, per request type too: summary.txt and level-*/summary.txt (-v prints them)"
)


def shown_short(label: str, levels: Sequence[Mapping[str, Any]]) -> bool:
    seen = SHORT_WHEN_SEEN.get(label)
    return label in SHORT_ROWS or bool(seen and any(seen(level) for level in levels))


def run_table(summary: Mapping[str, Any], full: bool = True) -> str:
    """The run's title, its table across levels and, under it, where the service saturates
    (ecsload.analysis.saturation) or its capacity; not `full`, the terminal's short table."""
    found = summary.get("saturation")
    saturation = [found["text"], *found.get("notes", [])] if found else []
    capacity = [summary["capacity"]["text"]] if summary.get("capacity") else []
    more = [] if full else [SHORT_TABLE_NOTE]
    return "\n".join(
        [
            framed(run_title(summary)),
            tabulate(**run_grid(summary, full)),
            *more,
            *saturation,
            *capacity,
        ]
    )


def cell(value: Any, fmt: str) -> str:
    """A figure as text; "-" where a level has none (a type it never sent, no duration);
    text (a marked figure) as it is."""
    if isinstance(value, str):
        return value
    return "-" if value is None else format(value, fmt)


def type_figures(name: str) -> Callable[[Mapping[str, Any]], Mapping[str, Any] | None]:
    """A level's figures of request type `name` (None where it never sent one)."""
    return lambda level: level["types"].get(name)


def with_ci(
    group: Callable[[Mapping[str, Any]], Mapping[str, Any] | None], key: str, fmt: str = ".2f"
) -> Callable[[Mapping[str, Any]], str | None]:
    """A level's figure `key` of `group(level)` with its interval, as `plus_minus` writes it,
    marked `*` when from too few answers."""

    def figure(level: Mapping[str, Any]) -> str | None:
        figures = group(level)
        if figures is None or figures.get(key) is None:
            return None
        text = plus_minus(figures[key], (figures.get("ci") or {}).get(key), fmt)
        return text + MARK if marked(figures, key) else text

    return figure
