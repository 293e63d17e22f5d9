"""YAML that remembers where things are, and a collector of problems found in it.

PyYAML's ``compose`` step stops before turning nodes into Python objects, so every mapping
key, value and list item still carries its position. The configuration loader reads those
nodes directly, which lets each complaint name the exact line it is about.

Values are read from a scalar's *raw text* rather than from YAML 1.1's type guesses: an
unquoted ``8:00`` would otherwise become the sexagesimal integer 480 and ``no`` a boolean.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from policywire.errors import YamlSyntaxError

T = TypeVar("T")

_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"


# libyaml composes a 1,000-feed file ~3x faster than the pure-Python loader (0.09 → 0.03 s of a
# cron run's start-up); the pure loader stays the reference for what an error says.
_FAST_LOADER: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)


def compose(text: str) -> Node | None:
    """Parse one YAML document into its node tree (``None`` for an empty document)."""
    if _FAST_LOADER is not None:
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass  # the pure loader below says what is wrong, and where, in its own words
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error_from_marked(exc) from exc
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise YamlSyntaxError(line, f"character #x{code:04x} is not allowed in YAML") from exc


def _syntax_error_from_marked(exc: yaml.MarkedYAMLError) -> YamlSyntaxError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    message = exc.problem or exc.context or "not valid YAML"
    if exc.problem and exc.context:
        # The context ("while scanning a quoted scalar") often points at where the
        # trouble started, which is the more useful line to look at.
        message = f"{exc.problem} ({exc.context}"
        if exc.context_mark is not None and exc.context_mark.line + 1 != line:
            message += f" started at line {exc.context_mark.line + 1}"
        message += ")"
    return YamlSyntaxError(line, message)


def line_of(node: Node) -> int:
    """The 1-based line a node starts on."""
    return int(node.start_mark.line) + 1


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


def describe(node: Node) -> str:
    """A few words for what the user wrote, for "expected X, got Y" messages."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == _NULL_TAG:
        return "nothing"
    if node.tag == _BOOL_TAG:
        return "true/false"
    if node.tag in (_INT_TAG, _FLOAT_TAG):
        return "a number"
    return "text"


def child_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def item_path(path: str, index: int) -> str:
    return f"{path}[{index}]"


@dataclass
class Problems:
    """Every problem found in one file, kept with its line so they can be reported sorted."""

    filename: str
    _found: list[tuple[int, str]] = field(default_factory=list)

    def add(self, at: Node | int, path: str, message: str) -> None:
        line = at if isinstance(at, int) else line_of(at)
        where = path or "(top level)"
        self._found.append((line, f"{self.filename}:{line}: {where}: {message}"))

    def __bool__(self) -> bool:
        return bool(self._found)

    def lines(self) -> list[str]:
        # sorted() is stable, so problems on one line keep the order they were found in.
        return [text for _, text in sorted(self._found, key=lambda found: found[0])]


def sequence_items(node: Node, path: str, problems: Problems) -> list[Node] | None:
    """The items of a list, or ``None`` (and a problem) when the node is something else."""
    if isinstance(node, SequenceNode):
        return list(node.value)
    problems.add(node, path, f"expected a list, got {describe(node)}")
    return None


def scalar_text(node: Node, path: str, problems: Problems) -> str | None:
    """A scalar's raw text, stripped; ``None`` (and a problem) for lists, mappings, blanks."""
    if not isinstance(node, ScalarNode):
        problems.add(node, path, f"expected a single value, got {describe(node)}")
        return None
    text = str(node.value).strip()
    if is_null(node) or not text:
        problems.add(node, path, "must not be empty")
        return None
    return text


