"""The run folder: every path in it, and each JSON document's shape and one reader/writer pair.

    RUN_DIR/                 RunFolder
      plan.json              PlanDocument      (the plan: every setting, its source)
      summary.json, summary.txt                SummaryDocument (summarize run; verdict adds
                                               `verdict`)
      thresholds.txt, junit.xml, comparison.txt, comparison.json, report.html
      capacity.json          SearchDocument    (a capacity search's steps and answer)
      node/                  NodeFiles         (the local node's config, credentials, logs)
      level-N/               LevelFolder       (one per level, N = its users)
        samples.csv, probe.csv                 (ecsload.sample_columns)
        level.json           LevelInfo         (the plugin, when Locust quits)
        progress.json        Progress          (the plugin, once a second, for the live line)
        summary.json, summary.txt              SummaryDocument of the level
        output.txt, locust.log, probe.log, report.html, locust_*.csv
      worker-N/              WorkerFolder      (run_load_test.sh --worker, one per level)
        worker.json          WorkerInfo

Every name above is written here and nowhere else; bash gets those it names from the
plan (`run_shell`), and a worker machine's from `python -m ecsload.run_folder worker`.

Every file is written whole or not at all (`write_text`: a temp file in the same
folder, fsync, rename), so a full disk or a crash leaves the previous version
intact, and its error is one line: `cannot write PATH: No space left on device`
(WriteError). A document is read whole, from a regular file of at most
MAX_DOCUMENT_BYTES (ecsload.input_files); a reader gets a DocumentError that says what
is wrong with the file, including a document from another version of ecs-load
(`version` in it; one without is read as this version's, and checked as such).

To add a field: add it to the document's TypedDict below (and its writer fills
it). To add a document: a TypedDict, a `Document(...)` constant with its file
name and version, a path property on its folder class, and a read_/write_ pair
of two lines each, as for the others. Standard library only: `--help` runs on
bare python3 and imports the plan, which imports this.
"""

import json
import math
import os
import shlex
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired, TypedDict, cast

from ecsload.exits import EXIT_ERROR
from ecsload.input_files import InputFileError, read_input_file

MAX_DOCUMENT_BYTES = 16 * 2**20  # a run's summary.json of hundreds of levels is under 1 MB
PATH_MAX = 4096  # Linux's limit on a path
RUN_FILES_ROOM = 120  # the longest path a run makes under its results folder, and then some
LEVEL_PREFIX = "level-"
REPEAT_PREFIX = "repeat-"  # level-N/repeat-R/: one repeat's files (--repeat K > 1)
THRESHOLDS_TEXT = "thresholds.txt"
COMPARISON_TEXT = "comparison.txt"
WORKER_PREFIX = "worker-"
TEMP_SUFFIX = ".tmp"


class DocumentError(Exception):
    """A document that is missing, unreadable, not the expected JSON, or of another version.

    `problem` completes a sentence that starts with the file's name, e.g. "cannot be
    read: Expecting value: line 1 column 1 (char 0)"; `missing` is True when the file
    does not exist."""

    def __init__(self, path: Path, problem: str, missing: bool = False) -> None:
        super().__init__(f"{path} {problem}")
        self.path = path
        self.problem = problem
        self.missing = missing


class RunFolderError(Exception):
    """A run folder that cannot be made; the message says why and what to give."""


class WriteError(Exception):
    """A file that could not be written (its previous version, if any, is intact)."""

    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(f"cannot write {path}: {error.strerror or error}")
        self.path = path
        self.strerror = error.strerror or str(error)


# The documents' shapes. `total=False`: a reader of an older run finds fewer keys.


class RampInfo(TypedDict, total=False):
    seconds: float
    completed: bool
    users_started: int


class GeneratorInfo(TypedDict):
    processes: int
    cpu_percent: list[float | None]
    busy_percent: list[float | None]
    loop_lag_ms: NotRequired[list[dict[str, float] | None]]  # an arrival-rate level's


class WorkersInfo(TypedDict):
    joined: int
    finished: int
    lost: int
    rejected: NotRequired[int]  # harness messages without the run's token, dropped


