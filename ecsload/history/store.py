"""Reading and writing a history through SQLAlchemy Core, SQLite or PostgreSQL alike.

Every write is one transaction: a run appears whole or not at all; a read opens a
SQLite file read-only. Runs are in the order they were added (their id), never by a
date a run folder says. SQLite runs in
WAL mode and takes its write lock when a transaction begins (BEGIN IMMEDIATE), so
two sweeps appending at once queue for up to ECS_LOAD_HISTORY_WAIT seconds (30)
instead of failing halfway; PostgreSQL serialises schema changes with an advisory
lock. Whatever goes wrong becomes a HistoryError whose message names the cause and
what to do, with no password in it.
"""

import math
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Float,
    Integer,
    LargeBinary,
    String,
    Table,
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
from ecsload.history_location import (
    database_url,
    is_url,
    printable_line,
    scrubbed,
    without_secret,
)

WAIT_SECONDS = 30.0  # for a lock (SQLite) or a connection (PostgreSQL)
MIN_WAIT, MAX_WAIT = 0.1, 3600.0  # ECS_LOAD_HISTORY_WAIT's range
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
    other_sweeps: dict[int, int | None] = field(default_factory=dict)  # beside each level
    models: dict[int, str] = field(default_factory=dict)  # "closed" (users) or "open" (rate)
    capacity: dict[str, Any] | None = None  # a capacity search's: rate, interval, limited_by


def wait_seconds(environ: Mapping[str, str] = os.environ) -> float:
    """ECS_LOAD_HISTORY_WAIT, checked: seconds from MIN_WAIT to MAX_WAIT."""
    text = environ.get("ECS_LOAD_HISTORY_WAIT", "").strip()
    if not text:
        return WAIT_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not MIN_WAIT <= value <= MAX_WAIT:
        raise HistoryError(
            f"ECS_LOAD_HISTORY_WAIT={text[:40]!r} is not a number of seconds from {MIN_WAIT:g} "
            f"to {MAX_WAIT:g}"
        )
    return value


def sqlite_path(location: str) -> Path | None:
    """The file of a SQLite history (a path, or a sqlite:/// URL); None for a server's."""
    if not is_url(location):
        return Path(location)
    url = database_url(location)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///"))
    return None


def engine_for(location: str, *, write: bool) -> Engine:
    """An engine whose SQLite connections run in WAL mode with writes that lock at BEGIN,
    or, to read, open the file read-only and change nothing in it."""
    url = database_url(location)
    wait = wait_seconds()
    path = sqlite_path(location)
    if path is not None and not write:
        return create_engine("sqlite://", creator=lambda: read_only(path, wait))
    if path is not None:
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


def read_only(path: Path, wait: float) -> sqlite3.Connection:
    """A read-only connection to a SQLite file. On read-only storage SQLite cannot make a
    WAL file's shared memory: a file nobody here can write is opened immutable (as it is)."""
    uri = path.absolute().as_uri()
    connection = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=wait)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        connection.close()
        if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK):
            raise
        connection = sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=wait)
    return connection


def cause_of(error: Exception, location: str) -> str:
    """What went wrong, in the user's words, and what to do."""
    message = scrubbed(str(getattr(error, "orig", None) or error).splitlines()[0], location)
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


def check_path(path: Path, shown: str) -> None:
    """A history file is a regular file at its own path: a symbolic link is refused (a
    database would be written wherever it points)."""
    if path.is_symlink():
        raise HistoryError(
            f"history {shown}: is a symbolic link: give the file's own path (docs/history.md)"
        )
    if path.exists() and not path.is_file():
        raise HistoryError(f"history {shown}: is not a regular file")


