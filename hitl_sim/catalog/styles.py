"""Hand-written LangGraph HITL styles, as real `StateGraph`s, for scenario files to run.

Each factory is one approval pattern people write today with raw `interrupt()` or static
breakpoints (see "The built-in catalog" in docs/scenarios.md). They take the scripted `model`,
the file's fake `tools` and a `checkpointer`; scenario files name them as
`hitl_sim.catalog.styles:<factory>`. Tools run through LangChain's `tool.invoke`, so the
driver records
every execution.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode
from langgraph.types import Command, interrupt

Graph = CompiledStateGraph[Any, Any, Any, Any]


def _calls(state: MessagesState) -> list[Any]:
    last = state["messages"][-1] if state["messages"] else None
    return list(last.tool_calls) if isinstance(last, AIMessage) else []


def _run_calls(tools: Sequence[BaseTool], calls: Sequence[Any]) -> list[BaseMessage]:
    by_name = {tool.name: tool for tool in tools}
    return [by_name[call["name"]].invoke(call) for call in calls]


def _agent_node(model: BaseChatModel, tools: Sequence[BaseTool]) -> Any:
    bound = model.bind_tools(list(tools)) if tools else model

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [bound.invoke(state["messages"])]}

    return agent


def _declined(calls: Sequence[Any], reason: str) -> list[BaseMessage]:
    """ToolMessages that close the model's calls without running them."""
    return [ToolMessage(reason, tool_call_id=call["id"], name=call["name"]) for call in calls]


def _after_agent(
    schema: Any,
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    *steps: Any,
    checkpointer: Any,
    end: bool = True,
) -> Graph:
    """`START -> agent -> steps... -> END`, each step a node named after its function; with
    `end=False` the last step routes on by itself (it returns a `Command`)."""
    builder = StateGraph(schema)
    builder.add_node("agent", _agent_node(model, tools))
    builder.add_edge(START, "agent")
    previous = "agent"
    for step in steps:
        builder.add_node(step.__name__, step)
        builder.add_edge(previous, step.__name__)
        previous = step.__name__
    if end:
        builder.add_edge(previous, END)
    return builder.compile(checkpointer=checkpointer)


# --- simple approval ----------------------------------------------------------------------


def simple_approval(
    model: BaseChatModel, tools: Sequence[BaseTool], checkpointer: Any = None
) -> Graph:
    """`approval = interrupt("Proceed with this action?")`; truthy runs the model's calls."""

    def approve(state: MessagesState) -> dict[str, Any]:
        calls = _calls(state)
        if not calls:
            return {}
        if interrupt("Proceed with this action?"):
            return {"messages": _run_calls(tools, calls)}
        return {
            "messages": [
                *_declined(calls, "Action cancelled by user"),
                AIMessage("Action cancelled by user"),
            ]
        }

    return _after_agent(MessagesState, model, tools, approve, checkpointer=checkpointer)


# --- approval with modification -----------------------------------------------------------


def approval_with_modification(
    model: BaseChatModel, tools: Sequence[BaseTool], checkpointer: Any = None
) -> Graph:
    """The model drafts a call; the human approves it (optionally `edited`), rejects it, or asks
    for a new draft (any other `action`)."""

    def review(state: MessagesState) -> Command[Literal["agent", "__end__"]]:
        calls = _calls(state)
        if not calls:
            return Command(goto="__end__")
        call = calls[0]
        response = interrupt(
            {
                "type": "edit",
                "draft": {"tool": call["name"], "args": call["args"]},
                "instructions": "Edit the draft or approve as-is",
            }
        )
        if response.get("action") == "approve":
            args = response.get("edited", call["args"])
            return Command(
                goto="__end__", update={"messages": _run_calls(tools, [{**call, "args": args}])}
            )
        if response.get("action") == "reject":
            return Command(
                goto="__end__",
                update={
                    "messages": [*_declined(calls, "Draft rejected"), AIMessage("Draft rejected")]
                },
            )
        feedback = response.get("feedback", "Please write a new draft.")
        return Command(
            goto="agent",
            update={"messages": [*_declined(calls, "Regenerating..."), HumanMessage(feedback)]},
        )

    return _after_agent(MessagesState, model, tools, review, checkpointer=checkpointer, end=False)


