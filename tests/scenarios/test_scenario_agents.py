"""Building from scenario files: conditions, fake tools, reviewers."""

from __future__ import annotations

import pytest

from hitl_sim import approve, reject
from hitl_sim.errors import ScenarioError, ScriptExhausted
from hitl_sim.scenarios.build import Batches, build_reviewer, build_tool, holds
from hitl_sim.scenarios.schema import Condition, ReviewerSpec, ToolSpec


@pytest.mark.parametrize(
    ("condition", "args", "expected"),
    [
        ({"arg": "path", "equals": "/etc"}, {"path": "/etc"}, True),
        ({"arg": "path", "not_equals": "/etc"}, {"path": "/etc"}, False),
        ({"arg": "path", "startswith": "/etc"}, {"path": "/etc/hosts"}, True),
        ({"arg": "path", "endswith": ".db"}, {"path": "/srv/a.txt"}, False),
        ({"arg": "to", "contains": "@corp"}, {"to": "bob@corp.com"}, True),
        ({"arg": "tags", "contains": "x"}, {"tags": ["x", "y"]}, True),
        ({"arg": "amount", "contains": 1}, {"amount": 12}, False),
        ({"arg": "query", "matches": "(?i)password"}, {"query": "select PASSWORD"}, True),
        ({"arg": "to", "in": ["ACME", "Globex"]}, {"to": "Initech"}, False),
        ({"arg": "amount", "gt": 1000}, {"amount": 1000}, False),
        ({"arg": "amount", "ge": 1000}, {"amount": 1000}, True),
        ({"arg": "amount", "lt": 10}, {"amount": 9.5}, True),
        ({"arg": "amount", "le": 10}, {"amount": "ten"}, False),
        ({"arg": "items", "longer_than": 2}, {"items": [1, 2, 3]}, True),
        ({"arg": "missing", "equals": None}, {}, True),
        ({"all": [{"arg": "a", "equals": 1}, {"arg": "b", "equals": 2}]}, {"a": 1, "b": 3}, False),
        ({"any": [{"arg": "a", "equals": 1}, {"arg": "b", "equals": 2}]}, {"a": 1, "b": 3}, True),
        ({"not": {"arg": "a", "equals": 1}}, {"a": 1}, False),
    ],
)
def test_conditions(condition, args, expected):
    assert holds(Condition.model_validate(condition), args) is expected


def test_a_tool_returns_scripted_results_in_order_then_says_it_ran_out():
    tool = build_tool(
        "fetch", ToolSpec(args={"id": "int"}, returns=("first {id}", "second {id}")), "f.yaml"
    )
    assert [tool.invoke({"id": 1}), tool.invoke({"id": 2})] == ["first 1", "second 2"]
    with pytest.raises(ScriptExhausted) as caught:
        tool.invoke({"id": 3})
    assert str(caught.value) == (
        "f.yaml: tool 'fetch' was called 3 times but the file scripts 2 result(s): "
        "['first {id}', 'second {id}'].\n"
        "Add a result to `tools.fetch.returns`, or use one string for every call."
    )


def test_a_tool_result_template_naming_an_unknown_field_is_a_scenario_error():
    tool = build_tool("send", ToolSpec(args={"to": "str"}, returns="sent to {recipient}"), "f")
    with pytest.raises(ScenarioError) as caught:
        tool.invoke({"to": "bob"})
    assert str(caught.value) == (
        "f: tool 'send': result template 'sent to {recipient}' names 'recipient', which this "
        "call does not have (arguments: ['to']).\n"
        "Use only the tool's arguments (and {answer} for a tool that `asks`); write literal "
        "braces as {{ }}."
    )


def test_a_tool_can_raise_and_validates_its_arguments():
    tool = build_tool("boom", ToolSpec(args={"n": "int"}, raises="disk full"))
    with pytest.raises(RuntimeError, match="^disk full$"):
        tool.invoke({"n": 1})
    with pytest.raises(ValueError, match="Input should be a valid integer"):
        tool.invoke({"n": "many"})


def test_reviewer_forms_keep_their_scripts():
    assert build_reviewer(None) is None
    assert build_reviewer(
        ReviewerSpec.model_validate({"decisions": ["approve", "reject"]})
    ).unused() == [
        approve(),
        reject(),
    ]
    assert build_reviewer(ReviewerSpec.model_validate({"always": "approve"})).unused() == []
    by_tool = {"by_tool": {"send_email": ["approve"], "rm": "reject"}, "default": "approve"}
    assert build_reviewer(ReviewerSpec.model_validate(by_tool)).unused() == [approve()]
    chain = {"chain": {"manager": "approve", "vp": ["reject"]}}
    assert build_reviewer(ReviewerSpec.model_validate(chain)).unused() == [reject()]
    rules = {"rules": [{"match": {"path": {"startswith": "/etc"}}, "decide": ["reject"]}]}
    assert build_reviewer(ReviewerSpec.model_validate(rules)).unused() == [reject()]


def test_batches_answer_whole_interrupts_and_report_running_out():
    from hitl_sim.interrupts import PendingInterrupt

    batches = Batches([[approve(), reject()]])
    pending = PendingInterrupt(id="i1", kind="batched", value={}, node="n", seq=1)
    assert batches.unused() == [approve(), reject()]
    assert batches.decide(pending, None) == [approve(), reject()]
    with pytest.raises(ScriptExhausted, match=r"^The reviewer's batches ran out at interrupt #1"):
        batches.decide(pending, None)
