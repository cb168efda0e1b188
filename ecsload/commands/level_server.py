"""Run a sweep's levels, or its end, from a process that imported what they need once.

    python -m ecsload.commands.level_server SOCKET RUN_DIR|- levels|run-end

Why: a new Python per level spent about 1.3 s starting Locust, the probe, the live
line and the summary, mostly importing them, and the run's end as much again for its
summary, verdict, history entry and report (docs/harness.md, "What a level costs
besides its load"). run_load_test.sh starts two of these once a sweep, before the
endpoint's check or the local node's start, each in its ROLE: the levels server even
before the plan (RUN_DIR `-`: its first request, `run RUN_DIR`, tells it the run; its
imports overlap the plan's), the run-end server after it. `levels` (each level, a
capacity search's next step: Locust, gevent, the tables) and
`run-end` (the run's summary, verdict, history entry and report: matplotlib, the
history's SQLAlchemy; no gevent). Each listens on its SOCKET (in a folder only its user
can open) at once, then imports its commands and what they import (WARM: what a command
imports only once its arguments are checked). The levels server's are done before the
first level (it answers it once they are). The run-end server's go on while the first
level runs, at idle priority (IDLE_IMPORTS: SCHED_IDLE, in a thread of their own), so they
take only CPU time that nothing else wants. Their environment is the script's, with the
run's history (ECS_LOAD_HISTORY, a URL's password with it) for the verdict, the history
and the report.

The levels server registers its sweep on the machine's register once it knows the run,
for as long as it runs (ecsload/sweeps_here.py), so that another sweep's levels can say
this one ran beside them.
The run-end server draws the report's charts ahead (BETWEEN: ecsload/report/level_charts.py):
each finished level's while the next levels run, at idle priority, and the sweep's once the
last level is over, so that the report finds them drawn.

Each serves the run in RUN_DIR: a request (commands/level_client.py) names a command
and its arguments but the run folder, and carries the client's stdin, stdout and
stderr; a forked child runs the command's `main` on them, so its lines reach the
terminal (or bash's pipe) as if bash had run it, and the client gets its exit code.
One request at a time. Each forked child names itself in `ps` with the command bash
would have run (`titled`), and RUN_DIR, or a file in it, is in each of them.

A stop (SIGTERM from its supervisor when the script stops, or the client hanging up; a
signal wakes the server at once, through its wakeup socket) stops the running command
(SIGTERM: a level stops Locust and keeps what was measured), waits STOP_SECONDS for it,
then kills its group; on SIGTERM this process then exits. Before its imports are done,
SIGTERM ends it at once. On its way out, also when the script was killed outright (its
supervisor then gets the parent-death signal), it removes its socket, and the folder if
that leaves it empty: bash made the folder for the two sockets alone.
"""

import concurrent.futures
import contextlib
import gc
import importlib
import os
import selectors
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from functools import partial
from types import ModuleType
from typing import TypeVar

from setproctitle import setproctitle

from ecsload.children import Child, StopRequest, close_now
from ecsload.cli import invoke
from ecsload.exits import EXIT_USAGE
from ecsload.sweeps_here import forget, registered

PROG = "python -m ecsload.commands.level_server"
ROLES = {  # what each server of a sweep may be asked for: a command's module, and its
    # arguments with the run folder added
    "levels": {
        "level": ("ecsload.commands.level", lambda run_dir, args: [run_dir, *args]),
        "capacity": ("ecsload.commands.capacity", lambda run_dir, args: [*args, run_dir]),
    },
    "run-end": {  # after the last level: the run's summary, verdict, history entry, report
        "summarize": ("ecsload.commands.summarize", lambda run_dir, args: ["run", run_dir, *args]),
        "verdict": ("ecsload.commands.verdict", lambda run_dir, args: [run_dir, *args]),
        "history": ("ecsload.commands.history", lambda run_dir, args: ["append", run_dir, *args]),
        "report": ("ecsload.commands.report", lambda run_dir, args: [run_dir, *args]),
    },
}
WARM = {  # imported too: what a command imports only once its arguments are checked; what
    # each level's Locust imports when it loads locustfile.py (0.04 s a level, else); and
    # numpy.ma, which np.unique imports at its first call (0.01 s of each forked command)
    "levels": ("ecsload.plugin.level", "ecsload.plugin.users", "numpy.ma"),
    "run-end": ("ecsload.report.page", "ecsload.history.report_section", "numpy.ma"),
}
IDLE_IMPORTS = {"run-end"}  # roles that import while the levels run: at idle priority
BETWEEN = {  # a role's work between its requests: a module whose Ahead(RUN_DIR) can
    # look() (every LOOK_SECONDS), before(COMMAND) (a request) and close() (the server's end)
    "run-end": "ecsload.report.level_charts",  # the report's charts, drawn ahead
}
LOOK_SECONDS = 0.05  # a level's summary seen this soon: the last one starts the run's end
STOP_SECONDS = 15.0  # Locust's 5 s grace, the probe's and the live line's, and margin
POLL_SECONDS = 0.1
MAX_REQUEST = 1 << 16
STDIO = 3  # the client's stdin, stdout and stderr
T = TypeVar("T")


