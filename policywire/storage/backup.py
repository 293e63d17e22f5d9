"""`policywire backup PATH`: a consistent copy of the SQLite database, while the service runs.

SQLite's online backup API copies the database page by page. On its own it starts over
whenever another connection writes between two steps, so a busy service could keep a large
backup from ever finishing; holding one read transaction on the source for the whole copy
pins a snapshot instead (in WAL mode a reader never blocks the service's writer), and the copy
is the database as it was at that moment. It is written to a temporary file beside PATH,
checked, switched to a single file (no `-wal` beside it) and only then given its name, so PATH
is either the whole backup or untouched.

PostgreSQL databases are backed up with their own tools (`pg_dump`); this refuses them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from policywire.errors import BackupError
from policywire.storage.lock import sqlite_file

STEP_PAGES = 1024  # pages per backup step (4 MiB at SQLite's default page size)

Progress = Callable[[int, int], None]  # pages copied so far, pages in all


@dataclass(frozen=True, slots=True)
class BackupResult:
    source: Path
    target: Path
    pages: int
    size: int  # bytes

    def describe(self) -> str:
        return f"backup of {self.source} written to {self.target} ({_size(self.size)}, checked)"


def backup_database(
    url: str,
    target: str | os.PathLike[str],
    *,
    force: bool = False,
    step_pages: int = STEP_PAGES,
    progress: Progress | None = None,
) -> BackupResult:
    """Copy the SQLite database of `url` to `target`; raises BackupError with one line."""
    source = _source_file(url)
    path = _target_file(Path(target), source, force)
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(descriptor)
    partial = Path(name)
    try:
        pages = _copy(source, partial, step_pages, progress)
        _put_in_place(partial, path, force)
    finally:
        partial.unlink(missing_ok=True)
    _sync_folder(path.parent)
    return BackupResult(source, path, pages, path.stat().st_size)


def progress_lines(say: Callable[[str], None], *, every: int = 10) -> Progress:
    """A progress callback that says a line each time another `every` percent is copied, for
    databases that take more than one step (a small one is copied before anyone could read)."""
    shown = {"percent": 0}

    def report(done: int, total: int) -> None:
        if total <= 0 or (done >= total and shown["percent"] == 0):
            return  # copied in one step: the summary line is enough
        percent = done * 100 // total
        if percent // every > shown["percent"] // every:
            shown["percent"] = percent
            say(f"backup: {percent}% ({done:,} of {total:,} pages)")

    return report


def _source_file(url: str) -> Path:
    source = sqlite_file(url)
    if source is not None:
        if not source.is_file():
            raise BackupError(f"no database at {source} (settings.database)")
        return source
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        backend = "unknown"
    if backend == "sqlite":
        raise BackupError("settings.database is an in-memory database: nothing to back up")
    raise BackupError(
        f"policywire backup copies SQLite databases only; settings.database is a {backend} "
        "database: use its own tools (for PostgreSQL, pg_dump)"
    )


def _target_file(target: Path, source: Path, force: bool) -> Path:
    path = target.expanduser().absolute()
    if path.is_dir():
        raise BackupError(f"{path} is a folder: name the backup file, e.g. {path / source.name}")
    if not path.parent.is_dir():
        raise BackupError(f"cannot write {path}: the folder {path.parent} does not exist")
    if path.exists() and path.samefile(source):
        raise BackupError(f"{path} is the database itself: choose another file")
    if path.exists() and not force:
        raise BackupError(f"{path} already exists: remove it, or pass --force to replace it")
    return path


def _copy(source: Path, partial: Path, step_pages: int, progress: Progress | None) -> int:
    """The backup itself, into `partial`; returns the number of pages copied."""

    def on_step(_status: int, remaining: int, total: int) -> None:
        if progress is not None:
            progress(total - remaining, total)

    # mode=rw: never create an empty database where the real one was expected.
    with (
        _connect(f"{source.as_uri()}?mode=rw", source, uri=True) as src,
        _connect(str(partial), partial) as dst,
    ):
        try:
            src.execute("BEGIN")  # the snapshot: held until the copy is complete
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
            src.backup(dst, pages=step_pages, progress=on_step)
        except sqlite3.Error as exc:
            raise BackupError(f"cannot back up {source}: {exc}") from exc
        try:
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            (verdict,) = dst.execute("PRAGMA quick_check").fetchone()
            (pages,) = dst.execute("PRAGMA page_count").fetchone()
        except sqlite3.Error as exc:
            raise BackupError(f"cannot finish the backup in {partial.parent}: {exc}") from exc
    if verdict != "ok":
        raise BackupError(f"the copy of {source} failed its check: {verdict}")
    return int(pages)


@contextlib.contextmanager
def _connect(database: str, path: Path, *, uri: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection in autocommit mode (transactions are ours to begin), closed after use."""
    try:
        connection = sqlite3.connect(database, uri=uri, isolation_level=None)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {path}: {exc}") from exc
    try:
        yield connection
    finally:
        connection.close()


def _put_in_place(partial: Path, path: Path, force: bool) -> None:
    """Give the finished copy its name; without `force`, never over a file that appeared
    meanwhile (a hard link fails when the name is taken, where a rename would replace it)."""
    if force:
        os.replace(partial, path)
        return
    try:
        os.link(partial, path)
    except FileExistsError:
        raise BackupError(
            f"{path} already exists: remove it, or pass --force to replace it"
        ) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV):
            raise BackupError(f"cannot write {path}: {exc.strerror}") from exc
        if path.exists():  # a file system without hard links: check, then rename
            raise BackupError(
                f"{path} already exists: remove it, or pass --force to replace it"
            ) from None
        os.replace(partial, path)


def _sync_folder(folder: Path) -> None:
    """Make the new name itself durable, not only the file's contents."""
    with contextlib.suppress(OSError):  # some file systems cannot sync a folder
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _size(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    value, unit = size / 1000, "KB"
    for bigger in ("MB", "GB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{value:.1f} {unit}"
