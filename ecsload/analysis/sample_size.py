"""How many answers a percentile needs to mean something, and which figures have too few.

A p-th percentile from n answers rests on the n(1 - p) slowest of them; below
10 of those it is mostly the luck of a few requests (from 3-6 answers, a p95
or p99 is simply the maximum). So a percentile from fewer than 10 / (1 - p)
answers (p50 20, p90 100, p95 200, p99 1000) is marked wherever it is shown:
`few` in summary.json lists such keys beside `answers`, the tables print the
figure with a `*` and say how many answers it came from. A trend (the level's
m, its line m·t + b) from fewer answers than a p50 needs is marked too: from
3 to 8 answers a slope is a guess, whatever its interval says.
"""

import math
from collections.abc import Iterable, Mapping
from typing import Any

MARK = "*"
TAIL_ANSWERS = 10  # answers at or beyond the percentile that it needs


def answers_needed(percentile: float) -> int:
    """10 / (1 - p): p50 20, p95 200, p99 1000."""
    return math.ceil(round(TAIL_ANSWERS / (1 - percentile / 100), 6))


TREND_ANSWERS = answers_needed(50)  # 20: a trend needs what a p50 does


def too_few(answers: int, keys: Iterable[str]) -> list[str]:
    """The percentile keys (`p95`, …) that `answers` answers do not support."""
    return [key for key in keys if answers < answers_needed(float(key[1:]))]


def trend_too_few(figures: Mapping[str, Any] | None) -> bool:
    """Whether summary.json's `figures` (a type, `all`) fitted its trend m from fewer answers
    than TREND_ANSWERS (p50's need); figures without `answers` (an old summary) are not."""
    answers = (figures or {}).get("answers")
    return answers is not None and answers < TREND_ANSWERS


def marked(figures: Mapping[str, Any] | None, key: str) -> bool:
    """Whether summary.json's `figures` (a type, `all`, the probe) marks `key`."""
    return bool(figures) and key in (figures.get("few") or ())  # type: ignore[union-attr]


def needs_text(keys: Iterable[str]) -> str:
    """`p95 200, p99 1000`: what the marked keys need, for a note."""
    return ", ".join(f"{key} {answers_needed(float(key[1:]))}" for key in keys)
