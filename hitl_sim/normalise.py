"""Turn run records into plain, stable, redacted data: what the audit log and snapshots print.

Nothing a run produces is reproducible byte for byte: thread ids, interrupt ids (hashes of
checkpoint ids), tool call ids, message ids (uuid4 / uuid7) and checkpoint ids all change between
identical runs. A `Normaliser` replaces each id with a label (`thread-1`, `interrupt-1`,
`call-1`, ...) numbered by first appearance, also where the raw id shows up inside a string (an
error message naming a call), and masks the values of secret-looking keys (`password`, `token`,
...) wherever they sit, together with every later occurrence of such a value in any string.

Every string it emits also goes through `stable_text`, which removes what changes with a
third-party release, a machine or a run but carries no meaning for the test: library versions
(`pydantic 2.14.4`, the `/2.13/` in `https://errors.pydantic.dev/2.13/v/...`), memory addresses
(`at 0x7f3a...`), absolute paths of this machine (site-packages, the standard library, the
virtualenv, the working directory, pytest's numbered `tmp_path`; not `/tmp` or a home folder,
which a tool's arguments name as data), and
wall-clock durations with a fraction (`in 0.23s`). Durations on the frozen clock (`after 300 s`)
are whole numbers and stay.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import sys
import sysconfig
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

IdKind = Literal["thread", "interrupt", "call", "message", "checkpoint", "id"]

DEFAULT_REDACTED: frozenset[str] = frozenset(
    {"password", "token", "api_key", "secret", "authorization"}
)
"""Keys whose values are masked by default (compared case-insensitively, `-` read as `_`)."""
MASK = "***"

_UNKNOWN_ID = re.compile(
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b[0-9a-f]{32}\b"
)
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+\b")
_VERSIONED_URL = re.compile(r"(https?://[^\s'\"<>]*?/)v?\d+(?:\.\d+)+(?=/)")
_LIBRARIES = (
    r"python|cpython|pypy|pydantic(?:[-_]core)?|pydantic[-_]settings|typing[-_]extensions"
    r"|lang(?:chain|graph|smith)(?:[-_][a-z]+)*|deepagents|hitl[-_]sim|pytest(?:[-_][a-z]+)*"
    r"|hypothesis|syrupy|freezegun|time[-_]machine|pyyaml|psycopg\d?|httpx|openai|anthropic"
)
_LIBRARY_VERSION = re.compile(
    rf"(?i)\b({_LIBRARIES})(\s*(?:==|>=|<=|~=|/|-|\s|\s?v)\s*)"
    r"\d+(?:\.\d+)+(?:(?:a|b|rc|\.post|\.dev)\d+)?(?:\+[\w.]+)?\b"
)
_DURATION = re.compile(
    r"\b\d+\.\d{2,}\s?(?:s|ms|µs|us|ns|sec|secs|seconds|milliseconds)\b", re.IGNORECASE
)
_TEMP = {tempfile.gettempdir(), os.path.realpath(tempfile.gettempdir())}
_PYTEST_TMP = re.compile(
    rf"(?:{'|'.join(map(re.escape, sorted(_TEMP)))})/pytest-of-[^/\s]+/pytest-\d+/(?:popen-gw\d+/)?"
)
"""pytest's numbered `tmp_path` root (and xdist worker folder), which changes with every run."""
_MIN_SECRET = 4
"""Shorter secret values are masked under their key but not hunted for inside other strings."""
_LOOKS_GENERATED = re.compile(r"^(?=.*\d).{6,}$")
"""A raw id is replaced inside strings only if it looks generated (6+ characters, a digit), so a
thread named `main` does not rename every `main` in the messages."""


class _Label(str):
    """A label already given; the final string pass leaves it alone."""

    __slots__ = ()


def redaction_keys(keys: Iterable[str] | None) -> frozenset[str]:
    """The normalised set of keys to mask (`None` means none)."""
    if isinstance(keys, str):
        keys = (keys,)
    return frozenset(_key(k) for k in keys or ())


