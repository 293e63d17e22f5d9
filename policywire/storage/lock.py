"""One instance per SQLite database, and noticing when the database file disappears.

Two services on one SQLite file would each build the same digests and send everything twice,
so the service holds an exclusive `flock` on `<database>.lock` for as long as it runs; a second
one gets `AlreadyRunning`. The lock is the kernel's: a process killed with SIGKILL releases
it, so there is never a stale lock to delete by hand. Read-only commands (`status`, `check`,
`preview`, `backup`) never take it; `status` only peeks at it (`lock_holder`).

PostgreSQL gets no lock here: it is the database of deployments that run several hosts on
purpose, and its own locking is another subject.

`DatabaseWatch` remembers which file (device and inode) the store opened. A file deleted while
the service runs stays readable and writable through the open connections, so nothing fails:
the service would go on writing into a file nobody can open again, and the next start would
find an empty database and send everything again. The store checks the file before each write
and the service every few seconds; either way it stops with `DatabaseGone`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from policywire.errors import AlreadyRunning, DatabaseGone, StoreError

LOCK_SUFFIX = ".lock"
# `status` peeking at the lock holds it for microseconds; a starting service waits this long
# for such a peek to end before it believes another instance holds the lock.
ACQUIRE_PATIENCE = 1.0
_RETRY_EVERY = 0.02


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for other databases and in-memory ones."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # Store.open reports a malformed URL in its own words
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:" or "mode=memory" in database:
        return None
    return Path(database.removeprefix("file:").split("?", 1)[0]).absolute()


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + LOCK_SUFFIX)


class InstanceLock:
    """An exclusive lock on a SQLite database, held until `release` (or the process ends)."""

    def __init__(self, database: Path, path: Path, fd: int) -> None:
        self.database = database
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, database: Path, *, patience: float = ACQUIRE_PATIENCE) -> InstanceLock:
        path = lock_path(database)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create the lock file {path}: {exc.strerror}") from exc
        try:
            _lock_patiently(fd, patience)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f" (pid {holder})" if holder else ""
            raise AlreadyRunning(
                f"another policywire instance{who} is running on {database} (lock {path}); "
                "stop it first, or give this one another settings.database"
            ) from None
        # Only for the message a second instance prints: the lock itself is the flock.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(database, path, fd)

    def release(self) -> None:
        """Unlock; the file stays (deleting it would race with an instance about to lock it)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


@contextlib.contextmanager
def instance_lock(url: str) -> Iterator[InstanceLock | None]:
    """Hold the database's instance lock for the block (None: not a SQLite file)."""
    database = sqlite_file(url)
    if database is None:
        yield None
        return
    lock = InstanceLock.acquire(database)
    try:
        yield lock
    finally:
        lock.release()


def lock_holder(url: str) -> int | None:
    """The pid of the instance running on this database, 0 when it is running but did not
    say its pid, None when none runs (or the database is not a SQLite file)."""
    database = sqlite_file(url)
    if database is None:
        return None
    try:
        fd = os.open(lock_path(database), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None  # no lock file: no instance ever ran here
    try:
        try:
            # A shared lock is refused only while an instance holds the exclusive one.
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd) or 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _lock_patiently(fd: int, patience: float) -> None:
    deadline = time.monotonic() + patience
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(_RETRY_EVERY)


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode().strip() or "0") or None
    return None


@dataclass(frozen=True, slots=True)
class FileIdentity:
    device: int
    inode: int


def file_identity(path: Path) -> FileIdentity | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return FileIdentity(stat.st_dev, stat.st_ino)


class DatabaseWatch:
    """Which file the store opened; `check` raises DatabaseGone once it is not there any more."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.expected = file_identity(path)
        self._gone: DatabaseGone | None = None

    @classmethod
    def for_url(cls, url: str) -> DatabaseWatch | None:
        path = sqlite_file(url)
        return None if path is None else cls(path)

    def check(self) -> None:
        """A stat() call: cheap enough to run before every write transaction."""
        if self._gone is None:
            self._gone = self._problem()
        if self._gone is not None:
            raise self._gone  # once gone, always gone: a new file is not ours either

    def _problem(self) -> DatabaseGone | None:
        found = file_identity(self.path)
        if found == self.expected:
            return None
        what = "deleted" if found is None else "replaced by another file"
        return DatabaseGone(
            f"the database file {self.path} was {what} while running; stopping so that "
            "nothing is sent twice (restore it from a backup before starting again)"
        )