# --- multi-level approval -----------------------------------------------------------------


class ApprovalState(MessagesState):
    approval_level: int
    approvers: list[str]


def multi_level_approval(
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    checkpointer: Any = None,
    levels: Sequence[str] = ("manager", "director", "vp"),
) -> Graph:
    """Each level in turn answers `{"level": ..., "message": ...}` with `{"approved": bool,
    "approver_id": ...}`; the model's calls run only when every level approved."""

    def approval(state: ApprovalState) -> Command[Literal["approval", "__end__"]]:
        level = state.get("approval_level", 0)
        calls = _calls(state)
        if level >= len(levels):
            return Command(goto="__end__", update={"messages": _run_calls(tools, calls)})
        approver = levels[level]
        answer = interrupt({"level": approver, "message": f"Approval needed from {approver}"})
        if answer.get("approved"):
            return Command(
                goto="approval",
                update={
                    "approval_level": level + 1,
                    "approvers": [*state.get("approvers", []), answer.get("approver_id")],
                },
            )
        reason = f"Rejected by {approver}"
        return Command(
            goto="__end__", update={"messages": [*_declined(calls, reason), AIMessage(reason)]}
        )

    return _after_agent(ApprovalState, model, tools, approval, checkpointer=checkpointer, end=False)


# --- tool-call review node / selective review ---------------------------------------------


def tool_call_review(
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    checkpointer: Any = None,
    sensitive: Sequence[str] | None = None,
) -> Graph:
    """A `review` node between the model and a `ToolNode`: the human sees the calls
    (`{"type": "tool_review", "tools": [...]}`) and answers `{"approved": bool,
    "approved_tools": [names]}`. With `sensitive`, only calls of those tools are put to the
    human (selective review); the others pass straight to the tools."""

    def review(state: MessagesState) -> Command[Literal["tools", "__end__"]]:
        calls = _calls(state)
        if not calls:
            return Command(goto="__end__")
        asked = [c for c in calls if sensitive is None or c["name"] in sensitive]
        if not asked:
            return Command(goto="tools")
        if sensitive is None:
            payload = {
                "type": "tool_review",
                "tools": [{"name": c["name"], "args": c["args"]} for c in asked],
                "message": "Review these tool calls before execution",
            }
        else:
            payload = {
                "sensitive_tools": [{"name": c["name"], "args": c["args"]} for c in asked],
                "message": "Sensitive operations require approval",
            }
        approval = interrupt(payload)
        if not approval.get("approved"):
            text = (
                "Tool execution cancelled by reviewer"
                if sensitive is None
                else ("Sensitive operation denied")
            )
            return Command(
                goto="__end__", update={"messages": [*_declined(calls, text), AIMessage(text)]}
            )
        allowed = approval.get("approved_tools")
        if allowed is None:
            return Command(goto="tools")
        dropped = [c for c in asked if c["name"] not in allowed]
        kept = [c for c in calls if c not in dropped]
        last = state["messages"][-1]
        narrowed = last.model_copy(update={"tool_calls": kept})
        return Command(
            goto="tools",
            update={"messages": [narrowed, *_declined(dropped, "Not approved by the reviewer")]},
        )

    builder = StateGraph(MessagesState)
    builder.add_node("agent", _agent_node(model, tools))
    builder.add_node("review", review)
    builder.add_node("tools", ToolNode(list(tools)))
    builder.add_edge(START, "agent")
    builder.add_edge("agent", "review")
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=checkpointer)


def selective_review(
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    checkpointer: Any = None,
    sensitive: Sequence[str] = ("send_email", "delete_record", "make_payment"),
) -> Graph:
    """`tool_call_review` that only asks about the `sensitive` tools."""
    return tool_call_review(model, tools, checkpointer, sensitive=list(sensitive))


# --- state editing / feedback loop ----------------------------------------------------------


class EditableState(MessagesState):
    metadata: dict[str, Any]