def _key(key: object) -> str:
    return str(key).lower().replace("-", "_")


class Normaliser:
    """Labels ids, masks secrets and turns any value into JSON-ready data, deterministically.

    Use one normaliser per run, so an id gets the same label in the audit log and in the state.
    Call `plain()` for each piece, then `finish()` on the assembled result: that pass replaces
    raw ids and secret values that remain inside strings.
    """

    def __init__(
        self, *, redact: Iterable[str] | None = DEFAULT_REDACTED, normalise_ids: bool = True
    ) -> None:
        self.redact = redaction_keys(redact)
        self.normalise_ids = normalise_ids
        self.labels: dict[tuple[str, Any], str] = {}
        self._counts: dict[str, int] = {}
        self._secrets: set[str] = set()
        self._replacements: dict[str, str] = {}

    def label(self, kind: IdKind, raw: Any) -> str | None:
        """The stable label of id `raw` of `kind` (a new one on first sight); None stays None."""
        if raw is None:
            return None
        if not self.normalise_ids:
            return _Label(raw)
        found = self.labels.get((kind, raw))
        if found is None:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            found = self.labels[(kind, raw)] = _Label(f"{kind}-{self._counts[kind]}")
        return found

    def label_of(self, raw: str) -> str | None:
        """The label given to raw id `raw`, of any kind, if it was seen."""
        return next((label for (_, r), label in self.labels.items() if r == raw), None)

    def is_secret(self, key: object) -> bool:
        return _key(key) in self.redact

    def plain(self, value: Any) -> Any:
        """`value` as JSON-ready data (dicts with str keys, lists, scalars), secrets masked."""
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, datetime):
            return timestamp(value)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, timedelta):
            return seconds(value)
        if isinstance(value, Mapping):
            return self.mapping(value)
        if isinstance(value, list | tuple):
            return [self.plain(item) for item in value]
        if isinstance(value, set | frozenset):
            return sorted((self.plain(item) for item in value), key=repr)
        if isinstance(value, BaseException):
            return f"{type(value).__name__}: {value}"
        message = self.message(value)
        if message is not None:
            return message
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return self.mapping(fields)
        dump = getattr(value, "model_dump", None)
        if callable(dump):
            return self.plain(dump(mode="json"))
        return stable_text(repr(value))

    def mapping(self, value: Mapping[Any, Any]) -> dict[str, Any]:
        """A mapping with sorted string keys, values under secret keys masked."""
        out: dict[str, Any] = {}
        for key in sorted(value, key=str):
            item = value[key]
            if self.is_secret(key):
                self._remember_secret(item)
                out[str(key)] = MASK
            else:
                out[str(key)] = self.plain(item)
        return out

    def _remember_secret(self, value: Any) -> None:
        if isinstance(value, str) and len(value) >= _MIN_SECRET:
            self._secrets.add(value)
        elif isinstance(value, Mapping):
            for item in value.values():
                self._remember_secret(item)
        elif isinstance(value, list | tuple):
            for item in value:
                self._remember_secret(item)

    def message(self, value: Any) -> dict[str, Any] | None:
        """A LangChain message as `{type, name, content, tool_calls, tool_call_id, status}`."""
        kind = getattr(value, "type", None)
        if not isinstance(kind, str) or not hasattr(value, "content"):
            return None
        out: dict[str, Any] = {"type": kind}
        if getattr(value, "name", None):
            out["name"] = value.name
        out["content"] = self.plain(value.content)
        calls = getattr(value, "tool_calls", None)
        if calls:
            out["tool_calls"] = [
                {
                    "name": call.get("name"),
                    "args": self.plain(call.get("args") or {}),
                    "id": self.label("call", call.get("id")),
                }
                for call in calls
            ]
        if kind == "tool":
            out["tool_call_id"] = self.label("call", getattr(value, "tool_call_id", None))
            out["status"] = getattr(value, "status", None)
        return {k: v for k, v in out.items() if v is not None}

    def finish(self, data: Any) -> Any:
        """Replace raw ids and secret values left inside strings; labels become plain str."""
        pattern = self._leftovers()
        return self._finish(data, pattern)

    def _leftovers(self) -> re.Pattern[str] | None:
        self._replacements = dict.fromkeys(self._secrets, MASK)
        if self.normalise_ids:
            for (_, raw), label in self.labels.items():
                if isinstance(raw, str) and _LOOKS_GENERATED.search(raw):
                    self._replacements.setdefault(raw, label)
        if not self._replacements:
            return None
        alternatives = "|".join(re.escape(s) for s in sorted(self._replacements, key=len)[::-1])
        return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")

    def _finish(self, data: Any, pattern: re.Pattern[str] | None) -> Any:
        if isinstance(data, _Label):
            return str(data)
        if isinstance(data, str):
            return self.text(data, pattern)
        if isinstance(data, dict):
            out = {
                self._key_text(key, pattern): self._finish(v, pattern) for key, v in data.items()
            }
            renamed = any(new != old for new, old in zip(out, data, strict=True))
            return dict(sorted(out.items())) if renamed else out
        if isinstance(data, list):
            return [self._finish(item, pattern) for item in data]
        return data

    def _key_text(self, key: Any, pattern: re.Pattern[str] | None) -> Any:
        return self.text(key, pattern) if isinstance(key, str) else key

    def text(self, value: str, pattern: re.Pattern[str] | None) -> str:
        value = stable_text(value)
        if pattern is not None:
            value = pattern.sub(lambda m: self._replacements[m.group(0)], value)
        if self.normalise_ids:
            value = _UNKNOWN_ID.sub(lambda m: str(self.label("id", m.group(0))), value)
        return value


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z` (a naive time is taken as UTC, as freezegun gives it)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat() + "Z"


def seconds(delta: timedelta) -> int | float:
    """A duration in seconds, as an int when whole."""
    total = delta.total_seconds()
    return int(total) if total.is_integer() else total


def stable_text(text: str) -> str:
    """`text` without what varies by library version, machine or run (see the module docstring).

    `stable_text("For further information visit https://errors.pydantic.dev/2.14/v/missing")`
    gives `"... https://errors.pydantic.dev/<version>/v/missing"`; a path under this machine's
    site-packages becomes `<site-packages>/...`, an address `0x…`.
    """
    text = _VERSIONED_URL.sub(r"\1<version>", text)
    text = _LIBRARY_VERSION.sub(r"\1\2<version>", text)
    if "/" in text or "\\" in text:
        folders, names = _machine_folders(os.getcwd())
        text = folders.sub(lambda m: names[m.group(0)], text)
    if "/pytest-of-" in text:
        text = _PYTEST_TMP.sub("<tmp>/", text)
    text = _ADDRESS.sub(" at 0x…", text)
    return _DURATION.sub("<duration>", text)


@functools.lru_cache(maxsize=8)
def _machine_folders(cwd: str) -> tuple[re.Pattern[str], dict[str, str]]:
    """A pattern matching this machine's folders (longest first, whole path segments only),
    and the placeholder that replaces each."""
    paths = sysconfig.get_paths()
    found: dict[str, str] = {}
    for key, name in (
        ("purelib", "<site-packages>"),
        ("platlib", "<site-packages>"),
        ("stdlib", "<stdlib>"),
        ("platstdlib", "<stdlib>"),
    ):
        if paths.get(key):
            found.setdefault(paths[key], name)
    found.setdefault(cwd, "<cwd>")
    if sys.prefix != sys.base_prefix:  # a virtualenv (a system prefix like /usr is data too)
        found.setdefault(sys.prefix, "<prefix>")
    found = {prefix: name for prefix, name in found.items() if len(prefix) > 1}
    longest_first = sorted(found, key=len, reverse=True)
    alternatives = "|".join(re.escape(prefix) for prefix in longest_first)
    return re.compile(rf"(?<![\w.-])(?:{alternatives})(?![\w.-])"), found