class LevelInfo(TypedDict, total=False):
    """level.json: what happened in a level (ecsload.plugin.level lists each key)."""

    version: int
    users: int
    arrival_rate: float | None  # an arrival-rate level's requests/s (null: a closed level)
    arrivals: str | None
    max_in_flight: int | None
    host: str | None
    users_by_kind: dict[str, int] | None
    target_requests: int | None
    level_seconds: NotRequired[float | None]  # a timed level's -d; null otherwise
    warmup_seconds: NotRequired[float]
    time_cap_seconds: float | None
    stopped_by: str | None
    ramp: RampInfo
    unanswered: int
    locust_requests: int | None
    started: str
    ended: str
    seconds: float
    generator: GeneratorInfo | None
    connections: int
    tls: dict[str, Any] | None
    samples: int
    workers: WorkersInfo | None
    other_sweeps: NotRequired[list[dict[str, Any]]]  # absent before this key was recorded


class Progress(TypedDict, total=False):
    """progress.json: a running level so far, for the live line (ecsload.plugin.level)."""

    users: int
    level_users: int
    phase: str
    started: float
    measure_started: float | None
    generator: dict[str, Any] | None


class WorkerInfo(TypedDict, total=False):
    """worker.json: how a worker machine's Locust ended a level (ecsload.plugin.roles)."""

    sweep_over: bool
    finished: bool
    requests: int
    samples: int


class SummaryDocument(TypedDict):
    """summary.json of a level or of the run (ecsload.analysis.documents; docs/summary-json.md)."""

    version: int
    endpoint: str | None
    levels: list[dict[str, Any]]
    saturation: NotRequired[dict[str, Any]]  # a closed sweep's
    capacity: NotRequired[dict[str, Any]]  # an arrival-rate sweep's
    verdict: NotRequired[dict[str, Any]]
    interrupted: NotRequired[bool]  # the run was stopped (Ctrl-C): its finished levels only


class PlanDocument(TypedDict, total=False):
    """plan.json: the plan (ecsload.commands.plan): `created`, `run_dir`, every setting by its
    key (ecsload.setting_rows), `sources`, `distribution`, `tls`, `notes`, `search`,
    `verbose` (each level prints by it: ecsload.commands.level)."""

    version: int
    created: str
    run_dir: str
    endpoint: str | None
    baseline: str | None
    tolerance: float
    run_noise: float
    thresholds: list[str]
    fail_on_regression: bool
    history: str | None
    search: bool  # run_load_test.sh capacity
    verbose: bool  # -v: every table, and where each level's files are
    repeat: int
    concurrency: list[int]
    rates: list[float]
    arrival_users: int  # an arrival-rate sweep's Locust users (one a process)
    probe_rate: float
    quiet: bool
    number_of_requests: int
    level_time_cap: float
    insecure: bool
    ca_bundle: str | None
    node_deployment: str | None
    slo: list[str]
    min_rate: int
    max_rate: int
    resolution: float
    level_seconds: float | None
    label: str | None
    branch: str | None
    sources: dict[str, str]
    distribution: dict[str, Any]
    tls: dict[str, Any]
    notes: list[str]


class SearchDocument(TypedDict, total=False):
    """capacity.json: a capacity search so far (ecsload.commands.capacity): each judged step
    (rate, seconds, phase, repeat, held, limit, marginal, why, figures), the step running
    (`pending`, null between steps) and, once found, `answer`."""

    version: int
    steps: list[dict[str, Any]]
    pending: dict[str, Any] | None
    answer: dict[str, Any] | None


class NodeStatus(TypedDict):
    """node/status.json: the local node's URL and runner (ecsnode.main --status-file)."""

    url: str
    runner: str


ComparisonDocument = dict[str, Any]  # comparison.json (ecsload.analysis.comparison)


@dataclass(frozen=True)
class Document:
    """A JSON document's file name, the version this ecs-load writes (None: unversioned), and
    whether a write waits for the disk (fsync): not for one rewritten every second inside
    Locust, where an fsync on a busy disk would stall the level's event loop."""

    name: str
    version: int | None = None
    durable: bool = True


