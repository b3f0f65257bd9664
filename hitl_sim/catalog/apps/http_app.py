"""The seeds' REST approval API (`POST /approve` resuming a thread, `GET /pending/{thread_id}`
showing the interrupt payload), a correct version and its broken twins, selected by `bugs=`:

- ``wrong_thread``: /approve resumes the thread that started last, not the one named;
- ``stale_pending``: /pending shows the first payload it ever cached for the thread, even
  after the run finished;
- ``hide_pending``: /pending looks for `__interrupt__` in the state values, and finds nothing;
- ``approve_only``: /approve takes approve and reject only, and answers 422 to an edit;
- ``no_checks``: /approve resumes whatever it is told (unknown thread, nothing pending, a stale
  interrupt id), as the seed does;
- ``no_lock``: no lock and no look at what is pending: two decisions for one thread run at once;
- ``notify_all``: with a webhook, notifies for every call of the turn, reviewed or not;
- ``notify_twice``: with a webhook, notifies twice per interrupt;
- ``wall_clock``: with a webhook, stamps notifications with a time of its own.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import BackgroundTasks, FastAPI, HTTPException, Response
from langgraph.types import Command
from pydantic import BaseModel

KNOWN_BUGS = (
    "wrong_thread", "stale_pending", "hide_pending", "approve_only", "no_checks", "no_lock",
    "notify_all", "notify_twice", "wall_clock",
)  # fmt: skip


class StartRequest(BaseModel):
    thread_id: str
    message: str


class ApprovalRequest(BaseModel):
    thread_id: str
    interrupt_id: str | None = None
    decisions: list[dict[str, Any]]


def _config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}}


def create_app(
    graph: Any,
    *,
    bugs: Iterable[str] = frozenset(),
    webhook: str | None = None,
    background: bool = False,
) -> FastAPI:
    """`background=True`: POST /runs answers 202 at once and runs the graph in a background
    task (the approver then polls /pending)."""
    bugs = frozenset(bugs)
    unknown = sorted(bugs - set(KNOWN_BUGS))
    if unknown:
        raise ValueError(f"unknown bugs {unknown}; known: {', '.join(KNOWN_BUGS)}")
    app = FastAPI()
    locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
    cached: dict[str, Any] = {}
    last: list[str] = []

    def pending_of(thread_id: str) -> list[Any]:
        state = graph.get_state(_config(thread_id))
        return [i for task in state.tasks for i in task.interrupts]

    def notify(thread_id: str, result: dict[str, Any]) -> None:
        if webhook is None or "__interrupt__" not in result:
            return
        now = datetime.now(UTC)
        if "wall_clock" in bugs:
            now += timedelta(seconds=1)
        for interrupt in result["__interrupt__"]:
            payloads = [{"interrupt_id": interrupt.id, "data": interrupt.value}]
            if "notify_all" in bugs:
                ai = result["messages"][-1]
                payloads += [
                    {
                        "interrupt_id": None,
                        "data": {"action_requests": [{"name": c["name"], "args": c["args"]}]},
                    }
                    for c in ai.tool_calls
                    if c["name"] not in [r["name"] for r in interrupt.value["action_requests"]]
                ]
            for payload in payloads * (2 if "notify_twice" in bugs else 1):
                httpx.post(
                    webhook,
                    json={
                        "type": "approval_needed",
                        "thread_id": thread_id,
                        **payload,
                        "timestamp": now.isoformat(),
                    },
                    timeout=5,
                )

    def outcome(thread_id: str, result: dict[str, Any]) -> dict[str, Any]:
        notify(thread_id, result)
        if "__interrupt__" in result:
            return {"status": "pending"}
        return {"status": "completed", "reply": str(result["messages"][-1].content)}

    def run(request: StartRequest) -> dict[str, Any]:
        result = graph.invoke({"messages": [("user", request.message)]}, _config(request.thread_id))
        return outcome(request.thread_id, result)

    @app.post("/runs")
    def start(request: StartRequest, tasks: BackgroundTasks, response: Response) -> dict[str, Any]:
        last.append(request.thread_id)
        if background:
            tasks.add_task(run, request)
            response.status_code = 202
            return {"status": "started"}
        return run(request)

    @app.get("/pending/{thread_id}")
    def get_pending(thread_id: str) -> dict[str, Any]:
        if "no_checks" not in bugs and graph.get_state(_config(thread_id)).created_at is None:
            raise HTTPException(404, f"unknown thread {thread_id!r}")
        waiting = pending_of(thread_id)
        if "hide_pending" in bugs:
            found = graph.get_state(_config(thread_id)).values.get("__interrupt__")
            waiting = list(found or [])
        if "stale_pending" in bugs and (waiting or thread_id in cached):
            if waiting:
                cached.setdefault(thread_id, waiting[0].value)
            return {"pending": True, "data": cached[thread_id]}
        if not waiting:
            return {"pending": False}
        return {"pending": True, "interrupt_id": waiting[0].id, "data": waiting[0].value}

    @app.post("/approve")
    def approve(request: ApprovalRequest) -> dict[str, Any]:
        thread_id = last[-1] if "wrong_thread" in bugs else request.thread_id  # the bug: a global
        if "approve_only" in bugs and any(d.get("type") == "edit" for d in request.decisions):
            raise HTTPException(422, "decisions must be approve or reject")
        lock = locks[thread_id]
        if "no_lock" not in bugs and not lock.acquire(blocking=False):
            raise HTTPException(409, f"a decision for thread {thread_id!r} is being applied")
        try:
            if not bugs & {"no_checks", "no_lock"}:
                named = request.thread_id
                if graph.get_state(_config(named)).created_at is None:
                    raise HTTPException(404, f"unknown thread {named!r}")
                waiting = pending_of(named)
                if not waiting:
                    raise HTTPException(409, f"nothing is pending on thread {named!r}")
                if request.interrupt_id not in (None, waiting[0].id):
                    raise HTTPException(
                        409, f"stale decision for interrupt {request.interrupt_id!r}"
                    )
            result = graph.invoke(
                Command(resume={"decisions": request.decisions}), _config(thread_id)
            )
            return outcome(thread_id, result)
        finally:
            if lock.locked() and "no_lock" not in bugs:
                lock.release()

    return app
