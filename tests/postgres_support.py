"""A throwaway PostgreSQL server for the history's tests: Debian's `postgresql` binaries,
a cluster in a temp folder, run by an unprivileged user (the package's `postgres` user
when the tests run as root), on a free loopback port, stopped and removed after."""

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.nginx_support import free_port

USER, PASSWORD, DATABASE = "ecs", "s3cret-pw", "history"


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def postgres_missing() -> str | None:
    if postgres_bin() is None:
        return "PostgreSQL is not installed (Debian: apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "no user 'postgres' to run the server as (Debian's postgresql makes it)"
    return None


def as_server_user(command: list[str]) -> list[str]:
    """Run a command as `postgres` when we are root (the server refuses root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def postgres_server(folder: Path) -> Iterator[str]:
    """A running server; yields the history URL (with a password, which the tests check
    is never shown). Stopped (fast shutdown) and its files removed on exit."""
    binaries = postgres_bin()
    assert binaries is not None
    data = folder / "data"
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    password_file = folder / "password"
    password_file.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(password_file, "postgres", "postgres")
    subprocess.run(
        as_server_user(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                "--auth=scram-sha-256",
                f"--pwfile={password_file}",
            ]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder}"
    pg_ctl = [str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log")]
    subprocess.run(
        as_server_user([*pg_ctl, "-o", options, "-w", "-t", "60", "start"]),
        check=True,
        capture_output=True,
        timeout=90,
    )
    try:
        subprocess.run(
            as_server_user(
                [
                    str(binaries.parent / "bin" / "createdb"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    USER,
                    DATABASE,
                ]
            ),
            check=True,
            capture_output=True,
            timeout=60,
            env={**os.environ, "PGPASSWORD": PASSWORD},
        )
        yield f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/{DATABASE}"
    finally:
        subprocess.run(
            as_server_user([*pg_ctl, "-m", "fast", "-w", "stop"]),
            capture_output=True,
            timeout=90,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)