def state_editing(model: BaseChatModel, checkpointer: Any = None) -> Graph:
    """The human sees the model's output and may replace it (`{"modified": True,
    "new_output": ..., "new_metadata": {...}}`)."""

    def edit_state(state: EditableState) -> dict[str, Any]:
        last = state["messages"][-1]
        response = interrupt(
            {
                "type": "state_edit",
                "current_state": {"output": last.content, "metadata": state.get("metadata", {})},
                "message": "Review and modify state if needed",
            }
        )
        if not response.get("modified"):
            return {}
        replaced = AIMessage(response["new_output"], id=last.id)
        return {
            "messages": [replaced],
            "metadata": response.get("new_metadata", state.get("metadata", {})),
        }

    return _after_agent(EditableState, model, (), edit_state, checkpointer=checkpointer)


class FeedbackState(MessagesState):
    feedback_history: list[dict[str, Any]]
    iteration: int


def feedback_loop(model: BaseChatModel, checkpointer: Any = None, max_iterations: int = 5) -> Graph:
    """Generate, ask for feedback (`{"approved": bool, "feedback": ...}`), regenerate with the
    feedback as a new user message, until approved or `max_iterations`."""

    def feedback(state: FeedbackState) -> Command[Literal["agent", "__end__"]]:
        output = state["messages"][-1].content
        iteration = state.get("iteration", 0)
        answer = interrupt(
            {"output": output, "iteration": iteration, "message": "Provide feedback or approve"}
        )
        if answer.get("approved") or iteration + 1 >= max_iterations:
            return Command(goto="__end__")
        return Command(
            goto="agent",
            update={
                "feedback_history": [*state.get("feedback_history", []), answer],
                "iteration": iteration + 1,
                "messages": [HumanMessage(answer.get("feedback", ""))],
            },
        )

    return _after_agent(FeedbackState, model, (), feedback, checkpointer=checkpointer, end=False)


# --- static breakpoints --------------------------------------------------------------------


class ProposalState(MessagesState):
    approved: bool | None
    result: str | None


def interrupt_before(
    model: BaseChatModel, tools: Sequence[BaseTool], checkpointer: Any = None
) -> Graph:
    """`compile(interrupt_before=["execute"])`: the human sets `approved` with `update_state`
    before `execute` runs the model's proposed calls."""

    def execute(state: ProposalState) -> dict[str, Any]:
        calls = _calls(state)
        if not state.get("approved"):
            return {"result": "Action rejected by user", "messages": _declined(calls, "Rejected")}
        return {"result": "executed", "messages": _run_calls(tools, calls)}

    builder = StateGraph(ProposalState)
    builder.add_node("propose", _agent_node(model, tools))
    builder.add_node("execute", execute)
    builder.add_edge(START, "propose")
    builder.add_edge("propose", "execute")
    builder.add_edge("execute", END)
    return builder.compile(checkpointer=checkpointer, interrupt_before=["execute"])


class StepsState(TypedDict, total=False):
    steps: list[str]
    current_step: int
    processed: Annotated[list[str], operator.add]


def interrupt_after(checkpointer: Any = None) -> Graph:
    """`compile(interrupt_after=["process"])`: a pause after every processed step (no model)."""

    def process(state: StepsState) -> dict[str, Any]:
        step = state["steps"][state.get("current_step", 0)]
        return {"processed": [step]}

    def advance(state: StepsState) -> dict[str, Any]:
        return {"current_step": state.get("current_step", 0) + 1}

    def next_step(state: StepsState) -> str:
        return "complete" if state.get("current_step", 0) >= len(state["steps"]) else "process"

    builder = StateGraph(StepsState)
    builder.add_node("process", process)
    builder.add_node("review", advance)
    builder.add_edge(START, "process")
    builder.add_edge("process", "review")
    builder.add_conditional_edges("review", next_step, {"process": "process", "complete": END})
    return builder.compile(checkpointer=checkpointer, interrupt_after=["process"])


# --- several interrupts in one node / parallel branches -----------------------------------


class QuestionsState(TypedDict, total=False):
    answers: list[Any]
    attempts: Annotated[list[str], operator.add]


def multiple_interrupts(checkpointer: Any = None) -> Graph:
    """One node asks two questions in turn; it re-runs from the top on every resume."""

    def ask(state: QuestionsState) -> dict[str, Any]:
        recipient = interrupt({"question": "Who should receive the report?"})
        body = interrupt({"question": f"What should the report to {recipient} say?"})
        return {"answers": [recipient, body]}

    builder = StateGraph(QuestionsState)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    builder.add_edge("ask", END)
    return builder.compile(checkpointer=checkpointer)