PLAN = Document("plan.json", version=1)
SUMMARY_VERSION = 2  # docs/summary-json.md: a change of its keys' meaning is a new version
SUMMARY = Document("summary.json", version=SUMMARY_VERSION)
COMPARISON = Document("comparison.json")
LEVEL_INFO = Document("level.json", version=1)
PROGRESS = Document("progress.json", durable=False)
WORKER_INFO = Document("worker.json")
SEARCH = Document("capacity.json", version=1)
NODE_STATUS = Document("status.json")


# The folders and their files.


@dataclass(frozen=True)
class LevelFolder:
    """level-N/: one level's files."""

    path: Path

    @property
    def key(self) -> int:
        """What the sweep varied: the level's users, or its arrival rate (both whole)."""
        return int(self.path.name.removeprefix(LEVEL_PREFIX))

    samples = property(lambda self: self.path / "samples.csv")
    probe = property(lambda self: self.path / "probe.csv")
    probe_log = property(lambda self: self.path / "probe.log")
    info = property(lambda self: self.path / LEVEL_INFO.name)
    progress = property(lambda self: self.path / PROGRESS.name)
    remote_write = property(lambda self: self.path / "remote_write.json")  # --remote-write
    otlp = property(lambda self: self.path / "otlp.json")  # --otlp
    summary = property(lambda self: self.path / SUMMARY.name)
    summary_text = property(lambda self: self.path / "summary.txt")
    output = property(lambda self: self.path / "output.txt")
    locust_log = property(lambda self: self.path / "locust.log")
    locust_report = property(lambda self: self.path / "report.html")
    locust_csv = property(lambda self: self.path / "locust")  # Locust's --csv prefix

    def repeat(self, index: int) -> "LevelFolder":
        """level-N/repeat-R/: the files of the level's repeat R, laid out as a level's."""
        return LevelFolder(self.path / f"{REPEAT_PREFIX}{index}")

    def repeats(self) -> list["LevelFolder"]:
        """The level's repeats (repeat-R/, in R order), or the level itself when it ran
        once."""
        found = sorted(
            (int(folder.name.removeprefix(REPEAT_PREFIX)), folder)
            for folder in self.path.glob(f"{REPEAT_PREFIX}*")
            if folder.name.removeprefix(REPEAT_PREFIX).isdigit()
        )
        return [LevelFolder(folder) for _, folder in found] or [self]


@dataclass(frozen=True)
class WorkerFolder:
    """worker-N/: what a worker machine's Locust did in its master's level N."""

    path: Path

    info = property(lambda self: self.path / WORKER_INFO.name)
    output = property(lambda self: self.path / "output.txt")
    locust_log = property(lambda self: self.path / "locust.log")


@dataclass(frozen=True)
class NodeFiles:
    """node/: the local node's files (it holds credentials: made 0700)."""

    path: Path

    config = property(lambda self: self.path / "ecs.conf")
    htpasswd = property(lambda self: self.path / ".htpasswd")
    creds_log = property(lambda self: self.path / "creds.log")
    pairs = property(lambda self: self.path / "credentials.txt")
    stdout = property(lambda self: self.path / "stdout.txt")
    log = property(lambda self: self.path / "ecs.log")
    status = property(lambda self: self.path / NODE_STATUS.name)


@dataclass(frozen=True)
class RunFolder:
    """A run's results folder."""

    path: Path

    plan = property(lambda self: self.path / PLAN.name)
    summary = property(lambda self: self.path / SUMMARY.name)
    summary_text = property(lambda self: self.path / "summary.txt")
    thresholds_text = property(lambda self: self.path / THRESHOLDS_TEXT)
    junit = property(lambda self: self.path / "junit.xml")
    comparison = property(lambda self: self.path / COMPARISON.name)
    comparison_text = property(lambda self: self.path / COMPARISON_TEXT)
    search = property(lambda self: self.path / SEARCH.name)
    report = property(lambda self: self.path / "report.html")
    node = property(lambda self: NodeFiles(self.path / "node"))

    def level(self, key: float) -> LevelFolder:
        """The folder of the level whose users (or arrival rate) are `key`."""
        return LevelFolder(self.path / level_name(key))

    def worker(self, index: int) -> WorkerFolder:
        return WorkerFolder(self.path / f"{WORKER_PREFIX}{index}")

    def levels(self) -> list[LevelFolder]:
        """The level folders that exist, in the sweep's order (other names are skipped)."""
        found = [
            LevelFolder(path)
            for path in self.path.glob(f"{LEVEL_PREFIX}*")
            if path.name.removeprefix(LEVEL_PREFIX).isascii()
            and path.name.removeprefix(LEVEL_PREFIX).isdigit()
        ]
        return sorted(found, key=lambda level: level.key)

    def level_summaries(self) -> list[Path]:
        """Each level's summary.json that exists, in concurrency order."""
        return [level.summary for level in self.levels() if level.summary.is_file()]


