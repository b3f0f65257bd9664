"""Loading scenario files: YAML into validated `Scenario`s, with file:line errors.

A file is parsed once by `hitl_sim.scenarios.safe_yaml` (PyYAML's safe loader, with limits: no
code runs, nothing can hang or exhaust memory). A malformed file raises `ScenarioError` naming
the file, the line and key path, what was expected, and the fix. A file holds one scenario, or a
small named set under `scenarios:` whose members share the file's other top-level keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    ValidationError,
)

from hitl_sim.errors import ScenarioError, excerpt
from hitl_sim.scenarios.safe_yaml import read_yaml
from hitl_sim.scenarios.schema import SNAPSHOT_DIR, SUFFIXES, Scenario, _short

# --- loading ----------------------------------------------------------------------------------


def is_scenario_file(path: Path) -> bool:
    return path.suffix in SUFFIXES and SNAPSHOT_DIR not in path.parts


def find_scenario_files(paths: Sequence[Path]) -> list[Path]:
    """Every scenario file under `paths` (files or directories), sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.is_file() and is_scenario_file(p))
        elif path.exists():
            found.append(path)
        else:
            raise ScenarioError(
                f"{path}: no such scenario file or directory.\n"
                "Give scenario files (.yaml) or directories that hold them."
            )
    return found


def load_scenarios(path: str | Path) -> list[Scenario]:
    """Every scenario in the file at `path` (one, or the members of a `scenarios:` set)."""
    path = Path(path)
    data, root, values = read_yaml(path)
    if not isinstance(data, Mapping):
        raise ScenarioError(
            f"{path}: a scenario file holds a mapping (description:, agent:, model:, reviewer:, "
            f"expect:), got {type(data).__name__}.\nStart the file with `description: ...`."
        )
    if "scenarios" not in data:
        return [_validated(path, root, dict(data), path.stem, ())]
    members = data["scenarios"]
    if not isinstance(members, Mapping) or not members:
        raise ScenarioError(
            f"{path}:{_line(root, ('scenarios',))}: scenarios: expected a mapping of scenario "
            f"name to its keys, got {excerpt(members)}.\n"
            "Write `scenarios: {name: {run: ...}, ...}`."
        )
    if len(members) * values > MAX_SET_WORK:
        raise ScenarioError(
            f"{path}:{_line(root, ('scenarios',))}: scenarios: {len(members):,} members in a file "
            f"of {values:,} values: each member is validated with the shared keys, more than "
            f"{MAX_SET_WORK:,} values in all.\nSplit the set into several files."
        )
    shared = {k: v for k, v in data.items() if k != "scenarios"}
    loaded = []
    for name, member in members.items():
        if not isinstance(member, Mapping):
            raise ScenarioError(
                f"{path}:{_line(root, ('scenarios', name))}: scenarios.{excerpt(name, 60)}: "
                "expected a mapping "
                f"of keys overriding the shared ones, got {excerpt(member)}.\n"
                f"Write `{excerpt(name, 60)}: {{}}` to use the shared keys unchanged."
            )
        merged = _merged(shared, dict(member))
        loaded.append(_validated(path, root, merged, str(name), ("scenarios", str(name))))
    return loaded


def where_in_file(scenario: Scenario, keys: Sequence[Any]) -> str:
    """`path:line` of the key at `keys` in `scenario`'s file (a set member's own key, else the
    shared one); the scenario's id when it has no file."""
    if scenario.path is None:
        return scenario.where
    data, root, _ = read_yaml(scenario.path)
    members = data.get("scenarios") if isinstance(data, Mapping) else None
    member = members.get(scenario.name) if isinstance(members, Mapping) else None
    if isinstance(member, Mapping) and keys and keys[0] in member:
        shared = keys[0] in MERGED_KEYS and not _holds(member, keys) and _holds(data, keys)
        if not shared:  # a merged `run` / `expect` may take the key from the shared one
            return f"{scenario.path}:{_line(root, ('scenarios', scenario.name, *keys))}"
    return f"{scenario.path}:{_line(root, keys)}"


def _holds(data: Any, keys: Sequence[Any]) -> bool:
    """Whether `data` has a value at `keys`."""
    node = data
    for key in keys:
        found = isinstance(node, Mapping) and key in node
        found = found or (isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node))
        if not found:
            return False
        node = node[key]
    return True


def load_scenario(path: str | Path, name: str | None = None) -> Scenario:
    """The scenario in the file at `path` (`name` picks one member of a set)."""
    found = load_scenarios(path)
    if name is None and len(found) == 1:
        return found[0]
    for scenario in found:
        if scenario.name == name:
            return scenario
    names = ", ".join(s.name for s in found)
    raise ScenarioError(
        f"{path}: no scenario named {name!r}; the file holds: {names}.\n"
        "Pass one of these names to load_scenario(path, name)."
    )