class Fields:
    """The keys of one YAML mapping, read one at a time.

    Problems are recorded as they are found and a default is handed back instead, so the
    caller keeps going and the user sees every problem in a single run. A key whose value
    is YAML null counts as absent.
    """

    def __init__(self, node: MappingNode, path: str, problems: Problems) -> None:
        self.node = node
        self.path = path
        self.problems = problems
        self._entries: dict[str, tuple[ScalarNode, Node]] = {}
        for key_node, value_node in node.value:
            self._remember(key_node, value_node)

    @classmethod
    def of(cls, node: Node, path: str, problems: Problems) -> Fields | None:
        if isinstance(node, MappingNode):
            return cls(node, path, problems)
        problems.add(node, path, f"expected a mapping of keys to values, got {describe(node)}")
        return None

    def _remember(self, key_node: Node, value_node: Node) -> None:
        if not isinstance(key_node, ScalarNode) or is_null(key_node):
            self.problems.add(key_node, self.path, "keys must be plain names")
            return
        key = str(key_node.value)
        if key in self._entries:
            first = line_of(self._entries[key][0])
            self.problems.add(
                key_node, self.path_of(key), f"duplicate key (first given at line {first})"
            )
            return
        self._entries[key] = (key_node, value_node)

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def items(self) -> Iterator[tuple[str, ScalarNode, Node]]:
        for key, (key_node, value_node) in self._entries.items():
            yield key, key_node, value_node

    def path_of(self, key: str) -> str:
        return child_path(self.path, key)

    def key_node(self, key: str) -> ScalarNode:
        return self._entries[key][0]

    def reject_unknown(self, allowed: Collection[str]) -> None:
        for key, (key_node, _) in self._entries.items():
            if key not in allowed:
                self.problems.add(key_node, self.path_of(key), _unknown_key_message(key, allowed))

    def value(self, key: str) -> Node | None:
        """The value node for ``key``; ``None`` when the key is missing or null."""
        entry = self._entries.get(key)
        if entry is None or is_null(entry[1]):
            return None
        return entry[1]

    def text(self, key: str, default: str) -> str:
        node = self.value(key)
        if node is None:
            return default
        return scalar_text(node, self.path_of(key), self.problems) or default

    def optional_text(self, key: str) -> str | None:
        node = self.value(key)
        return None if node is None else scalar_text(node, self.path_of(key), self.problems)

    def required_text(self, key: str) -> str | None:
        if key not in self._entries:
            self.problems.add(self.node, self.path, f"missing required key '{key}'")
            return None
        node = self._entries[key][1]
        return scalar_text(node, self.path_of(key), self.problems)

    def parsed(self, key: str, default: T, parse: Callable[[str], T]) -> T:
        """Run ``parse`` on the key's text; its ``ValueError`` becomes the problem message."""
        node = self.value(key)
        if node is None:
            return default
        parsed = parse_node(node, self.path_of(key), self.problems, parse)
        return default if parsed is None else parsed

    def integer(self, key: str, default: int, minimum: int) -> int:
        return self.parsed(key, default, lambda text: parse_int(text, minimum))

    def text_list(self, key: str) -> list[tuple[str, Node]]:
        """Each non-empty text item of a list with its node; bad items are reported."""
        node = self.value(key)
        if node is None:
            return []
        items = sequence_items(node, self.path_of(key), self.problems) or []
        texts: list[tuple[str, Node]] = []
        for index, item in enumerate(items):
            text = scalar_text(item, item_path(self.path_of(key), index), self.problems)
            if text is not None:
                texts.append((text, item))
        return texts


def parse_node(node: Node, path: str, problems: Problems, parse: Callable[[str], T]) -> T | None:
    text = scalar_text(node, path, problems)
    if text is None:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        problems.add(node, path, str(exc))
        return None


def parse_int(text: str, minimum: int) -> int:
    try:
        number = int(text.replace("_", ""))
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None
    if number < minimum:
        raise ValueError(f"must be at least {minimum}, got {number}")
    return number


def _unknown_key_message(key: str, allowed: Collection[str]) -> str:
    message = f"unknown key '{key}'"
    close = difflib.get_close_matches(key, list(allowed), n=1)
    if close:
        return f"{message} (did you mean '{close[0]}'?)"
    return f"{message} (expected one of: {', '.join(sorted(allowed))})"
