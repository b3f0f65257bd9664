"""A `Ledger`: an append-only file the tools write, so side effects are counted across processes
(a restarted or killed process cannot keep them in memory)."""

from __future__ import annotations

import fcntl
import json
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


class Ledger:
    """An append-only file of side effects, shared by every process that writes it.

    Tools call `ledger.record("send_email", to=...)`; tests read `names()` / `entries()` to see
    what really ran, and `repeated()` for what ran more than once, across restarts and crashes.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    def record(self, name: str, **data: Any) -> None:
        """Append one entry: one `write` of one line, synced, so lines never interleave.

        A tool that records `tool_call_id=` (LangChain's `InjectedToolCallId`) lets a
        `CrashReport` tell which tool calls started without their result being saved."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            self._append(fd, name, data)
        finally:
            os.close(fd)

    def record_once(self, key: str, name: str, /, **data: Any) -> bool:
        """Record the entry unless one with this idempotency `key` is already in the ledger
        (stored as `idempotency_key`).

        Returns whether it was recorded. The ledger plays an external system that honours an
        idempotency key (a payment API, a mail service keyed by message id): key the effect by
        the tool call's `tool_call_id`, which LangGraph keeps when it re-runs the tool after a
        crash, and the second run of the tool does not repeat the effect. The check and the
        write happen under one file lock, so two processes cannot both record the key.
        """
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if any(entry.get("idempotency_key") == key for entry in self.entries()):
                return False
            self._append(fd, name, {**data, "idempotency_key": key})
            return True
        finally:
            os.close(fd)  # releases the lock

    @staticmethod
    def _append(fd: int, name: str, data: Mapping[str, Any]) -> None:
        line = json.dumps({"name": name, **data, "pid": os.getpid()}, sort_keys=True) + "\n"
        os.write(fd, line.encode())
        os.fsync(fd)

    def entries(self) -> list[dict[str, Any]]:
        """Every entry, oldest first (none while the file does not exist)."""
        if not self.path.exists():
            return []
        lines = self.path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]

    def names(self) -> list[str]:
        return [entry["name"] for entry in self.entries()]

    def repeated(self) -> list[str]:
        """Entries (name and data, any process) recorded more than once, as `name(data) xN`."""
        keys = Counter(_without_pid(entry) for entry in self.entries())
        return [f"{key} x{count}" for key, count in keys.items() if count > 1]


def _without_pid(entry: Mapping[str, Any]) -> str:
    data = ", ".join(f"{k}={v!r}" for k, v in sorted(entry.items()) if k not in ("name", "pid"))
    return f"{entry['name']}({data})"
