"""Reading a scenario file: one bounded, safe YAML parse that keeps every node's line.

`read_yaml(path)` returns the file's data and its node tree (for line numbers) from a single
parse with PyYAML's C loader (`CSafeLoader`) when libyaml is there, else the pure-Python
`SafeLoader`. Both are subclassed to refuse what a hand-written scenario file never needs and a
hostile or broken one could use to hang or crash the harness; every refusal is a `ScenarioError`
naming the file and line:

- files over `MAX_FILE_BYTES`, bytes that are not UTF-8, characters YAML does not allow;
- lists and mappings nested deeper than `MAX_DEPTH` levels (aliases included);
- aliases that refer to a value containing them, or copy values until the document holds more
  than `MAX_EXPANDED_VALUES` values or `MAX_EXPANDED_CHARS` characters of text (an alias bomb);
- duplicate keys in one mapping (YAML would keep only the last one, silently);
- integers outside 64 bits (checkpointers cannot store them; Python refuses to even read one
  over 4,300 digits), and scalars a tag cannot be read as (a date like `2030-02-30`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple, cast

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hitl_sim.errors import ScenarioError, excerpt

MAX_FILE_BYTES = 262_144
"""A scenario file is at most 256 KiB (the catalog's largest is 2 KiB): about a second to load."""
MAX_DEPTH = 100
"""Lists and mappings nest at most 100 levels deep (the top-level mapping is level 1)."""
MAX_EXPANDED_VALUES = 200_000
"""With aliases, the document may hold at most this many values (each alias counts as a copy):
more than a file of `MAX_FILE_BYTES` can hold without aliases."""
MAX_EXPANDED_CHARS = 1_048_576
"""With aliases, the document's scalars may hold at most this many characters (copies counted)."""
REPARSE_BYTES = 65_536
"""A file up to this size that libyaml finds invalid is parsed again with PyYAML's pure-Python
parser (which takes about 0.1 s for that much YAML): its messages say what it found where."""
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
"""Integers in a scenario file are signed 64-bit, what every checkpointer can store."""

_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_TAG = "tag:yaml.org,2002:merge"
# What the YAML spec (and PyYAML's reader) allows in a stream.
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_FIX_SYNTAX = "Fix the YAML syntax (indentation, quoting) at that line."


class _Refused(yaml.MarkedYAMLError):
    """A loader refusal: what is wrong, and the fix, at a mark (raised inside the loader)."""

    def __init__(self, problem: str, fix: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.fix = fix


def _too_deep(mark: Any) -> _Refused:
    return _Refused(
        f"lists and mappings nested deeper than {MAX_DEPTH} levels.",
        "Flatten the structure: no scenario key needs more than a few levels.",
        mark,
    )


class _Checks:
    """What both loaders add to PyYAML's safe constructor."""

    _flattened: set[int]

    def flatten_mapping(self, node: MappingNode) -> None:
        # PyYAML rewrites `node.value` here (merge keys): the first call sees the keys as written.
        if id(node) not in self._flattened:
            self._flattened.add(id(node))
            self._no_duplicate_keys(node)
        super().flatten_mapping(node)  # type: ignore[misc]

    def _no_duplicate_keys(self, node: MappingNode) -> None:
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:  # unhashable: PyYAML's own error follows
                continue
            if first is not key_node:
                shown = _clip(key, 60) if isinstance(key, str) else excerpt(key, 60)
                raise _Refused(
                    f"duplicate key {excerpt(key, 60)} (already at line "
                    f"{first.start_mark.line + 1}); YAML would keep only the last one and silently "
                    "drop the other.",
                    f"Merge the two `{shown}:` entries into one, or remove one.",
                    key_node.start_mark,
                )

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)  # type: ignore[misc]
        except yaml.YAMLError:
            raise
        except Exception as exc:  # a value its tag cannot read: 2030-02-30, `!!bool maybe`
            tag = node.tag.rsplit(":", 1)[-1]
            what = (
                excerpt(node.value)
                if isinstance(node, ScalarNode)
                else f"this {getattr(node, 'id', 'value')}"
            )
            why = f": {_clip(str(exc), 200)}" if isinstance(exc, ValueError | OverflowError) else ""
            raise _Refused(
                f"cannot read {what} as {tag}{why}.",
                "Quote the value to make it a string, or correct it.",
                node.start_mark,
            ) from None

    def construct_yaml_int(self, node: ScalarNode) -> int:
        text = str(node.value).replace("_", "")
        value = None if len(text) > 30 else super().construct_yaml_int(node)  # type: ignore[misc]
        if value is None or not INT_MIN <= value <= INT_MAX:
            written = str(node.value)
            shown = written if len(written) <= 40 else f"{written[:20]}...({len(written):,} chars)"
            raise _Refused(
                f"the integer {shown} is out of range: integers in a scenario file are 64-bit "
                f"({INT_MIN} to {INT_MAX}).",
                "Use a smaller number, or quote it to make it a string.",
                node.start_mark,
            )
        return int(value)


class _PyLoader(_Checks, yaml.SafeLoader):
    """The pure-Python loader, with a depth limit (its composer recurses once per level)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._flattened = set()
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if not self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _too_deep(self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_PyLoader.add_constructor(_INT_TAG, cast(Any, _Checks.construct_yaml_int))
LOADERS: list[type[Any]] = [_PyLoader]
"""The loaders `read_yaml` can use, preferred first: the C one when libyaml is installed."""

if getattr(yaml, "__with_libyaml__", False):

    class _CLoader(_Checks, yaml.CSafeLoader):
        """libyaml's parser and composer (itself limited to 1,000 levels), our constructor."""

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._flattened = set()

    _CLoader.add_constructor(_INT_TAG, cast(Any, _Checks.construct_yaml_int))
    LOADERS.insert(0, _CLoader)


class Document(NamedTuple):
    """A parsed file: its data, its node tree (for lines), and how many distinct values it has."""

    data: Any
    root: Node | None
    values: int


def read_yaml(path: Path, loader: type[Any] | None = None) -> Document:
    """The YAML file at `path`, parsed once, or `ScenarioError` naming the file and line."""
    text = _text(path)
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        line, column = _position(text, bad.start())
        raise ScenarioError(
            f"{path}:{line}: not valid YAML: the character {bad[0]!r} (U+{ord(bad[0]):04X}) at "
            f"column {column} is not allowed in a YAML file.\n"
            'Remove it; inside a double-quoted string it can be written as an escape ("\\x07").'
        )
    chosen = loader or LOADERS[0]
    try:
        try:
            return _parse(chosen, text)
        except _Refused:
            raise
        except yaml.YAMLError as exc:
            if chosen is _PyLoader or len(text) > REPARSE_BYTES or _nesting(exc):
                raise
            _parse(_PyLoader, text)  # its message, expected to fail the same way
            raise
    except _Refused as exc:
        raise ScenarioError(f"{path}{_line_of(exc)}: {exc.problem}\n{exc.fix}") from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
        if _nesting(exc):
            deeper = _too_deep(getattr(exc, "problem_mark", None))
            raise ScenarioError(f"{path}{_line_of(exc)}: {deeper.problem}\n{deeper.fix}") from None
        raise ScenarioError(
            f"{path}{_line_of(exc)}: not valid YAML: {_clip(str(problem), 300)}.\n{_FIX_SYNTAX}"
        ) from None


def _parse(loader: type[Any], text: str) -> Document:
    instance = loader(text)
    try:
        root = instance.get_single_node()
        if root is None:
            return Document(None, None, 0)
        values = _measure(root)
        return Document(instance.construct_document(root), root, values)
    finally:
        instance.dispose()


def _nesting(exc: yaml.YAMLError) -> bool:
    """Whether `exc` is libyaml's own nesting limit (1,000 levels)."""
    return "maximum nesting depth" in str(getattr(exc, "problem", ""))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _text(path: Path) -> str:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(
            f"{path}: cannot read the file: {exc.strerror or exc}.\n"
            "Give the path of a readable scenario file (.yaml)."
        ) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError(
            f"{path}: the file is larger than the {MAX_FILE_BYTES:,}-byte limit for a scenario "
            "file.\nSplit it into several files, or build large inputs in a factory "
            "(`agent: {kind: factory}`, docs/scenarios.md)."
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ScenarioError(
            f"{path}:{line}: not UTF-8: {exc.reason} (byte {data[exc.start]:#04x} at column "
            f"{column}).\nSave the file as UTF-8."
        ) from None


def _position(text: str, index: int) -> tuple[int, int]:
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _line_of(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return f":{mark.line + 1}" if mark is not None else ""


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _measure(root: Node) -> int:
    """Refuse a document nested too deep; with aliases, also one cyclic or too big (`_graph`).

    Returns the number of distinct nodes. One iterative pass; a node reached a second time was
    reached through an alias.
    """
    seen = {id(root)}
    stack = [(root, 1)]
    shared = False
    while stack:
        node, level = stack.pop()
        if isinstance(node, MappingNode):
            kids = [part for pair in node.value for part in pair]
        elif isinstance(node, SequenceNode):
            kids = node.value
        else:
            continue
        if level > MAX_DEPTH:
            raise _too_deep(node.start_mark)
        for kid in kids:
            if id(kid) in seen:
                shared = True
            else:
                seen.add(id(kid))
                stack.append((kid, level + 1))
    if shared:
        _graph(root)
    return len(seen)


def _graph(root: Node) -> None:
    """Refuse a node graph that is cyclic, too deep, or (through aliases) too big.

    One iterative pass over the distinct nodes: aliases make the tree a graph whose shared nodes
    are measured once, so an alias bomb costs what its text costs to read, not what it expands to.
    """
    height: dict[int, int] = {}
    values: dict[int, int] = {}
    chars: dict[int, int] = {}
    open_nodes: set[int] = set()
    shared: list[Node] = []
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        key = id(node)
        if closing:
            kids = _children(node)
            level = 0 if isinstance(node, ScalarNode) else 1
            height[key] = level + max((height[id(kid)] for kid in kids), default=0)
            values[key] = min(1 + sum(values[id(kid)] for kid in kids), MAX_EXPANDED_VALUES + 1)
            own = len(node.value) if isinstance(node, ScalarNode) else 0
            chars[key] = min(own + sum(chars[id(kid)] for kid in kids), MAX_EXPANDED_CHARS + 1)
            open_nodes.discard(key)
        elif key in height:
            shared.append(node)
        elif key in open_nodes:
            raise _Refused(
                "an alias refers to the anchored value at this line, which contains it (a "
                "recursive structure).",
                "Remove the alias: a scenario value cannot contain itself.",
                node.start_mark,
            )
        else:
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((kid, False) for kid in reversed(_children(node)))
    if height[id(root)] > MAX_DEPTH:
        raise _too_deep(_deepest(root, height).start_mark)
    if shared and (values[id(root)] > MAX_EXPANDED_VALUES or chars[id(root)] > MAX_EXPANDED_CHARS):
        alone = [
            n
            for n in shared
            if values[id(n)] > MAX_EXPANDED_VALUES or chars[id(n)] > MAX_EXPANDED_CHARS
        ]
        biggest = (
            min(alone, key=lambda n: n.start_mark.line)  # the first anchor over budget by itself
            if alone
            else max(shared, key=lambda n: (values[id(n)], chars[id(n)]))
        )
        what = (
            f"{MAX_EXPANDED_VALUES:,} values"
            if values[id(root)] > MAX_EXPANDED_VALUES
            else f"{MAX_EXPANDED_CHARS:,} characters of text"
        )
        raise _Refused(
            f"aliases copy the anchored value at this line (and others) until the document "
            f"holds more than {what} (an alias bomb).",
            "Use fewer aliases, or write the values out.",
            biggest.start_mark,
        )


def _deepest(root: Node, height: dict[int, int]) -> Node:
    """The node at level MAX_DEPTH + 1 on the deepest path from `root`."""
    node, level = root, 1
    while level <= MAX_DEPTH:
        kids = [kid for kid in _children(node) if not isinstance(kid, ScalarNode)]
        node = max(kids, key=lambda kid: height[id(kid)])
        level += 1
    return node