@contextmanager
def transaction(location: str, *, create: bool, write: bool | None = None) -> Iterator[Connection]:
    """A connection in one transaction on an up-to-date schema; HistoryError on any
    failure. Without `create`, a SQLite file that does not exist is an error. Without
    `write` (by default: without `create`), the history is only read: a SQLite file is
    opened read-only; one an older ecs-load wrote is brought up to date first (once)."""
    write = create if write is None else write
    shown = without_secret(location)
    path = sqlite_path(location)
    if path is not None:
        check_path(path, shown)
        if not create and not path.is_file():
            raise NoStoredRun(f"history {shown}: no such file: a run makes it (or give --history)")
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
    engine = None
    try:
        engine = engine_for(location, write=write)
        with engine.begin() as connection:
            if write:
                migrate(connection, shown)
            else:
                version = schema_version(connection, shown)
                if version == 0:
                    raise NoStoredRun(f"history {shown}: holds no run yet")
                if version < schema.SCHEMA_VERSION:
                    raise OlderSchema(version)
            yield connection
    except OlderSchema as older:
        if engine is not None:
            engine.dispose()
            engine = None
        bring_up_to_date(location, shown, older.version)
        with transaction(location, create=False, write=False) as connection:
            yield connection
    except SQLAlchemyError as error:
        raise HistoryError(f"history {shown}: {cause_of(error, location)}") from None
    except OSError as error:
        raise HistoryError(f"history {shown}: {error.strerror or error}") from None
    except (ValueError, TypeError, ArithmeticError) as error:
        raise HistoryError(
            f"history {shown}: {scrubbed(str(error), location)}; docs/history.md"
        ) from None
    finally:
        if engine is not None:
            engine.dispose()


class OlderSchema(Exception):
    """A history read before this version's migrations ran on it."""

    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version


def bring_up_to_date(location: str, shown: str, version: int) -> None:
    """Migrate a history an older ecs-load wrote, so that reading it finds its runs (its
    runs are not "no run yet" after an upgrade); one line when it cannot be written."""
    try:
        with transaction(location, create=False, write=True):
            pass
    except HistoryError as error:
        raise HistoryError(
            f"history {shown}: written by an older ecs-load (schema {version}; this one reads "
            f"{schema.SCHEMA_VERSION}), brought up to date on first use, which needs write "
            f"access: {str(error).removeprefix(f'history {shown}: ')}"
        ) from None


def schema_version(connection: Connection, shown: str) -> int:
    """The history's schema version (0: none yet); a HistoryError for a database that is
    not a history (tables of its own, or a version that is not a number) or a newer one."""
    tables = set(inspect(connection).get_table_names())
    if "meta" not in tables:
        foreign = tables - {table.name for table in schema.metadata.sorted_tables}
        if foreign:
            raise HistoryError(
                f"history {shown}: is a database of something else (tables "
                f"{', '.join(sorted(foreign)[:3])}): give a new file or an empty database"
            )
        return 0
    found = connection.execute(
        select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
    ).scalar()
    text = str(found or "0")
    if not text.isascii() or not text.isdigit():
        raise HistoryError(
            f"history {shown}: its schema version {text[:20]!r} is not a number: not a history "
            "of ecs-load (move it away, or give another --history)"
        )
    version = int(text)
    if version > schema.SCHEMA_VERSION:
        raise HistoryError(
            f"history {shown}: its schema is version {version}, newer than this ecs-load's "
            f"{schema.SCHEMA_VERSION}: upgrade ecs-load, or give another --history"
        )
    return version


