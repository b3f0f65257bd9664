"""What really ran, seen through callbacks and spies, without touching the agent."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from hitl_sim import Reviewer, ScriptedChatModel, Spy, approve, call, reject, say, simulate
from hitl_sim.errors import InvalidArgument


@Spy
def charge_card(amount: int, *, currency: str = "EUR") -> str:
    return f"charged {amount} {currency}"


@tool
def pay(amount: int) -> str:
    """Charge the customer's card."""
    return charge_card(amount, currency="USD")


@tool
def pay_from_thread(amount: int) -> str:
    """Charge the card from a worker thread of the tool's own."""
    worker = threading.Thread(target=charge_card, args=(amount,))
    worker.start()
    worker.join()
    return "charged"


@tool
def lookup(key: str) -> str:
    """Look something up."""
    return f"value of {key}"


@tool
def explode(reason: str) -> str:
    """A tool that fails."""
    raise RuntimeError(f"boom: {reason}")


def agent(turns, tools, gates=None):
    return create_agent(
        ScriptedChatModel(turns),
        tools=tools,
        middleware=[HumanInTheLoopMiddleware(interrupt_on=gates or {"pay": True})],
        checkpointer=InMemorySaver(),
        name="billing",
    )


def test_a_spy_records_side_effects_with_the_resume_they_happened_in():
    charge_card.calls.clear()
    graph = agent([call("pay", amount=5), say("paid")], [pay])

    run = simulate(graph, "pay 5", Reviewer([approve()]))

    assert [(e.name, e.args, dict(e.kwargs), e.resume) for e in run.side_effects] == [
        ("charge_card", (5,), {"currency": "USD"}, 1)
    ]
    assert [e.name for e in charge_card.calls] == ["charge_card"]
    assert [s.kind for s in run.steps] == [
        "model_turn",
        "interrupt",
        "decision",
        "resume",
        "tool",
        "tool",
        "model_turn",
        "finish",
    ]
    assert "r1 side effect charge_card(5, currency='USD')" in str(run)


def test_a_spy_called_outside_a_run_only_keeps_its_own_log():
    charge_card.calls.clear()

    assert charge_card(3) == "charged 3 EUR"
    assert [(c.args, c.resume) for c in charge_card.calls] == [((3,), 0)]
    assert repr(charge_card) == "Spy('charge_card', calls=1)"


def test_watch_catches_calls_from_threads_without_the_runs_context():
    graph = agent([call("pay_from_thread", amount=7), say("paid")], [pay_from_thread])

    unwatched = simulate(graph, "pay", Reviewer([reject("no")]), gated={"pay_from_thread"})
    graph = agent(
        [call("pay_from_thread", amount=7), say("paid")],
        [pay_from_thread],
        gates={"pay_from_thread": True},
    )
    watched = simulate(graph, "pay", Reviewer([approve()]), watch=[charge_card])

    assert unwatched.side_effects == []
    assert [(e.args, e.resume) for e in watched.side_effects] == [((7,), 1)]


def test_parallel_tool_calls_are_recorded_in_call_order_with_their_own_call_id():
    keys = [f"k{n}" for n in range(8)]
    graph = agent([[call("lookup", key=k) for k in keys], say("done")], [lookup])

    run = simulate(graph, "look up everything")

    assert [(e.call_id, e.args["key"], e.result) for e in run.executed] == [
        (f"call_{n + 1}", f"k{n}", f"value of k{n}") for n in range(8)
    ]
    assert {e.agent for e in run.executed} == {"billing"}
    assert {e.resume for e in run.executed} == {0}


def test_a_failing_tool_is_recorded_with_its_error_and_the_run_keeps_the_exception():
    graph = agent([call("explode", reason="disk full"), say("done")], [explode])

    run = simulate(graph, "go")

    [execution] = run.executed
    assert (execution.name, execution.error, execution.result) == (
        "explode",
        "RuntimeError: boom: disk full",
        None,
    )
    assert (run.error.type, run.error.message, run.error.node) == (
        "RuntimeError",
        "boom: disk full",
        "tools",
    )
    assert "tool explode(reason='disk full') [billing] raised RuntimeError: boom: disk full" in str(
        run
    )


