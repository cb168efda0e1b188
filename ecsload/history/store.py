"""Reading and writing a history through SQLAlchemy Core, SQLite or PostgreSQL alike.

Every write is one transaction: a run appears whole or not at all. SQLite runs in
WAL mode and takes its write lock when a transaction begins (BEGIN IMMEDIATE), so
two sweeps appending at once queue for up to ECS_LOAD_HISTORY_WAIT seconds (30)
instead of failing halfway; PostgreSQL serialises schema changes with an advisory
lock. Whatever goes wrong becomes a HistoryError whose message names the cause and
what to do, with no password in it.
"""

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from ecsload.history import schema
from ecsload.history_location import database_url, is_url, without_secret

WAIT_SECONDS = 30.0  # for a lock (SQLite) or a connection (PostgreSQL)
MIGRATION_LOCK = 7_210_022  # PostgreSQL advisory lock key: one migration at a time


class HistoryError(Exception):
    """A history that cannot be used: the message is the one line the user sees."""


class NoStoredRun(HistoryError):
    """A history that is not there yet, or has no run of what was asked for."""


@dataclass
class StoredRun:
    """One run as the history has it: its row, and its figures by level then type."""

    id: int
    target: str
    endpoint: str | None
    label: str
    branch: str
    created: str
    verdict: str
    run_dir: str | None
    levels: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    generator_share: dict[int, float | None] = field(default_factory=dict)
    models: dict[int, str] = field(default_factory=dict)  # "closed" (users) or "open" (rate)


def wait_seconds(environ: Mapping[str, str] = os.environ) -> float:
    try:
        return max(0.1, float(environ.get("ECS_LOAD_HISTORY_WAIT", WAIT_SECONDS)))
    except ValueError:
        return WAIT_SECONDS


def engine_for(location: str) -> Engine:
    """An engine whose SQLite connections run in WAL mode with writes that lock at BEGIN."""
    url = database_url(location)
    wait = wait_seconds()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": wait})

        @event.listens_for(engine, "connect")
        def on_connect(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy's BEGIN, not pysqlite's
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def on_begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, connect_args={"connect_timeout": max(1, round(wait))})


def cause_of(error: Exception, location: str) -> str:
    """What went wrong, in the user's words, and what to do."""
    message = str(getattr(error, "orig", None) or error).splitlines()[0]
    lowered = message.lower()
    if "locked" in lowered or "busy" in lowered:
        return (
            f"locked by another process for over {wait_seconds():g} s: retry, or raise "
            "ECS_LOAD_HISTORY_WAIT"
        )
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return "corrupt (not a readable SQLite database): move it away and a new one starts"
    if "unable to open" in lowered or "readonly" in lowered or "read-only" in lowered:
        return "cannot be opened for writing: check its folder exists and is writable"
    if is_url(location) and ("connect" in lowered or "timeout" in lowered):
        return f"unreachable ({message}): check the server, the URL and its credentials"
    return f"{message}; docs/history.md"


@contextmanager
def transaction(location: str, *, create: bool) -> Iterator[Connection]:
    """A connection in one transaction on an up-to-date schema; HistoryError on any
    failure. Without `create`, a SQLite file that does not exist is an error."""
    shown = without_secret(location)
    if not create and not is_url(location) and not Path(location).is_file():
        raise NoStoredRun(f"history {shown}: no such file: a run makes it (or give --history)")
    if create and not is_url(location):
        Path(location).parent.mkdir(parents=True, exist_ok=True)
    engine = engine_for(location)
    try:
        with engine.begin() as connection:
            migrate(connection, shown)
            yield connection
    except SQLAlchemyError as error:
        raise HistoryError(f"history {shown}: {cause_of(error, location)}") from None
    except OSError as error:
        raise HistoryError(f"history {shown}: {error.strerror}") from None
    finally:
        engine.dispose()