class BranchState(TypedDict, total=False):
    decisions: Annotated[list[str], operator.add]


def parallel_branches(checkpointer: Any = None) -> Graph:
    """Two branches run in one superstep and each interrupts: two interrupts pending at once."""

    def branch(name: str) -> Any:
        def node(state: BranchState) -> dict[str, Any]:
            answer = interrupt({"branch": name, "question": f"Approve the {name} change?"})
            return {"decisions": [f"{name}:{answer}"]}

        return node

    def join(state: BranchState) -> dict[str, Any]:
        return {"decisions": ["joined"]}

    builder = StateGraph(BranchState)
    builder.add_node("left", branch("left"))
    builder.add_node("right", branch("right"))
    builder.add_node("join", join)
    builder.add_edge(START, "left")
    builder.add_edge(START, "right")
    builder.add_edge(["left", "right"], "join")
    builder.add_edge("join", END)
    return builder.compile(checkpointer=checkpointer)


# --- the agent's own approval deadline -----------------------------------------------------


class DeadlineState(MessagesState):
    requested_at: str


def approval_deadline(
    model: BaseChatModel,
    tools: Sequence[BaseTool],
    checkpointer: Any = None,
    deadline_hours: float = 24,
) -> Graph:
    """The agent's own timeout logic: an approval given after `deadline_hours` counts as a
    reject ("Approval timeout"), whatever it says. Elapsed time is read from the clock, so a
    reviewer's latency on the frozen clock exercises it."""

    def request(state: DeadlineState) -> dict[str, Any]:
        return {"requested_at": datetime.now(UTC).isoformat()}

    def approve(state: DeadlineState) -> dict[str, Any]:
        calls = [m for m in state["messages"] if isinstance(m, AIMessage)][-1].tool_calls
        answer = interrupt({"question": "Approve?", "calls": [c["name"] for c in calls]})
        waited = datetime.now(UTC) - datetime.fromisoformat(state["requested_at"])
        if waited > timedelta(hours=deadline_hours):
            reason = "Approval timeout"
            return {"messages": [*_declined(calls, reason), AIMessage(reason)]}
        if not answer.get("approved"):
            reason = answer.get("reason", "Rejected")
            return {"messages": [*_declined(calls, reason), AIMessage(reason)]}
        return {"messages": _run_calls(tools, calls)}

    return _after_agent(DeadlineState, model, tools, request, approve, checkpointer=checkpointer)


# --- typed confirmation / compiled subagent ------------------------------------------------


def typed_confirmation(
    model: BaseChatModel, tools: Sequence[BaseTool], checkpointer: Any = None
) -> Graph:
    """The "verify" confirmation level: the human must type `DELETE <args>` exactly; anything
    else cancels the model's calls."""

    def confirm(state: MessagesState) -> dict[str, Any]:
        calls = _calls(state)
        if not calls:
            return {}
        phrase = "DELETE " + " ".join(str(v) for c in calls for v in c["args"].values())
        typed = interrupt(
            {
                "action": ", ".join(c["name"] for c in calls),
                "level": "verify",
                "details": [c["args"] for c in calls],
                "verification_phrase": phrase,
            }
        )
        if typed == phrase:
            return {"messages": _run_calls(tools, calls)}
        reason = "Confirmation phrase did not match; nothing was done"
        return {"messages": [*_declined(calls, reason), AIMessage(reason)]}

    return _after_agent(MessagesState, model, tools, confirm, checkpointer=checkpointer)


def compiled_subagent_approval(
    model: BaseChatModel, tools: Sequence[BaseTool], checkpointer: Any = None
) -> Graph:
    """The deepagents docs' pattern: a `CompiledSubAgent` ("approval-agent", a `create_agent`
    agent) whose tools call `interrupt()` themselves; the interrupt surfaces at the parent."""
    from deepagents import create_deep_agent
    from deepagents.middleware.subagents import CompiledSubAgent
    from langchain.agents import create_agent

    subagent = create_agent(model, tools=list(tools), name="approval-agent")
    compiled = CompiledSubAgent(
        name="approval-agent",
        description="An agent that can request approvals",
        runnable=subagent,
    )
    graph: Graph = create_deep_agent(model=model, subagents=[compiled], checkpointer=checkpointer)
    return graph
