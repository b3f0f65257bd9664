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


class Clock(Protocol):
    """A running frozen clock."""

    def tick(self, delta: timedelta) -> Any:
        """Move the frozen time on by `delta`."""


class _Travel:
    def __init__(self, traveller: Any) -> None:
        self.traveller = traveller

    def tick(self, delta: timedelta) -> None:
        self.traveller.shift(delta)


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