def test_model_requests_show_what_the_model_saw_and_its_tools():
    graph = agent([call("lookup", key="a"), say("done")], [lookup, pay])

    run = simulate(graph, "go")

    first, second = run.model_requests
    assert (first.turn, first.agent, first.tools) == (1, "billing", ("lookup", "pay"))
    assert [m.type for m in second.messages] == ["human", "ai", "tool"]
    assert second.response.content == "done"


def test_the_run_and_the_fake_model_keep_the_same_record_of_each_model_call():
    model = ScriptedChatModel([call("pay", amount=5), say("paid")])
    graph = create_agent(
        model,
        tools=[pay],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"pay": True})],
        checkpointer=InMemorySaver(),
        name="billing",
    )

    run = simulate(graph, "pay 5", Reviewer([approve()]))

    assert [request.resume for request in run.model_requests] == [0, 1]
    assert [replace(request, resume=None) for request in run.model_requests] == model.requests
    assert [request.label for request in model.requests] == [
        "turn 1 of agent 'billing'",
        "turn 2 of agent 'billing'",
    ]


class Counting(BaseCallbackHandler):
    def __init__(self):
        self.tools = 0

    def on_tool_start(self, *args, **kwargs):
        self.tools += 1


def test_the_users_own_callbacks_keep_working():
    mine = Counting()
    graph = agent([call("lookup", key="a"), say("done")], [lookup])

    run = simulate(graph, "go", config={"callbacks": [mine]})

    assert mine.tools == 1
    assert len(run.executed) == 1
    assert run.config == {"callbacks": [mine], "configurable": {"thread_id": run.thread_id}}


class Mailer:
    @Spy
    def deliver(self, to: str) -> str:
        return f"delivered to {to}"


MAILER = Mailer()


@tool
def mail(to: str) -> str:
    """Mail someone."""
    return MAILER.deliver(to)


def test_a_spy_on_a_method_records_calls_through_instances():
    graph = agent([call("mail", to="bob"), say("done")], [mail], gates={"mail": True})

    run = simulate(graph, "go", Reviewer([approve()]))

    assert [(e.name, e.args, e.resume) for e in run.side_effects] == [
        ("deliver", (MAILER, "bob"), 1)
    ]
    assert run.executed[0].result == "delivered to bob"


def test_parallel_tools_are_published_in_call_order_run_after_run():
    keys = [f"k{n}" for n in range(6)]
    orders = {
        tuple(
            e.call_id
            for e in simulate(
                agent([[call("lookup", key=k) for k in keys], say("done")], [lookup]), "go"
            ).executed
        )
        for _ in range(5)
    }

    assert orders == {tuple(f"call_{n + 1}" for n in range(6))}


def test_watch_takes_spies_only():
    def plain(amount):
        return amount

    with pytest.raises(InvalidArgument) as caught:
        simulate(agent([say("hi")], [lookup]), "go", watch=[plain])

    assert str(caught.value) == (
        f"watch= got {plain!r}, which is not a Spy. Wrap the function your tools call: "
        "`send = Spy(send)` (or decorate it with @Spy), then pass watch=[send]."
    )


@Spy
def log_work(n: int) -> int:
    return n


@tool
def work(n: int) -> str:
    """Do some work; later calls finish first."""
    time.sleep(0.005 * (4 - n))
    log_work(n)
    return f"did {n}"


def test_a_spy_call_is_published_right_after_the_tool_that_made_it():
    def steps():
        graph = agent([[call("work", n=n) for n in range(4)], say("done")], [work])
        run = simulate(graph, "go", clock=False)
        return tuple(
            (type(step.record).__name__, repr(step.record.args))
            for step in run.steps
            if step.kind == "tool"
        )

    assert {steps() for _ in range(3)} == {
        (
            ("ToolExecution", "{'n': 0}"),
            ("SideEffect", "(0,)"),
            ("ToolExecution", "{'n': 1}"),
            ("SideEffect", "(1,)"),
            ("ToolExecution", "{'n': 2}"),
            ("SideEffect", "(2,)"),
            ("ToolExecution", "{'n': 3}"),
            ("SideEffect", "(3,)"),
        )
    }
