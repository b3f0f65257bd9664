"""The frozen clock `simulate()` runs under.

`frozen(start)` stops wall-clock time at `start` (timezone UTC) until the block ends; `tick(delta)`
moves it on. It uses time-machine, which patches `datetime.now`, `time.time` and friends at the C
level: starting and stopping it costs microseconds, where freezegun scans every loaded module on
each start. When the test already froze time with freezegun, it uses freezegun instead (a nested
freeze only pushes the new time), so code patched by the outer freeze keeps seeing the same clock
(time-machine refuses to start under an active freezegun freeze anyway).

Either way, worker threads see the frozen time too; monotonic clocks (`time.monotonic`,
`time.perf_counter`, asyncio's loop time) keep running under time-machine, so timeouts and
pytest's durations are unaffected.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from hitl_sim.errors import InvalidValue, excerpt

EARLIEST_START = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_START = datetime(3000, 1, 1, tzinfo=UTC)
"""A frozen clock starts from 1970 up to (not including) 3000, UTC. Before 1970, time.time() is
negative; LangGraph's checkpoint ids (uuid6) run out in 5236, and a run may add many latencies of
up to a year each (`hitl_sim.decisions.MAX_LATENCY`) after the start."""


class Clock(Protocol):
    """A running frozen clock."""

    def tick(self, delta: timedelta) -> Any:
        """Move the frozen time on by `delta`."""


class _Travel:
    def __init__(self, traveller: Any) -> None:
        self.traveller = traveller

    def tick(self, delta: timedelta) -> None:
        self.traveller.shift(delta)


def start_time(start: datetime | str, name: str = "clock") -> datetime:
    """`start` (a datetime, or an ISO 8601 string) as an aware datetime, checked to be in range.

    Naive datetimes are taken as UTC. Raises `InvalidValue` naming the value and the range.
    """
    given = start
    if isinstance(start, str):
        try:
            start = datetime.fromisoformat(start)
        except ValueError:
            raise InvalidValue(
                f"{name}={excerpt(given)} is not an ISO 8601 date-time. Expected e.g. "
                f"{name}='2030-01-01T09:00:00+00:00' or a datetime."
            ) from None
    aware = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
    if not EARLIEST_START <= aware < LATEST_START:
        raise InvalidValue(
            f"{name}={excerpt(given)} is out of range. A frozen clock starts from "
            "1970-01-01T00:00:00+00:00 up to (not including) 3000-01-01T00:00:00+00:00, e.g. "
            f"{name}='2030-01-01T09:00:00+00:00'."
        )
    return aware


def freezegun_active() -> bool:
    """Whether a freezegun freeze is running (without importing freezegun)."""
    api = sys.modules.get("freezegun.api")
    return bool(getattr(api, "freeze_factories", None))


@contextlib.contextmanager
def frozen(start: datetime, *, real_asyncio: bool = False) -> Iterator[Clock]:
    """Freeze wall-clock time at `start` (naive: taken as UTC) for the block.

    `real_asyncio=True` keeps asyncio's own clock real under a nested freezegun freeze
    (time-machine never touches monotonic clocks).
    """
    start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
    if freezegun_active():
        from freezegun import freeze_time

        with freeze_time(start, real_asyncio=real_asyncio) as clock:
            yield clock
        return
    import time_machine

    with time_machine.travel(start, tick=False) as traveller:
        yield _Travel(traveller)


def checkpoint_ids_after(checkpoint_id: str) -> None:
    """Make LangGraph's next checkpoint ids sort after `checkpoint_id`, whatever the clock says.

    Checkpoint ids are uuid6 of the current time, kept increasing only inside one process (a
    module-level guard in `langgraph.checkpoint.base.id`). A process that takes over a thread
    another process wrote, frozen at the same instant or earlier (or at real time, behind a frozen
    2030), would write SMALLER ids, and the thread's head would silently fall back to an old
    checkpoint (semantics reference, clocks). Raising the guard to the thread's head id keeps new
    ids after it without moving the clock the test asked for.
    """
    from langgraph.checkpoint.base import id as ids

    bits = int(checkpoint_id.replace("-", ""), 16)
    ticks = ((bits >> 80) << 12) | ((bits >> 64) & 0x0FFF)
    last: int | None = getattr(ids, "_last_v6_timestamp", None)
    if last is None or last < ticks:
        setattr(ids, "_last_v6_timestamp", ticks)  # noqa: B010 (a private guard, typed None)
