"""Local answer validation: every problem LangGraph would turn into a poisoned thread."""

from __future__ import annotations

from hitl_sim import answer, approve, edit, reject, respond, unchecked, update
from hitl_sim.decisions import Decision
from hitl_sim.interrupts import ActionRequest, PendingInterrupt
from hitl_sim.reviewing.validation import problems
from tests.agents import delete_file, read_file, send_email

NODE = "HumanInTheLoopMiddleware.after_model"
ALL = ("approve", "edit", "reject", "respond")
EMAIL = ActionRequest("send_email", {"to": "bob", "body": "hi"}, None, ALL, "c1")
DELETE = ActionRequest("delete_file", {"path": "/x"}, None, ("approve", "reject"), "c2")
BATCH = PendingInterrupt("a" * 32, "batched", {}, NODE, (EMAIL, DELETE), seq=2)
WHERE = f"interrupt #2 (batched, node '{NODE}')"
TOOLS = {tool.name: tool for tool in (send_email, delete_file, read_file)}


def test_a_well_formed_answer_has_no_problems():
    assert problems(BATCH, [edit(to="alice"), reject("keep")], tools=TOOLS) == []
    assert problems(BATCH, [respond("later"), approve()], tools=TOOLS) == []


def test_the_count_must_equal_the_action_requests():
    assert problems(BATCH, [approve()]) == [
        f"{WHERE}: 1 decision for 2 action requests (send_email(to='bob', body='hi'), "
        "delete_file(path='/x')). Give exactly one decision per action request, in order, or "
        "answer by tool with Reviewer.by_tool({...})."
    ]


def test_each_type_must_be_allowed_for_its_tool():
    assert problems(BATCH, [approve(), edit(path="/y")]) == [
        f"{WHERE}, action 2 of 2 (delete_file): 'edit' is not allowed for 'delete_file'; "
        "allowed: approve, reject. Use one of those (the middleware's interrupt_on config for "
        "'delete_file' decides)."
    ]


def test_answer_and_update_cannot_answer_a_tool_review():
    assert problems(BATCH, [answer("yes"), update(x=1)]) == [
        f"{WHERE}, action 1 of 2 (send_email): answer('yes') cannot answer a tool review. Use "
        "approve(), edit(...), reject(...) or respond(...).",
        f"{WHERE}, action 2 of 2 (delete_file): update({{'x': 1}}) cannot answer a tool review. "
        "Use approve(), edit(...), reject(...) or respond(...).",
    ]


def test_respond_needs_a_message_and_reject_a_string_reason():
    assert problems(BATCH, [Decision("respond"), Decision("reject", message=3)]) == [  # type: ignore[arg-type]
        f"{WHERE}, action 1 of 2 (send_email): respond() needs the message text, e.g. "
        "respond('Bob is on holiday').",
        f"{WHERE}, action 2 of 2 (delete_file): reject() takes the reason as a str, got 3.",
    ]


def test_a_redirected_edit_must_name_a_known_tool():
    assert problems(BATCH, [edit("send_mail", {"to": "x"}), approve()], tools=TOOLS) == [
        f"{WHERE}, action 1 of 2 (send_email): edit() redirects the call to 'send_mail', which "
        "is not one of the agent's tools (delete_file, read_file, send_email). Redirect to one "
        "of those, or edit the arguments only."
    ]


def test_a_redirected_edit_must_carry_the_target_tools_required_arguments():
    assert problems(BATCH, [edit("delete_file", {}), approve()], tools=TOOLS) == [
        f"{WHERE}, action 1 of 2 (send_email): the edited call delete_file() lacks required "
        "argument 'path'. Pass them to edit(...) (a redirect to another tool takes its full "
        "arguments)."
    ]
    assert problems(BATCH, [edit("delete_file", {"path": "/y"}), approve()], tools=TOOLS) == []


def test_edit_arguments_must_be_a_mapping():
    bad = Decision("edit", args=["to", "x"])  # type: ignore[arg-type]
    assert problems(BATCH, [bad, approve()]) == [
        f"{WHERE}, action 1 of 2 (send_email): edit() arguments must be a mapping, got ['to', 'x']."
    ]


def test_unchecked_decisions_are_exempt():
    assert problems(BATCH, [unchecked({"type": "maybe"}), unchecked("approve")]) == []


def test_per_call_takes_exactly_one_valid_decision():
    one = PendingInterrupt("b" * 32, "per_call", {}, "tools", (DELETE,), seq=1)
    assert problems(one, [approve(), approve()]) == [
        "interrupt #1 (per_call, node 'tools'): 2 decisions; a per_call interrupt takes exactly "
        "one."
    ]
    assert problems(one, [respond("no")]) == [
        "interrupt #1 (per_call, node 'tools') (delete_file): 'respond' is not allowed for "
        "'delete_file'; allowed: approve, reject. Use one of those (the middleware's "
        "interrupt_on config for 'delete_file' decides)."
    ]


def test_raw_interrupts_take_a_value():
    ask = PendingInterrupt("c" * 32, "raw", {"question": "ok?"}, "ask", seq=3)
    assert problems(ask, [answer({"approved": True})]) == []
    assert problems(ask, [update(x=1)]) == [
        "interrupt #3 (raw, node 'ask'): update({'x': 1}) cannot answer a raw interrupt() "
        "(payload {'question': 'ok?'}). Use answer(value) with the value the node expects."
    ]
    assert problems(ask, [edit(x=1)]) == [
        "interrupt #3 (raw, node 'ask'): edit() without a tool name cannot answer a raw "
        "interrupt() (payload {'question': 'ok?'}): there is no call to edit. Use answer(value)."
    ]


def test_breakpoints_can_only_be_continued():
    stop = PendingInterrupt(None, "breakpoint", None, "execute", seq=1)
    assert problems(stop, [approve()]) == []
    assert problems(stop, [update(approved=True)]) == []
    assert problems(stop, [reject("no")]) == [
        "interrupt #1 (breakpoint, node 'execute'): reject('no') cannot answer a static "
        "breakpoint, which can only be continued. Use approve() to continue, or "
        "update(key=value) to write state first."
    ]


def test_a_per_call_edit_cannot_redirect_to_another_tool():
    one = PendingInterrupt("b" * 32, "per_call", {}, "tools", (EMAIL,), seq=1)
    assert problems(one, [edit("delete_file", {"path": "/y"})], tools=TOOLS) == [
        "interrupt #1 (per_call, node 'tools') (send_email): edit() redirects the call to "
        "'delete_file', but a per_call review only accepts edits of 'send_email' itself (its "
        "response_schema pins the tool name). Edit the arguments only, or reject it."
    ]
    assert problems(one, [edit("send_email", {"to": "x", "body": "y"})], tools=TOOLS) == []