def new_run_folder(root: str) -> RunFolder:
    """A new folder results/<YYYYmmdd-HHMMSS> (UTC), suffixed -2, -3, … if that second is taken;
    a RunFolderError that says what is wrong when it cannot be made."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    base = Path(root).expanduser().absolute()
    if len(str(base)) + RUN_FILES_ROOM > PATH_MAX:
        raise RunFolderError(
            f"the results folder's path is {len(str(base))} characters long, and the run's "
            f"files need at most {PATH_MAX} (PATH_MAX): give a shorter -o"
        )
    try:
        base.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, 100):
            run_dir = base / (stamp if attempt == 1 else f"{stamp}-{attempt}")
            try:
                run_dir.mkdir()
                return RunFolder(run_dir)
            except FileExistsError:
                continue
    except OSError as error:
        raise RunFolderError(f"cannot create a run folder under {base}: {error.strerror}") from None
    raise RunFolderError(f"cannot create a run folder under {base}: too many runs at {stamp}")


def level_name(key: float) -> str:
    """A level's folder name, also its id in junit.xml and in the report page; `key` is what
    the sweep varies (ecsload.analysis.documents.level_key): its users or its arrival rate."""
    return f"{LEVEL_PREFIX}{key}"


def run_folder_of(level_dir: Path) -> RunFolder:
    return RunFolder(level_dir.parent)


# Writing and reading.


def write_file(path: str | Path, write: Callable[[Path], object], durable: bool = True) -> None:
    """Make a file whole or not at all: `write` makes it at a temp path beside `path` (per
    process: forked Locust workers may share a path), then fsync (when `durable`), rename.
    A WriteError when it cannot be written; the temp file is removed."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        write(partial)
        if durable:
            descriptor = os.open(partial, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        partial.replace(path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise WriteError(path, error) from None


def write_text(path: str | Path, text: str, durable: bool = True) -> None:
    """Write `text` (UTF-8) whole or not at all (write_file)."""
    write_file(path, lambda partial: partial.write_text(text, encoding="utf-8"), durable)


def _write(path: str | Path, document: Mapping[str, Any], kind: Document) -> None:
    versioned = {"version": kind.version, **document} if kind.version else document
    text = json.dumps(finite(versioned), indent=2, allow_nan=False)
    write_text(path, text + "\n", kind.durable)


def finite(value: Any) -> Any:
    """A document with every NaN or infinite number made null (no figure): JSON has
    neither, and parsers other than Python's refuse them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def refuse_constant(name: str) -> Any:
    raise ValueError(f"it holds {name}, which is not JSON (a number must be finite)")


def _read(path: str | Path, kind: Document) -> dict[str, Any]:
    path = Path(path)
    try:
        value = json.loads(
            read_input_file(path, MAX_DOCUMENT_BYTES), parse_constant=refuse_constant
        )
    except InputFileError as problem:
        raise DocumentError(path, str(problem), not path.exists()) from None
    except ValueError as error:  # UnicodeDecodeError is a ValueError
        raise DocumentError(path, f"cannot be read: {error}") from None
    except RecursionError:
        raise DocumentError(path, "cannot be read: it is nested too deeply") from None
    if not isinstance(value, dict):
        raise DocumentError(path, "is not a JSON object")
    found = value.get("version")  # none: read as this version's (older plan.json, level.json)
    if kind.version is not None and found is not None and found != kind.version:
        raise DocumentError(
            path,
            f"is version {found} of {kind.name}, and this ecs-load reads version "
            f"{kind.version}: make it again with this version",
        )
    return value


def read_plan(path: str | Path) -> PlanDocument:
    return cast(PlanDocument, _read(path, PLAN))


def write_plan(path: str | Path, plan: Mapping[str, Any]) -> None:
    _write(path, plan, PLAN)


def read_summary(path: str | Path) -> SummaryDocument:
    return cast(SummaryDocument, _read(path, SUMMARY))


def write_summary(path: str | Path, summary: SummaryDocument) -> None:
    _write(path, summary, SUMMARY)


def read_comparison(path: str | Path) -> ComparisonDocument:
    return _read(path, COMPARISON)


def write_comparison(path: str | Path, comparison: ComparisonDocument) -> None:
    _write(path, comparison, COMPARISON)


def read_level_info(path: str | Path) -> LevelInfo:
    return cast(LevelInfo, _read(path, LEVEL_INFO))


def write_level_info(path: str | Path, info: LevelInfo) -> None:
    _write(path, info, LEVEL_INFO)


def read_progress(path: str | Path) -> Progress:
    return cast(Progress, _read(path, PROGRESS))


def write_progress(path: str | Path, progress: Progress) -> None:
    _write(path, progress, PROGRESS)


def read_worker_info(path: str | Path) -> WorkerInfo:
    return cast(WorkerInfo, _read(path, WORKER_INFO))


def write_worker_info(path: str | Path, info: WorkerInfo) -> None:
    _write(path, info, WORKER_INFO)


def read_search(path: str | Path) -> SearchDocument:
    return cast(SearchDocument, _read(path, SEARCH))


def write_search(path: str | Path, search: SearchDocument) -> None:
    _write(path, search, SEARCH)


def read_node_status(path: str | Path) -> NodeStatus:
    return cast(NodeStatus, _read(path, NODE_STATUS))


# The paths bash names, as shell assignments (in the plan's output).


def shell(pairs: Mapping[str, Path]) -> str:
    return "".join(f"{name}={shlex.quote(str(path))}\n" for name, path in pairs.items())


def run_shell(run_dir: Path) -> str:
    """The run's files that bash names (the plan prints them): its report and the local
    node's (the node's folder is made, 0700, only when the node runs)."""
    run = RunFolder(run_dir)
    node = run.node
    return shell(
        {
            "REPORT_FILE": run.report,
            "NODE_DIR": node.path,
            "NODE_CONFIG": node.config,
            "NODE_HTPASSWD": node.htpasswd,
            "NODE_CREDS_LOG": node.creds_log,
            "NODE_PAIRS": node.pairs,
            "NODE_STDOUT": node.stdout,
            "NODE_LOG": node.log,
            "NODE_STATUS": node.status,
        }
    )


def worker_paths(run_dir: Path, index: int) -> list[Path]:
    """A worker's folder for its master's level `index` (made), and its files: worker.json,
    Locust's output and its log."""
    worker = RunFolder(run_dir).worker(index)
    worker.path.mkdir(parents=True, exist_ok=True)
    return [worker.info, worker.output, worker.locust_log]


USAGE = """usage: python -m ecsload.run_folder worker RUN_DIR N | summarized RUN_DIR
worker: makes the folder of a worker machine's level N and prints its files NUL-separated
summarized: exits 0 once a level of the run has its summary, 1 before"""


def main(argv: Sequence[str]) -> int:
    try:
        match argv:
            case ["worker", run_dir, index]:
                paths = worker_paths(Path(run_dir), int(index))
                sys.stdout.buffer.write(b"".join(os.fsencode(path) + b"\0" for path in paths))
            case ["summarized", run_dir]:
                return 0 if RunFolder(Path(run_dir)).level_summaries() else 1
            case _:
                sys.stderr.write(USAGE + "\n")
                return EXIT_ERROR
    except (OSError, ValueError) as error:
        sys.stderr.write(f"python -m ecsload.run_folder: {error}\n")
        return EXIT_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
