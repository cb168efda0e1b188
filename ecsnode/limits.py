"""nginx's limit_req and limit_conn, as an ECS deployment applies them per IP and per key.

limit_req without burst is a leaky bucket that holds nothing: a request is let in only when
at least 1/rate seconds have passed since the last one let in from the same client. limit_conn
counts the client's requests in flight. A request over either limit is refused at once
(the node answers 503). Like nginx, a request without a key is not counted per key.
"""

from __future__ import annotations

import time

from ecsnode.deployment import Limit

_PRUNE_AT = 10_000


class _Zone:
    """One nginx zone: the state of every client (an IP or a key) under one Limit."""

    def __init__(self, limit: Limit) -> None:
        self._interval = 1.0 / limit.rate_per_s if limit.rate_per_s else None
        self._conns = limit.conns
        self._last: dict[str, float] = {}
        self._in_flight: dict[str, int] = {}

    def allows(self, client: str, now: float) -> bool:
        if self._interval is not None:
            last = self._last.get(client)
            if last is not None and now - last < self._interval:
                return False
        return self._conns is None or self._in_flight.get(client, 0) < self._conns

    def take(self, client: str, now: float) -> None:
        if self._interval is not None:
            if len(self._last) >= _PRUNE_AT:
                self._prune(now)
            self._last[client] = now
        if self._conns is not None:
            self._in_flight[client] = self._in_flight.get(client, 0) + 1

    def give_back(self, client: str) -> None:
        if self._conns is None:
            return
        left = self._in_flight.get(client, 0) - 1
        if left > 0:
            self._in_flight[client] = left
        else:
            self._in_flight.pop(client, None)

    def _prune(self, now: float) -> None:
        """Forget clients whose bucket has drained: they are as good as new."""
        assert self._interval is not None
        self._last = {c: t for c, t in self._last.items() if now - t < self._interval}


class Limits:
    """The per-IP and per-key zones of a deployment; either may be absent."""

    def __init__(self, per_ip: Limit | None, per_key: Limit | None) -> None:
        self._ip = _Zone(per_ip) if per_ip else None
        self._key = _Zone(per_key) if per_key else None

    @property
    def enabled(self) -> bool:
        return self._ip is not None or self._key is not None

    def admit(self, ip: str, key: str | None) -> bool:
        """Let a request in (and count it) or refuse it; admitted ones must be released."""
        now = time.monotonic()
        zones = [
            (zone, client) for zone, client in ((self._ip, ip), (self._key, key)) if zone and client
        ]
        if not all(zone.allows(client, now) for zone, client in zones):
            return False
        for zone, client in zones:
            zone.take(client, now)
        return True

    def release(self, ip: str, key: str | None) -> None:
        """The admitted request has finished (or its client went away)."""
        if self._ip:
            self._ip.give_back(ip)
        if self._key and key:
            self._key.give_back(key)
