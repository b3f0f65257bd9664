"""A chat-style app whose chat box doubles as the approval field (the seeds' "Step 2": the
human's answer goes back through the app's normal input), a correct version and the seed's bug.
"""

from __future__ import annotations

from typing import Any

from langgraph.types import Command


def _config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}}


def _reply(result: dict[str, Any]) -> str:
    if "__interrupt__" in result:
        request = result["__interrupt__"][0].value["action_requests"][0]
        return f"Allow {request['name']}({request['args']})? Answer yes, or no and why."
    return str(result["messages"][-1].content)


class ChatApp:
    """Correct: while a review is pending, the reply is the human's answer, sent as a resume."""

    def __init__(self, graph: Any) -> None:
        self.graph = graph

    def send(self, thread_id: str, text: str) -> str:
        config = _config(thread_id)
        state = self.graph.get_state(config)
        waiting = [i for task in state.tasks for i in task.interrupts]
        if not waiting:
            return _reply(self.graph.invoke({"messages": [("user", text)]}, config))
        count = len(waiting[0].value["action_requests"])
        if text.strip().lower() in ("yes", "y", "approve"):
            decision: dict[str, Any] = {"type": "approve"}
        else:
            decision = {"type": "reject", "message": text}
        return _reply(self.graph.invoke(Command(resume={"decisions": [decision] * count}), config))


class SeedChatApp(ChatApp):
    """Broken, as in the seed: `app.ainvoke({"approved": approved}, config)`: the answer is sent
    as new input, which starts a new turn and drops the review."""

    def send(self, thread_id: str, text: str) -> str:
        return _reply(self.graph.invoke({"messages": [("user", text)]}, _config(thread_id)))
