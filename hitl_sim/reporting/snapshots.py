"""Snapshots of a run's outcome: the final state and the audit log, normalised and redacted.

`snapshot_text(run)` is a readable YAML document (status, messages with their tool calls and
results, the other state keys, the audit log) that is byte-identical for the same scenario on
every run. Use it three ways:

- with syrupy's own `snapshot` fixture: `assert snapshot_text(run) == snapshot`, or, after the
  conftest recipe below, `assert run == snapshot`;
- with any text file: `assert_snapshot_file(run, path, update=...)` (scenario files use this);
- as data: `snapshot_data(run)`.

The conftest recipe (this package defines no `snapshot` fixture; that name is syrupy's):

```
import pytest
from hitl_sim.reporting.snapshots import run_matcher

@pytest.fixture
def snapshot(snapshot):
    return snapshot.with_defaults(matcher=run_matcher())
```

Nothing here imports syrupy: a matcher is a plain function of `(data, path)`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import yaml

from hitl_sim.errors import InvalidArgument
from hitl_sim.normalise import RedactOption, run_normaliser
from hitl_sim.reporting.audit_log import AuditLog, Timestamps, unfinished_events

if TYPE_CHECKING:
    from hitl_sim.run import Run

Section = Literal["status", "messages", "state", "audit", "side_effects"]
SECTIONS: tuple[Section, ...] = get_args(Section)
DEFAULT_INCLUDE: tuple[Section, ...] = ("status", "messages", "state", "audit")

__all__ = [
    "DEFAULT_INCLUDE",
    "SECTIONS",
    "assert_snapshot_file",
    "run_matcher",
    "snapshot_data",
    "snapshot_text",
]


def snapshot_data(
    run: Run,
    *,
    include: Iterable[Section] = DEFAULT_INCLUDE,
    state_keys: Iterable[str] | None = None,
    redact: RedactOption = ...,
    timestamps: Timestamps = "clock",
) -> dict[str, Any]:
    """The run's outcome as plain data, one key per included section, in `SECTIONS` order.

    `include`: any of `status`, `messages`, `state` (state keys other than messages),
    `audit` (the audit log's events), `side_effects` (calls seen by a `Spy`).
    `state_keys`: only these state keys in `state` (default: all). `redact` and `timestamps`
    are `AuditLog.from_run`'s.
    """
    wanted = _sections(include)
    norm = run_normaliser(run, redact)
    audit = unfinished_events(run, norm, timestamps)
    data: dict[str, Any] = {}
    if "status" in wanted:
        data["status"] = run.status
    if "messages" in wanted:
        data["messages"] = [norm.plain(message) for message in run.messages]
    if "state" in wanted:
        keys = set(run.final_state) - {"messages"} if state_keys is None else set(state_keys)
        data["state"] = norm.plain({k: v for k, v in run.final_state.items() if k in keys})
    if "audit" in wanted:
        data["audit"] = audit
    if "side_effects" in wanted:
        data["side_effects"] = [
            {"name": s.name, "args": norm.plain(s.args), "kwargs": norm.plain(s.kwargs)}
            for s in run.side_effects
        ]
    return dict(norm.finish(data))


def snapshot_text(
    run: Run,
    *,
    include: Iterable[Section] = DEFAULT_INCLUDE,
    state_keys: Iterable[str] | None = None,
    redact: RedactOption = ...,
    timestamps: Timestamps = "clock",
) -> str:
    """`snapshot_data(run, ...)` as a YAML document: what a snapshot stores and diffs."""
    data = snapshot_data(
        run, include=include, state_keys=state_keys, redact=redact, timestamps=timestamps
    )
    return to_yaml(data)


def to_yaml(data: Any) -> str:
    """Block-style YAML, keys in the given order, multi-line strings as `|` blocks."""
    return yaml.dump(
        _blocks(data),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _short(data: dict[Any, Any] | list[Any]) -> bool:
    """Small collections of plain scalars print on one line: `args: {path: /srv/a}`."""
    values = data.values() if isinstance(data, dict) else data
    plain = all(isinstance(v, bool | int | float | str) and "\n" not in str(v) for v in values)
    return plain and len(str(data)) <= _FLOW_WIDTH


_FLOW_WIDTH = 60


class _Block(dict[Any, Any]):
    """A mapping that is a list item (a message, an event): always printed as a block."""


def _blocks(data: Any, item: bool = False) -> Any:
    if isinstance(data, dict):
        made = {key: _blocks(value) for key, value in data.items()}
        return _Block(made) if item else made
    if isinstance(data, list):
        return [_blocks(value, item=True) for value in data]
    return data


def _block(dumper: yaml.SafeDumper, data: dict[Any, Any]) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=False)


def _dict(dumper: yaml.SafeDumper, data: dict[Any, Any]) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=_short(data) or None)


def _list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=_short(data) or None)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(dict, _dict)
_Dumper.add_representer(_Block, _block)
_Dumper.add_representer(list, _list)


def _sections(include: Iterable[Section]) -> set[str]:
    if isinstance(include, str):
        include = (include,)  # type: ignore[assignment]
    wanted: set[str] = set(include)
    unknown = sorted(wanted - set(SECTIONS))
    if unknown:
        raise InvalidArgument(
            f"Unknown snapshot section(s) {', '.join(map(repr, unknown))} in include=. "
            f"Valid sections: {', '.join(SECTIONS)}; e.g. include=('messages', 'audit')."
        )
    return wanted


def run_matcher(
    *,
    include: Iterable[Section] = DEFAULT_INCLUDE,
    state_keys: Iterable[str] | None = None,
    redact: RedactOption = ...,
    timestamps: Timestamps = "clock",
) -> Callable[..., Any]:
    """A syrupy matcher that stores every `Run` (and `AuditLog`) as its normalised text.

    `snapshot.with_defaults(matcher=run_matcher())` in a conftest `snapshot` fixture makes
    `assert run == snapshot` store `snapshot_text(run)`; `snapshot(matcher=run_matcher(...))`
    does it for one assertion.
    """
    from hitl_sim.run import Run

    sections = tuple(_sections(include))
    keys = None if state_keys is None else tuple(state_keys)
    options: dict[str, Any] = {
        "include": [s for s in SECTIONS if s in sections],
        "state_keys": keys,
        "redact": redact,
        "timestamps": timestamps,
    }

    def matcher(*, data: Any, path: Any) -> Any:
        if isinstance(data, Run):
            return snapshot_text(data, **options)
        if isinstance(data, AuditLog):
            return to_yaml(data.to_dicts())
        return data

    return matcher


def assert_snapshot_file(
    actual: Run | str,
    path: str | Path,
    *,
    update: bool = False,
    include: Iterable[Section] = DEFAULT_INCLUDE,
    redact: RedactOption = ...,
) -> None:
    """Compare a run's snapshot text with the file at `path`; write it instead when `update`.

    A missing file is an error unless `update` is set. On a difference, raises `AssertionError`
    with a unified diff (`-` stored, `+` this run) and the way to refresh the file.
    """
    text = (
        actual if isinstance(actual, str) else snapshot_text(actual, include=include, redact=redact)
    )
    target = Path(path)
    if update:
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        return
    if not target.exists():
        raise AssertionError(
            f"No stored snapshot at {target}. Run with update=True (pytest: --snapshot-update) "
            "to write it, then review and commit the file."
        )
    stored = target.read_text(encoding="utf-8")
    if stored == text:
        return
    diff = difflib.unified_diff(
        stored.splitlines(keepends=True),
        text.splitlines(keepends=True),
        fromfile=f"{target} (stored)",
        tofile="this run",
    )
    raise AssertionError(
        f"The run does not match the stored snapshot {target}:\n{''.join(diff)}"
        "If the change is intended, refresh it with update=True (pytest: --snapshot-update)."
    )
