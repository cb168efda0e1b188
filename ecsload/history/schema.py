"""The history's tables, one schema for SQLite and PostgreSQL (SQLAlchemy Core), and its
migrations.

`meta` holds `schema_version`. A history made by an older version is brought up to
SCHEMA_VERSION by MIGRATIONS, in order, in one transaction; one made by a newer
version is refused (HistoryError), never rewritten. To change the schema: bump
SCHEMA_VERSION, change the tables and append a step that turns the previous
version into this one.
"""

from collections.abc import Callable

from sqlalchemy import (
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    text,
)

from ecsload.vocabulary import HEADLINE_KEYS

SCHEMA_VERSION = 4
ALL_TYPES = "(all)"  # the `type` of a level's every request, beside each request type

metadata = MetaData()

# A capacity search's answer (req/s), its interval and what limited it: version 2.
CAPACITY_COLUMNS = (
    Column("capacity", Float),
    Column("capacity_low", Float),
    Column("capacity_high", Float),
    Column("capacity_limited_by", String(16)),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_key", String(64), nullable=False, unique=True),  # record.run_key
    Column("target", String(2048), nullable=False),  # plan's endpoint; "" the local node
    Column("endpoint", String(2048)),  # the URL the levels ran against
    Column("label", String(256), nullable=False),
    Column("branch", String(256), nullable=False),
    Column("created", String(32), nullable=False),  # ISO 8601 UTC, the plan's
    Column("started", String(32)),
    Column("ended", String(32)),
    Column("recorded", String(32), nullable=False),
    Column("run_dir", String(4096)),
    Column("verdict", String(64), nullable=False),  # "" when nothing was judged
    Column("plan", Text, nullable=False),  # plan.json (credentials by path, URLs masked)
    *CAPACITY_COLUMNS,  # a capacity search's answer (version 2); null for a sweep
)
Index("runs_by_target", runs.c.target, runs.c.created)
Index("runs_by_label", runs.c.label)

levels = Table(
    "levels",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("users", Integer, primary_key=True),  # the level: users, or an open sweep's rate
    Column("model", String(16)),  # "closed" (users) or "open" (arrival rate); null: closed
    Column("seconds", Float),
    Column("generator_share", Float),  # busiest Locust process, % of a core (CPU or busy)
    Column("probe_count", Integer),
    Column("probe_errors", Integer),
    Column("probe_p50", Float),
    Column("probe_p95", Float),
    Column("probe_p99", Float),
    # version 3: the level's samples as the comparison reads them (ecsload.history.windows)
    Column("windows", LargeBinary),
    # version 4: how many other ecs-load sweeps ran on the machine beside the level (its
    # summary's other_sweeps); null: not recorded (an older ecs-load)
    Column("other_sweeps", Integer),
)

FIGURES = (*HEADLINE_KEYS, "rps", "goodput")  # each with an optional 95% interval
figures = Table(
    "figures",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("users", Integer, primary_key=True),  # as in `levels`
    Column("type", String(128), primary_key=True),  # a request type, or ALL_TYPES
    Column("requests", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("rate_limited", Integer, nullable=False),
    *(Column(name, Float) for name in FIGURES),
    *(Column(f"{name}_{end}", Float) for name in FIGURES for end in ("low", "high")),
    *(Column(f"corrected_{p}", Float) for p in HEADLINE_KEYS),
    Column("histogram", LargeBinary),  # HdrHistogram's compressed encoding, in µs
)


def create_version_1(connection: Connection) -> None:
    metadata.create_all(connection)


def add_capacity(connection: Connection) -> None:
    """Version 2: the runs' capacity columns (a history made at version 2 has them already)."""
    present = {column["name"] for column in inspect(connection).get_columns("runs")}
    for column in CAPACITY_COLUMNS:
        if column.name not in present:
            kind = column.type.compile(connection.dialect)
            connection.execute(text(f"ALTER TABLE runs ADD COLUMN {column.name} {kind}"))


def add_level_windows(connection: Connection) -> None:
    """Version 3: each level's windows, so that a stored run is a baseline as its folder
    is (runs stored before have none: they are listed, not compared with)."""
    if "windows" not in {column["name"] for column in inspect(connection).get_columns("levels")}:
        kind = LargeBinary().compile(dialect=connection.dialect)
        connection.execute(text(f"ALTER TABLE levels ADD COLUMN windows {kind}"))


def add_other_sweeps(connection: Connection) -> None:
    """Version 4: each level's count of other sweeps beside it (null for the runs before)."""
    if "other_sweeps" not in {
        column["name"] for column in inspect(connection).get_columns("levels")
    }:
        kind = Integer().compile(dialect=connection.dialect)
        connection.execute(text(f"ALTER TABLE levels ADD COLUMN other_sweeps {kind}"))


# (version it makes, step): applied in order to a history below SCHEMA_VERSION.
MIGRATIONS: tuple[tuple[int, Callable[[Connection], None]], ...] = (
    (1, create_version_1),
    (2, add_capacity),
    (3, add_level_windows),
    (4, add_other_sweeps),
)
