"""The traceparent header of every request (W3C Trace Context): ecsload.plugin.tracing."""

import re

import pytest

from ecsload.plugin import tracing
from ecsload.plugin.tracing import new_trace

TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])")


def test_each_header_is_valid_and_starts_a_trace_of_its_own() -> None:
    made = [new_trace(0.5) for _ in range(2000)]
    for trace_id, header in made:
        match = TRACEPARENT.fullmatch(header)
        assert match and match[1] == trace_id
    assert len({trace_id for trace_id, _ in made}) == len(made)
    sampled = sum(header.endswith("-01") for _, header in made)
    assert 800 < sampled < 1200  # half, give or take 9 standard deviations


@pytest.mark.parametrize(("ratio", "flag"), [(0, "-00"), (1, "-01")])
def test_none_or_every_trace_is_sampled(ratio: float, flag: str) -> None:
    assert all(new_trace(ratio)[1].endswith(flag) for _ in range(500))


def test_an_all_zero_id_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([0, 5 << 64, (7 << 64) | 9])  # no ids; no parent id; both
    monkeypatch.setattr(tracing.random, "getrandbits", lambda bits: next(draws))
    trace_id, header = new_trace(0)
    assert trace_id == f"{7:032x}" and header == f"00-{7:032x}-{9:016x}-00"