def migrate(connection: Connection, shown: str) -> None:
    """Bring the schema to SCHEMA_VERSION; refuse a newer one or a foreign database."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    version = schema_version(connection, shown)
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


class BadRow(HistoryError):
    """A row a run folder gave that the history would not hold as it is (NaN, a text for
    a number, a label over its column's length)."""


def check_row(table: Table, row: Mapping[str, Any], where: str) -> None:
    """Each value of a row fits its column: a whole number for an Integer column (within
    PostgreSQL's), a finite number of 0 or more for a Float one, one line of printable
    text within a String's length, bytes for a LargeBinary; None only where nullable."""
    for name, value in row.items():
        column = table.c.get(name)
        if column is None:
            raise BadRow(f"{where}: {name} is not a column of the history")
        kind = column.type
        if value is None:
            ok = bool(column.nullable) or bool(column.primary_key and column.autoincrement)
        elif isinstance(kind, Integer):
            ok = isinstance(value, Integral) and not isinstance(value, bool)
            ok = ok and -(2**31) <= value < 2**31
        elif isinstance(kind, Float):
            ok = isinstance(value, Real) and not isinstance(value, bool)
            ok = ok and 0 <= value < math.inf
        elif isinstance(kind, LargeBinary):
            ok = isinstance(value, bytes)
        elif isinstance(kind, String) and kind.length is not None:
            ok = isinstance(value, str) and len(value) <= kind.length and value.isprintable()
        else:
            ok = isinstance(value, str)
        if not ok:
            shown = repr(value) if not isinstance(value, str) else repr(value[:40])
            raise BadRow(f"{where}: {name} {shown} is not what the history holds there")


def insert_run(
    connection: Connection,
    run: Mapping[str, Any],
    levels: Sequence[Mapping[str, Any]],
    rows: Sequence[Mapping[str, Any]],
) -> int:
    """Insert one run's rows in the connection's transaction, each checked; its id."""
    check_row(schema.runs, run, "the run")
    for level in levels:
        check_row(schema.levels, level, f"level {level.get('users')!r}")
    for row in rows:
        check_row(schema.figures, row, f"level {row.get('users')!r} {row.get('type')!r}")
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
    query = query.order_by(schema.runs.c.id.desc())  # insertion order: never a stored date
    if last is not None:
        query = query.limit(last)
    found = [
        StoredRun(
            id=row.id,
            target=row.target,
            endpoint=row.endpoint,
            label=printable_line(row.label or ""),
            branch=printable_line(row.branch or ""),
            created=printable_line(row.created or ""),
            verdict=printable_line(row.verdict or ""),
            run_dir=row.run_dir,
            capacity=stored_capacity(row),
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
        levels.setdefault(figures["users"], {})[figures["type"]] = checked_figures(figures)
    for level in connection.execute(
        select(*(c for c in schema.levels.c if c.name != "windows")).where(
            schema.levels.c.run_id.in_(list(by_id))
        )
    ):
        by_id[level.run_id].generator_share[level.users] = level.generator_share
        by_id[level.run_id].other_sweeps[level.users] = level.other_sweeps
        by_id[level.run_id].models[level.users] = level.model or "closed"
    return found


def checked_figures(figures: Mapping[Any, Any]) -> dict[str, Any]:
    """A figures row as read: a value that is not a number, not finite or below 0 (rows a
    hand-edited or foreign history may hold) is no figure (None)."""
    checked = dict(figures)
    for name, value in figures.items():
        if name in ("run_id", "users", "type") or value is None:
            continue
        number = isinstance(value, Real) and not isinstance(value, bool)
        if not number or not 0 <= value < math.inf:  # SQLite keeps a text where it was put
            checked[name] = None
    return checked


def stored_capacity(row: Any) -> dict[str, Any] | None:
    """A run row's capacity search answer; None for a sweep (or a search with no answer)."""
    if row.capacity_limited_by is None:
        return None
    return {
        "rate": row.capacity,
        "interval": [row.capacity_low, row.capacity_high],
        "limited_by": row.capacity_limited_by,
    }


def level_windows(connection: Connection, run_ids: Sequence[int]) -> dict[int, dict[int, bytes]]:
    """The stored windows of runs' levels (ecsload.history.windows): by run id, then level
    (users, or a rate); a level stored without them is left out."""
    found: dict[int, dict[int, bytes]] = {}
    query = select(schema.levels.c.run_id, schema.levels.c.users, schema.levels.c.windows).where(
        schema.levels.c.run_id.in_(list(run_ids)), schema.levels.c.windows.is_not(None)
    )
    for run_id, users, encoded in connection.execute(query):
        found.setdefault(run_id, {})[users] = bytes(encoded)
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
    """Keep the `keep` runs of each target added last; the number of runs deleted."""
    with transaction(location, create=False, write=True) as connection:
        ranked = connection.execute(
            select(schema.runs.c.id, schema.runs.c.target).order_by(schema.runs.c.id.desc())
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