MAX_SET_WORK = 500_000
"""A `scenarios:` set's members times the file's values (each member is validated with the
shared keys) is at most this: 100 members in a 5,000-value file (the catalog's are under 500)."""
MAX_PROBLEMS = 20
"""A malformed file's message lists at most this many problems (and counts the rest)."""
MERGED_KEYS = ("run", "expect")
"""Set members override the shared keys; these two mappings are merged key by key instead."""


def _merged(shared: dict[str, Any], member: dict[str, Any]) -> dict[str, Any]:
    merged = dict(shared)
    for key, value in member.items():
        base = merged.get(key)
        if key in MERGED_KEYS and isinstance(base, Mapping) and isinstance(value, Mapping):
            merged[key] = {**base, **value}
        else:
            merged[key] = value
    return merged


def _validated(
    path: Path, root: Any, data: dict[str, Any], name: str, prefix: tuple[str, ...]
) -> Scenario:
    for reserved in ("name", "path"):
        if reserved in data:
            raise ScenarioError(
                f"{path}:{_line(root, (*prefix, reserved))}: {reserved}: this key is set by the "
                f"loader (from the file name / set member), not written in the file.\n"
                f"Remove `{reserved}:`."
            )
    try:
        return Scenario.model_validate({**data, "name": name, "path": path})
    except ValidationError as exc:
        raise ScenarioError(_explain(path, root, data, prefix, exc)) from None


def _explain(
    path: Path, root: Any, data: Any, prefix: tuple[str, ...], exc: ValidationError
) -> str:
    errors = exc.errors()
    which = f"scenario {excerpt(prefix[-1])} of the file" if prefix else "scenario file"
    lines = [f"{path}: {len(errors)} problem(s) in {which}:"]
    for error in errors[:MAX_PROBLEMS]:
        keys = _data_path(data, error["loc"])
        line = _line(root, (*prefix, *keys))
        if error["type"] == "unknown_key":
            keys = (*keys, error["ctx"]["name"])
            line = _line(root, (*prefix, *keys))
        elif error["type"] == "missing":
            keys = (*keys, error["loc"][-1])
        where = _path_text(keys)
        lines.append(f"- {path}:{line}: {where}: {_what(error)}")
        lines.append(f"  Fix: {_fix(error, keys)}")
    if len(errors) > MAX_PROBLEMS:
        lines.append(f"- ... and {len(errors) - MAX_PROBLEMS} more; fix these first.")
    return "\n".join(lines)


def _path_text(keys: Sequence[Any]) -> str:
    text = "".join(f"[{k}]" if isinstance(k, int) else f".{_short(k)}" for k in keys).lstrip(".")
    return text or "(top level)"


def _data_path(data: Any, loc: Sequence[Any]) -> tuple[Any, ...]:
    """The part of pydantic's `loc` that names keys really in the data (drops union tags)."""
    keys: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, Mapping) and part in node:
            keys.append(part)
            node = node[part]
        elif isinstance(node, Mapping) and part == "async_" and "async" in node:
            keys.append("async")
            node = node["async"]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            keys.append(part)
            node = node[part]
    return tuple(keys)


def _what(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return "required key missing."
    if error["type"] == "unknown_key":
        return message
    if error["type"] == "value_error":
        return message
    return f"{message} (got {excerpt(error.get('input'))})."


def _fix(error: Mapping[str, Any], keys: tuple[Any, ...]) -> str:
    kind = error["type"]
    key = _path_text(keys)
    if kind == "missing":
        return f"add `{error['loc'][-1]}:` (see docs/scenarios.md for the format)."
    if kind == "unknown_key":
        return f"remove or rename `{error['ctx']['key']}`."
    if kind == "literal_error":
        return f"set `{key}` to one of the values listed above."
    if kind == "agent_kind":
        return "start the agent with `kind: create_agent`, `kind: deep_agent` or `kind: factory`."
    if kind == "reviewer_kind":
        return (
            "give the front end `kind: terminal`, `pty`, `confirmation`, `http` or `chat`, or "
            "drop `kind` for scripted decisions (see docs/scenarios.md#front-end-reviewers)."
        )
    return f"change `{key}` as described above (see docs/scenarios.md)."


def _line(root: Any, keys: Sequence[Any]) -> int:
    """The 1-based line of the key at `keys` (or of its deepest existing parent)."""
    node = root
    line = 1
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value if k.value == str(key)]
            if not found:
                break
            line, node = found[0][0].start_mark.line + 1, found[0][1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line
