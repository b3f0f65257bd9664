"""ScriptedDecisionModel / FunctionDecisionModel: scripted answers for decision models (langchain
core 1.8), what they record, and how they fail. The agent tests are in test_policy.py."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("langchain_core.decisions", reason="decision models need langchain-core >= 1.8")

from langchain_core.decisions import (  # noqa: E402
    Choice,
    ClassifierResponse,
    Noul,
    NoulAnswer,
    Score,
)

from hitl_sim import ScriptExhausted  # noqa: E402
from hitl_sim.errors import InvalidArgument, ScenarioError, UnusedScript  # noqa: E402
from hitl_sim.models import FunctionDecisionModel, ScriptedDecisionModel, allow, block  # noqa: E402


def _ask(model, name="delete_file", call_id="call_1", **args):
    return model.invoke(
        {
            "state": {
                "messages": [],
                "tool_call": {"id": call_id, "name": name, "args": args or {"path": "/etc"}},
            },
            "questions": {"is_risky": Noul(instructions="Risky?")},
        }
    )


def test_verdicts_answer_the_noul_question_in_order_and_are_recorded():
    model = ScriptedDecisionModel([allow(), block("outside /tmp", probability=0.8)])
    first, second = _ask(model, path="/tmp/a"), _ask(model, call_id="call_2")
    assert first.nouls["is_risky"].noul == 0.0
    assert second.nouls["is_risky"].noul == 0.8
    assert second.model == "hitl-sim-decisions"
    assert model.remaining == []
    model.assert_consumed()
    request = model.requests[1]
    assert (request.turn, request.tool_call["name"], request.messages) == (2, "delete_file", ())
    assert request.describe() == "delete_file(path='/etc') [call_2]"
    assert request.scripted == block("outside /tmp", probability=0.8)
    assert request.response == second


def test_running_out_names_the_call_and_what_was_consumed_and_never_cycles():
    model = ScriptedDecisionModel([allow("reads only")])
    _ask(model, path="/tmp/a")
    with pytest.raises(ScriptExhausted) as raised:
        _ask(model, call_id="call_2", path="/etc/hosts")
    assert raised.value.args == (
        "ScriptedDecisionModel ran out of decisions: it was asked for decision 2, about "
        "delete_file(path='/etc/hosts') [call_2], but the script has 1 decision.\n"
        "Consumed before it:\n"
        "- decision 1, delete_file(path='/tmp/a') [call_1]: allow('reads only')\n"
        "Add a decision for it (block('reason') or allow()), or find out why the policy was "
        "asked again.",
    )
    assert raised.value.consumed == [allow("reads only")]
    with pytest.raises(ScriptExhausted):
        _ask(model)  # still out: no cycling back to the first decision


def test_an_empty_script_runs_out_at_the_first_question():
    with pytest.raises(ScriptExhausted) as raised:
        _ask(ScriptedDecisionModel([]))
    assert str(raised.value) == (
        "ScriptedDecisionModel ran out of decisions: it was asked for decision 1, about "
        "delete_file(path='/etc') [call_1], but the script has 0 decisions.\n"
        "Add a decision for it (block('reason') or allow()), or find out why the policy was "
        "asked again."
    )


def test_unused_decisions_are_listed():
    model = ScriptedDecisionModel([allow(), block("no"), block()])
    _ask(model)
    assert model.remaining == [block("no"), block()]
    with pytest.raises(UnusedScript) as raised:
        model.assert_consumed()
    assert str(raised.value) == (
        "ScriptedDecisionModel has 2 scripted decisions nobody asked for:\n"
        "- decision 2: block('no')\n"
        "- decision 3: block()\n"
        "Remove them from the script, or find out why the policy classified fewer tool calls "
        "(a call the reviewer rejected never reaches it)."
    )


def test_ainvoke_answers_from_the_same_script():
    model = ScriptedDecisionModel([block("async")])
    response = asyncio.run(
        model.ainvoke(
            {"state": "x", "questions": {"q": Noul(instructions="?")}},
        )
    )
    assert response.nouls["q"].noul == 1.0
    assert model.requests[0].describe() == "questions 'q'"


def test_other_questions_take_a_mapping_of_answers():
    model = ScriptedDecisionModel([{"route": "fast", "level": 2, "urgent": 0.3}])
    response = model.invoke(
        {
            "state": "help",
            "questions": {
                "route": Choice(instructions="?", criteria={"fast": "x", "slow": "y"}),
                "level": Score(instructions="?", criteria=["a", "b", "c"]),
                "urgent": Noul(instructions="?"),
            },
        }
    )
    assert response.choices["route"].choice == "fast"
    assert response.choices["route"].probabilities == {"fast": 1.0, "slow": 0.0}
    assert response.scores["level"].score == 2.0
    assert response.scores["level"].legend == {0: "a", 1: "b", 2: "c"}
    assert response.nouls["urgent"].noul == 0.3


def test_a_classifier_response_is_sent_as_is():
    given = ClassifierResponse(
        model="m", answers={"is_risky": NoulAnswer(type="noul", noul=0.6)}, request_id="r1"
    )
    response = _ask(ScriptedDecisionModel([given]))
    assert response == given and response is not given


def test_a_verdict_for_a_request_with_other_questions_says_what_to_script():
    model = ScriptedDecisionModel([block()])
    with pytest.raises(ScenarioError) as raised:
        model.invoke(
            {
                "state": "x",
                "questions": {"route": Choice(instructions="?", criteria={"fast": "x"})},
            }
        )
    assert str(raised.value) == (
        "ScriptedDecisionModel decision 1 (questions 'route'): scripted block() answers one "
        "yes/no (Noul) question, but the request asks 'route' (choice).\n"
        "Script a mapping from question id to answer for it, e.g. {'route': ...}."
    )


@pytest.mark.parametrize(
    ("scripted", "message"),
    [
        (
            {"other": 0.1},
            "ScriptedDecisionModel decision 1 (delete_file(path='/etc') [call_1]): the scripted "
            "answers are for ['other'], but the request asks ['is_risky'].\n"
            "Script exactly one answer per question id.",
        ),
        (
            {"is_risky": "yes"},
            "ScriptedDecisionModel decision 1 (delete_file(path='/etc') [call_1]), 'is_risky': a "
            "noul question needs block(...), allow() or a probability, got 'yes'.",
        ),
    ],
)
def test_mismatched_answers_are_refused(scripted, message):
    with pytest.raises(ScenarioError) as raised:
        _ask(ScriptedDecisionModel([scripted]))
    assert str(raised.value) == message


def test_a_choice_label_must_be_one_of_the_choices():
    model = ScriptedDecisionModel([{"route": "medium"}])
    with pytest.raises(ScenarioError, match=r"'medium' is not one of the choice's labels"):
        model.invoke(
            {
                "state": "x",
                "questions": {"route": Choice(instructions="?", criteria={"fast": "x"})},
            }
        )


@pytest.mark.parametrize(
    ("made", "message"),
    [
        (
            lambda: block(probability=0.2),
            "block(probability=0.2) is outside 0.5 <= probability <= 1.0: AutoModeMiddleware "
            "blocks a call at probability 0.5 or more. Use block(...) for a refusal and "
            "allow(...) for a pass.",
        ),
        (
            lambda: allow(probability=0.5),
            "allow(probability=0.5) is outside 0.0 <= probability < 0.5: AutoModeMiddleware "
            "blocks a call at probability 0.5 or more. Use block(...) for a refusal and "
            "allow(...) for a pass.",
        ),
        (lambda: block(3), "block() takes the reason as a str, got 3."),
        (
            lambda: ScriptedDecisionModel("block"),
            "ScriptedDecisionModel needs a list of decisions, got 'block'.\n"
            "Pass e.g. [allow(), block('Deletes outside /tmp')].",
        ),
        (
            lambda: ScriptedDecisionModel([allow(), "no"]),
            "ScriptedDecisionModel decision 2 is 'no': a decision is block('reason'), allow(), a "
            "probability between 0 and 1, a mapping from question id to answer, or a "
            "ClassifierResponse.",
        ),
        (
            lambda: FunctionDecisionModel("no"),
            "FunctionDecisionModel needs a function (request) -> decision, got 'no'.",
        ),
    ],
)
def test_bad_arguments_are_invalid(made, message):
    with pytest.raises(InvalidArgument) as raised:
        made()
    assert str(raised.value) == message


def test_verdicts_print_as_written():
    assert [repr(v) for v in (block(), block("r", probability=0.7), allow(), allow("ok"))] == [
        "block()",
        "block('r', probability=0.7)",
        "allow()",
        "allow('ok')",
    ]


def test_function_model_decides_from_the_request():
    def policy(request):
        return allow() if request.tool_call["args"]["path"].startswith("/tmp") else block("no")

    model = FunctionDecisionModel(policy)
    assert _ask(model, path="/tmp/a").nouls["is_risky"].noul == 0.0
    assert _ask(model, path="/etc").nouls["is_risky"].noul == 1.0
    assert [r.scripted for r in model.requests] == [allow(), block("no")]


def test_function_model_results_are_checked():
    model = FunctionDecisionModel(lambda request: "maybe")
    with pytest.raises(InvalidArgument, match=r"^FunctionDecisionModel decision 1 is 'maybe'"):
        _ask(model)
