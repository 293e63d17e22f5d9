"""The import rules, read from the source with `ast` (nothing here imports the modules checked).

- Imports go `scheduler.py → bots/ → policywire/`, never back: the core imports no chat library
  (telegram, discord), nothing from `bots` and not the CLI, so it is tested without them and a
  console-only `run`, `check` or `preview` never loads them.
- A bot module imports no other bot's modules, except the helpers the Discord bot and the Discord
  webhook transport share, `bots/discord_common.py`. A bot may span modules named after it
  (`bots/telegram.py` and `bots/telegram_commands.py` are one bot, `telegram`).
- Importing a package of the core costs nothing: no `__init__.py` under policywire/ loads
  feedparser, lxml, Babel or a chat library, directly or through the modules it imports, and
  they are empty. (tests/test_cli.py checks the same at run time, for a whole `run --once`.)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAT_LIBRARIES = frozenset({"telegram", "discord"})
HEAVY = frozenset({"feedparser", "lxml", "babel", "telegram", "discord"})
SHARED_BOT_MODULE = "bots.discord_common"
BOT_NAMES = ("telegram", "discord_bot", "discord_webhook", "console")


def bot_of(module: str) -> str | None:
    """Which bot a `bots.*` module belongs to: its name, or its name's prefix before `_`."""
    name = module.removeprefix("bots.")
    for bot in BOT_NAMES:
        if name == bot or name.startswith(bot + "_"):
            return bot
    return None


@dataclass(frozen=True, slots=True)
class Import:
    module: str  # absolute dotted name
    line: int
    at_import_time: (
        bool  # runs when the importing module is imported (not in a def or TYPE_CHECKING)
    )


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_file(module: str) -> Path | None:
    """Our file for a dotted module name, if it is one of ours."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def python_files(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(path: Path) -> list[Import]:
    """Every import statement of a file, with absolute module names (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    )
    found: list[Import] = []

    def visit(node: ast.AST, runs: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno, runs) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            found.append(Import(base, node.lineno, runs))
            for alias in node.names:  # `from package import module` imports that module too
                if source_file(f"{base}.{alias.name}") is not None:
                    found.append(Import(f"{base}.{alias.name}", node.lineno, runs))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for child in ast.iter_child_nodes(node):
                visit(child, False)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, False)
            for child in node.orelse:
                visit(child, runs)
        else:
            for child in ast.iter_child_nodes(node):
                visit(child, runs)

    visit(tree, True)
    return found


def top(module: str) -> str:
    return module.split(".")[0]


def loaded_by(module: str) -> Iterator[str]:
    """The modules importing `module` runs: its parent packages, then its own imports."""
    parts = module.split(".")
    for n in range(1, len(parts)):
        yield ".".join(parts[:n])
    path = source_file(module)
    if path is not None:
        for found in imports(path):
            if found.at_import_time:
                yield found.module


def heavy_chains(start: str) -> list[list[str]]:
    """Import chains from `start` to a heavy library, following our own modules only."""
    chains: list[list[str]] = []
    seen = {start}
    stack = [[start]]
    while stack:
        chain = stack.pop()
        for module in loaded_by(chain[-1]):
            if top(module) in HEAVY:
                chains.append([*chain, module])
            elif module not in seen and source_file(module) is not None:
                seen.add(module)
                stack.append([*chain, module])
    return chains


CORE = python_files("policywire")
BOTS = python_files("bots")
PACKAGE_INITS = [p for p in CORE if p.name == "__init__.py"]


def where(path: Path, found: Import) -> str:
    return f"{path.relative_to(ROOT)}:{found.line}: imports {found.module}"


def test_the_checker_sees_what_is_there() -> None:
    """A guard for the guards: the files are found and known imports are seen."""
    assert len(CORE) > 20 and len(BOTS) >= 5 and len(PACKAGE_INITS) >= 6
    webhook = imports(ROOT / "bots" / "discord_webhook.py")
    assert SHARED_BOT_MODULE in {i.module for i in webhook}
    assert bot_of("bots.telegram_commands") == "telegram" != bot_of("bots.discord_bot")
    assert bot_of(SHARED_BOT_MODULE) is None
    assert any(c[-1] == "babel" for c in heavy_chains("policywire.deliver.i18n"))
    subscriptions = imports(ROOT / "policywire" / "chat" / "subscriptions.py")
    assert "policywire.chat.wording" in {i.module for i in subscriptions}


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_core_imports_no_chat_library_no_bot_and_not_the_cli(path: Path) -> None:
    forbidden = CHAT_LIBRARIES | {"bots", "scheduler"}
    wrong = [where(path, i) for i in imports(path) if top(i.module) in forbidden]
    assert not wrong, "the core must not depend on the adapters:\n" + "\n".join(wrong)


@pytest.mark.parametrize("path", BOTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_bot_imports_another_bot_except_the_shared_discord_helpers(path: Path) -> None:
    me = module_name(path)
    wrong = [
        where(path, i)
        for i in imports(path)
        if top(i.module) == "scheduler"
        or (
            i.module.startswith("bots.")
            and (i.module != SHARED_BOT_MODULE or me == SHARED_BOT_MODULE)
            and (bot_of(i.module) is None or bot_of(i.module) != bot_of(me))
        )
    ]
    assert not wrong, f"bot modules import only policywire/ and {SHARED_BOT_MODULE}:\n" + "\n".join(
        wrong
    )


@pytest.mark.parametrize("path", PACKAGE_INITS, ids=lambda p: str(p.relative_to(ROOT)))
def test_package_inits_load_nothing_heavy(path: Path) -> None:
    chains = heavy_chains(module_name(path))
    assert not chains, "importing the package loads a heavy library:\n" + "\n".join(
        " → ".join(chain) for chain in chains
    )


@pytest.mark.parametrize("path", PACKAGE_INITS, ids=lambda p: str(p.relative_to(ROOT)))
def test_package_inits_are_empty(path: Path) -> None:
    """Nothing but a docstring: what a package offers is imported from its modules."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    docstring = (
        body[:1]
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
        else []
    )
    assert body == docstring, f"{path.relative_to(ROOT)} should hold no code"