def migrate(connection: Connection, shown: str) -> None:
    """Bring the schema to SCHEMA_VERSION; refuse a newer one."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    version = 0
    if inspect(connection).has_table("meta"):
        found = connection.execute(
            select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
        ).scalar()
        version = int(found or 0)
    if version > schema.SCHEMA_VERSION:
        raise HistoryError(
            f"history {shown}: its schema is version {version}, newer than this ecs-load's "
            f"{schema.SCHEMA_VERSION}: upgrade ecs-load, or give another --history"
        )
    if version == schema.SCHEMA_VERSION:
        return
    for made, step in schema.MIGRATIONS:
        if made > version:
            step(connection)
    connection.execute(delete(schema.meta).where(schema.meta.c.key == "schema_version"))
    connection.execute(
        insert(schema.meta).values(key="schema_version", value=str(schema.SCHEMA_VERSION))
    )


def append(
    location: str,
    run: Mapping[str, Any],
    levels: Sequence[Mapping[str, Any]],
    rows: Sequence[Mapping[str, Any]],
    *,
    replace: bool = False,
) -> int | None:
    """Store one run with its levels and figures; its id. A run already stored (same
    run_key) is kept as it is (None), or replaced with `replace`."""
    with transaction(location, create=True) as connection:
        existing = connection.execute(
            select(schema.runs.c.id).where(schema.runs.c.run_key == run["run_key"])
        ).scalar()
        if existing is not None:
            if not replace:
                return None
            delete_runs(connection, [existing])
        return insert_run(connection, run, levels, rows)


def insert_run(
    connection: Connection,
    run: Mapping[str, Any],
    levels: Sequence[Mapping[str, Any]],
    rows: Sequence[Mapping[str, Any]],
) -> int:
    """Insert one run's rows in the connection's transaction; its id."""
    key = connection.execute(insert(schema.runs).values(**run)).inserted_primary_key
    assert key is not None
    run_id = int(key[0])
    if levels:
        connection.execute(insert(schema.levels), [{**lv, "run_id": run_id} for lv in levels])
    if rows:
        connection.execute(insert(schema.figures), [{**r, "run_id": run_id} for r in rows])
    return run_id


def delete_runs(connection: Connection, ids: Sequence[int]) -> None:
    """Delete runs and what belongs to them (no reliance on ON DELETE in SQLite)."""
    for table in (schema.figures, schema.levels):
        connection.execute(delete(table).where(table.c.run_id.in_(ids)))
    connection.execute(delete(schema.runs).where(schema.runs.c.id.in_(ids)))


def latest_target(connection: Connection) -> str | None:
    """The target of the run recorded last."""
    return connection.execute(
        select(schema.runs.c.target).order_by(schema.runs.c.id.desc()).limit(1)
    ).scalar()


def run_rows(
    connection: Connection, target: str, last: int | None = None, label: str | None = None
) -> list[StoredRun]:
    """The runs of `target` (oldest first): the last `last`, or those labelled `label`."""
    query = select(schema.runs).where(schema.runs.c.target == target)
    if label is not None:
        query = query.where(schema.runs.c.label == label)
    query = query.order_by(schema.runs.c.created.desc(), schema.runs.c.id.desc())
    if last is not None:
        query = query.limit(last)
    found = [
        StoredRun(
            id=row.id,
            target=row.target,
            endpoint=row.endpoint,
            label=row.label,
            branch=row.branch,
            created=row.created,
            verdict=row.verdict,
            run_dir=row.run_dir,
        )
        for row in connection.execute(query)
    ][::-1]
    by_id = {run.id: run for run in found}
    if not by_id:
        return []
    columns = [c for c in schema.figures.c if c.name != "histogram"]
    for figures in connection.execute(
        select(*columns).where(schema.figures.c.run_id.in_(list(by_id)))
    ).mappings():
        levels = by_id[figures["run_id"]].levels
        levels.setdefault(figures["users"], {})[figures["type"]] = dict(figures)
    for level in connection.execute(
        select(schema.levels).where(schema.levels.c.run_id.in_(list(by_id)))
    ):
        by_id[level.run_id].generator_share[level.users] = level.generator_share
        by_id[level.run_id].models[level.users] = level.model or "closed"
    return found


def histograms(
    connection: Connection, run_ids: Sequence[int]
) -> dict[int, dict[int, dict[str, bytes]]]:
    """The stored histograms of runs: by run id, users, then request type."""
    found: dict[int, dict[int, dict[str, bytes]]] = {}
    query = select(
        schema.figures.c.run_id,
        schema.figures.c.users,
        schema.figures.c.type,
        schema.figures.c.histogram,
    ).where(schema.figures.c.run_id.in_(list(run_ids)), schema.figures.c.histogram.is_not(None))
    for run_id, users, name, encoded in connection.execute(query):
        found.setdefault(run_id, {}).setdefault(users, {})[name] = encoded
    return found


def prune(location: str, keep: int) -> int:
    """Keep the newest `keep` runs of each target; the number of runs deleted."""
    with transaction(location, create=False) as connection:
        ranked = connection.execute(
            select(schema.runs.c.id, schema.runs.c.target).order_by(
                schema.runs.c.created.desc(), schema.runs.c.id.desc()
            )
        ).all()
        seen: dict[str, int] = {}
        doomed = []
        for run_id, target in ranked:
            seen[target] = seen.get(target, 0) + 1
            if seen[target] > keep:
                doomed.append(run_id)
        if doomed:
            delete_runs(connection, doomed)
        return len(doomed)


def count_runs(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(schema.runs)).scalar() or 0)