def titled(module: str, argv: Sequence[str]) -> None:
    """This process's command line in ps, as if bash had run `python -m MODULE ARGV...`: a
    forked child would otherwise show the server's."""
    setproctitle(" ".join([sys.executable, "-m", module, *argv]))


class Server:
    """The listening socket, the role's commands and their modules, and the fork to use
    (ecsload/children.py says why gevent's own where gevent runs)."""

    def __init__(self, listener: socket.socket, run_dir: str | None, role: str) -> None:
        self.run_dir = run_dir  # None: told by the first request, `run RUN_DIR`
        self.role = role
        self.registration = contextlib.ExitStack()
        if run_dir is not None:
            self.begin(run_dir)
        self.listener = listener
        self.commands = ROLES[role]
        # Imported once listening: a client that connects meanwhile waits, and if an
        # import fails, it is told at once (its connection ends unanswered).
        imports = partial(self.imported, WARM.get(role, ()))
        self.modules = at_idle_priority(imports) if role in IDLE_IMPORTS else imports()
        self.fork: Callable[[], int] = (
            importlib.import_module("gevent.os").fork_gevent if "gevent" in sys.modules else os.fork
        )
        self.between = (
            importlib.import_module(BETWEEN[role]).Ahead(run_dir)
            if role in BETWEEN and run_dir is not None
            else None
        )
        self.stop = StopRequest(signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
        # A stop signal also wakes whatever waits below, at once (not at its next poll).
        self.woken, waking = socket.socketpair()
        for end in (self.woken, waking):
            end.setblocking(False)
        signal.set_wakeup_fd(waking.detach(), warn_on_full_buffer=False)

    def imported(self, warm: Sequence[str]) -> dict[str, ModuleType]:
        """The role's commands' modules, by command; the modules in `warm` imported too."""
        modules = {name: importlib.import_module(path) for name, (path, _) in self.commands.items()}
        for path in warm:
            importlib.import_module(path)
        # What the imports made lives as long as the process: out of the collector's sight,
        # a forked Locust's full collections skip it (each one a pause in the load, 20-35 ms
        # with it here), and its pages stay shared with the server.
        gc.collect()
        gc.freeze()
        return modules

    def forked(self, command: ModuleType, argv: list[str], stdio: list[int],
               connection: socket.socket) -> Child:  # fmt: skip
        """The command run by a forked child on the client's stdin, stdout and stderr."""

        def work() -> int:
            titled(command.__name__, argv)
            close_now(connection.detach())
            close_now(self.listener.detach())
            close_now(self.woken.detach())
            close_now(signal.set_wakeup_fd(-1))  # the server's wakeup is not the command's
            for target, fd in enumerate(stdio):
                os.dup2(fd, target)
                close_now(fd)
            return invoke(lambda: command.main(argv), command.PROG)

        return Child.fork(work, self.fork)

    def begin(self, run_dir: str) -> None:
        """The run this server serves, known: the levels server puts the sweep on this
        machine's register, for as long as its levels can run."""
        self.run_dir = run_dir
        if self.role == "levels":
            self.registration.enter_context(registered(run_dir))

    def answer(self, connection: socket.socket) -> None:
        """Run one request's command and send its exit code; on a stop or a hang-up, stop it."""
        message, stdio, _flags, _address = socket.recv_fds(connection, MAX_REQUEST, STDIO)
        words = [os.fsdecode(word) for word in message.split(b"\0")[:-1]]
        command = self.modules.get(words[0]) if words else None
        told = self.run_dir is None and len(words) == 2 and words[0] == "run"
        if told or len(stdio) != STDIO or command is None or self.run_dir is None:
            for fd in stdio:
                close_now(fd)
            if told:
                self.begin(words[1])
            with contextlib.suppress(OSError):
                connection.sendall(f"{0 if told else EXIT_USAGE}\n".encode())
            return
        argv = self.commands[words[0]][1](self.run_dir, words[1:])
        if self.between is not None:
            self.between.before(words[0])
        child = self.forked(command, argv, stdio, connection)
        for fd in stdio:
            close_now(fd)
        with selectors.DefaultSelector() as selector:
            # Woken at once by the child's end (its pidfd), a hang-up (the connection
            # readable) or a stop signal (its wakeup); POLL_SECONDS is a backstop.
            selector.register(child.pidfd, selectors.EVENT_READ)
            selector.register(connection, selectors.EVENT_READ)
            selector.register(self.woken, selectors.EVENT_READ)
            while not child.ended(0):
                ready = {key.fileobj for key, _ in selector.select(POLL_SECONDS)}
                self.drain_wakeups()
                hung_up = connection in ready and not child.ended(0)  # or it ended
                if self.stop.requested or hung_up:
                    code = child.stop(STOP_SECONDS)
                    break
            else:
                code = child.finish(0)
        with contextlib.suppress(OSError):  # the client hung up
            connection.sendall(f"{code}\n".encode())

    def drain_wakeups(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while self.woken.recv(64):
                pass

    def serve(self) -> int:
        """Answer requests until a stop; between them, the role's work (BETWEEN)."""
        self.listener.setblocking(False)
        try:
            while not self.stop.requested:
                if self.between is not None:
                    self.between.look()
                # A selector of its own each time: gevent's keeps watching what it holds,
                # and a command forked meanwhile (which closes those) would abort in libev.
                with selectors.DefaultSelector() as selector:
                    selector.register(self.listener, selectors.EVENT_READ)
                    selector.register(self.woken, selectors.EVENT_READ)
                    if not selector.select(POLL_SECONDS if self.between is None else LOOK_SECONDS):
                        continue
                self.drain_wakeups()
                with contextlib.suppress(BlockingIOError):
                    connection, _ = self.listener.accept()
                    with connection:
                        connection.setblocking(True)
                        self.answer(connection)
        finally:
            if self.between is not None:
                self.between.close()
            self.registration.close()
        return 0


def at_idle_priority(work: Callable[[], T]) -> T:
    """`work`'s result, worked out by a thread of its own at SCHED_IDLE: it takes only CPU
    time that nothing else wants (a level's Locust, the node, the service on this machine),
    and this thread, which forks the commands, keeps its own policy. The wait is a lock's,
    which a signal interrupts, so a stop meanwhile is still handled at once."""

    def idle() -> T:
        with contextlib.suppress(OSError):  # refused (a sandbox's filter): the normal policy
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # 0: this thread
        return work()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(idle).result()


def leave(path: str, signum: int) -> None:
    """A stop before the imports are done: the socket removed, then out at once. Not an
    exception: raised in the middle of an import (gevent's patching of the import locks),
    it would end in a traceback."""
    remove_socket(path)
    forget()  # the sweep's registration, when this is the levels server
    os._exit(128 + signum)


def remove_socket(path: str) -> None:
    """The socket this process bound, and its folder if that leaves it empty."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    with contextlib.suppress(OSError):  # not empty: not the server's alone
        os.rmdir(os.path.dirname(os.path.abspath(path)))


def main(argv: Sequence[str]) -> int:
    if len(argv) != 3 or argv[2] not in ROLES:
        sys.stderr.write(f"usage: {PROG} SOCKET RUN_DIR|- {'|'.join(ROLES)}\n")
        return EXIT_USAGE
    path, run_dir, role = argv
    for signum in (signal.SIGTERM, signal.SIGHUP):  # until its StopRequest; before the bind,
        # whose socket file a waiter may take for "started" and stop it at once
        signal.signal(signum, lambda signum, _frame: leave(path, signum))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    try:
        listener.listen(1)
        return Server(listener, None if run_dir == "-" else run_dir, role).serve()
    finally:
        remove_socket(path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
