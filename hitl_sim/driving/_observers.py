"""Who hears of the runs the module functions make (`simulate`, `asimulate`, `resume`, `aresume`,
`recover`, `arecover`): the dependency inversion that lets `hitl_sim.harness.HitlSim`, a layer
above the driver, check a plain `hitl_sim.simulate(...)` run made while it is active.

`observing_runs(observer)` makes `observer` the one of the current context (a `ContextVar`, so
asyncio tasks started inside inherit it; a nested block wins until it ends). Every run one of the
module functions returns is passed to the observer, once per call: a continued run (`resume(graph,
run)`, `recover(run, ...)`) is passed again, as the same `Run` object.

Two rules decide which runs are observed:

- Only runs started by code outside hitl-sim. The fixture's own `HitlSim.simulate`, the scenario
  runner, the fuzz bench and the durability helpers call the module functions too; their runs are
  theirs to check (the caller's module name decides, as `Run.error_inspected` does for reads).
- A thread does not inherit a context variable (`threading.Thread`, a `ThreadPoolExecutor`), so
  a run made where no observer is set goes to the one observer active in the whole process, if
  there is exactly one (the usual case: one test, one fixture); with none or several, it goes to
  none. `asyncio.to_thread` and `contextvars.copy_context().run` carry the context's observer.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hitl_sim.run import Run

RunObserver = Callable[["Run"], None]
"""Called with each run a module function returns."""

_OBSERVER: ContextVar[RunObserver | None] = ContextVar("hitl_sim_run_observer", default=None)
_ACTIVE: list[RunObserver] = []
"""Every observer whose block has not ended, in any thread or context (for the fallback)."""
_LOCK = threading.Lock()


@contextmanager
def observing_runs(observer: RunObserver) -> Iterator[None]:
    """Pass every run the module functions return, inside the block, to `observer`."""
    token = _OBSERVER.set(observer)
    with _LOCK:
        _ACTIVE.append(observer)
    try:
        yield
    finally:
        with _LOCK:
            _ACTIVE[:] = [other for other in _ACTIVE if other is not observer]
        # A block that ends in another context (an async fixture's teardown) cannot reset:
        # that context keeps the ended observer, which `_current` ignores.
        with suppress(ValueError):
            _OBSERVER.reset(token)


def _current() -> RunObserver | None:
    observer = _OBSERVER.get()
    with _LOCK:
        if observer is not None and any(o is observer for o in _ACTIVE):
            return observer
        return _ACTIVE[0] if len(_ACTIVE) == 1 else None


def caller_module(depth: int = 2) -> str:
    """The module name of the code that called the function calling this (`depth` frames up)."""
    return str(sys._getframe(depth).f_globals.get("__name__", ""))


def observed(run: Run, caller: str) -> Run:
    """`run`, after passing it to the current observer if `caller` (a module name) is not
    hitl-sim's own code."""
    if caller == "hitl_sim" or caller.startswith("hitl_sim."):
        return run
    observer = _current()
    if observer is not None:
        observer(run)
    return run
