"""Scenario files: loading, the schema's error messages, and the runner's verdicts."""

from __future__ import annotations

import textwrap
from datetime import timedelta

import pytest

from hitl_sim import approve, edit, reject
from hitl_sim.errors import ScenarioError
from hitl_sim.scenarios.loader import find_scenario_files, load_scenario, load_scenarios
from hitl_sim.scenarios.runner import run_scenario
from hitl_sim.scenarios.schema import duration
from tests.scenarios import EMAIL_AGENT, write


def error_of(path):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return str(caught.value)


# --- loading --------------------------------------------------------------------------------


def test_a_file_loads_into_a_scenario_named_after_the_file(tmp_path):
    path = write(
        tmp_path, EMAIL_AGENT + "reviewer: [approve, {reject: no thanks, by: vp, after: 2h}]\n"
    )
    scenario = load_scenario(path)
    assert scenario.name == "case"
    assert scenario.where == f"{path}::case"
    assert scenario.reviewer.decisions == (approve(), reject("no thanks", by="vp", after=7200))
    assert [turn.calls[0].name for turn in scenario.model[:1]] == ["send_email"]
    assert scenario.model[1].text == "Sent."


def test_a_named_set_shares_keys_and_merges_run_and_expect(tmp_path):
    path = write(
        tmp_path,
        EMAIL_AGENT
        + textwrap.dedent(
            """\
            reviewer: [approve]
            expect: {status: finished, executed: [send_email]}
            scenarios:
              sync: {description: invoke}
              streamed:
                description: stream
                run: {mode: stream}
                expect: {final_message: Sent.}
            """
        ),
    )
    sync, streamed = load_scenarios(path)
    assert (sync.name, streamed.name) == ("sync", "streamed")
    assert streamed.run.mode == "stream"
    assert streamed.expect.status == "finished"
    assert streamed.expect.final_message.equals == "Sent."
    assert load_scenario(path, "streamed") == streamed


def test_edit_decisions_keep_arguments_or_redirect(tmp_path):
    path = write(
        tmp_path,
        EMAIL_AGENT
        + "reviewer:\n  - edit: {to: team@example.com}\n  - {edit: {path: /x}, redirect: rm}\n",
    )
    assert load_scenario(path).reviewer.decisions == (
        edit(to="team@example.com"),
        edit("rm", {"path": "/x"}),
    )


@pytest.mark.parametrize(
    ("given", "seconds"), [(90, 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("1.5d", 129600)]
)
def test_durations(given, seconds):
    assert duration(given) == timedelta(seconds=seconds)


def test_snapshot_files_are_not_scenario_files(tmp_path):
    write(tmp_path, EMAIL_AGENT, "a.yaml")
    (tmp_path / "__snapshots__").mkdir()
    write(tmp_path / "__snapshots__", "x: 1\n", "a.yaml")
    assert find_scenario_files([tmp_path]) == [tmp_path / "a.yaml"]


# --- error messages -------------------------------------------------------------------------


def test_errors_name_file_line_key_expectation_and_fix(tmp_path):
    path = write(
        tmp_path,
        """\
        description: x
        agent:
          kind: create_agent
          interrupt_on:
            send_email:
              allowed_decisions: [approve, aprove]
        reviewer:
          - {reject: no thanks, after: soon}
        expect:
          executd: []
        """,
    )
    assert error_of(path) == (
        f"{path}: 3 problem(s) in scenario file:\n"
        f"- {path}:6: agent.interrupt_on.send_email.allowed_decisions[1]: Input should be "
        "'approve', 'edit', 'reject' or 'respond' (got 'aprove').\n"
        "  Fix: set `agent.interrupt_on.send_email.allowed_decisions[1]` to one of the values "
        "listed above.\n"
        f"- {path}:8: reviewer[0]: 'soon' is not a duration; write seconds (90) or e.g. '15m', "
        "'2h', '1d'\n"
        "  Fix: change `reviewer[0]` as described above (see docs/scenarios.md).\n"
        f"- {path}:10: expect.executd: unknown key 'executd'. Expected one of: status, executed, "
        "not_executed, final_message, error, raises, interrupts, pending, violations, "
        "checks_off, model_saw, state, model_calls, decisions, snapshot, prompts, "
        "frontend_violations. Did you mean "
        "'executed'?\n"
        "  Fix: remove or rename `executd`."
    )


def test_an_edit_that_changes_nothing_is_refused(tmp_path):
    path = write(tmp_path, EMAIL_AGENT + "reviewer:\n  - edit: {}\n")
    message = error_of(path)
    line = (EMAIL_AGENT + "reviewer:\n").count("\n") + 1
    assert f"- {path}:{line}: reviewer[0]: edit with no arguments changes nothing" in message


def test_a_missing_key_is_named(tmp_path):
    path = write(tmp_path, "agent: {kind: create_agent}\n")
    assert error_of(path) == (
        f"{path}: 1 problem(s) in scenario file:\n"
        f"- {path}:1: description: required key missing.\n"
        "  Fix: add `description:` (see docs/scenarios.md for the format)."
    )


def test_an_unknown_agent_kind_lists_the_kinds(tmp_path):
    path = write(tmp_path, "description: x\nagent: {kind: crew_agent}\n")
    assert error_of(path) == (
        f"{path}: 1 problem(s) in scenario file:\n"
        f"- {path}:2: agent: `kind` must be one of: create_agent, deep_agent, factory "
        "(got {'kind': 'crew_agent'}).\n"
        "  Fix: start the agent with `kind: create_agent`, `kind: deep_agent` or "
        "`kind: factory`."
    )


def test_bad_yaml_names_the_line(tmp_path):
    path = write(tmp_path, "description: x\nagent:\n  kind: create_agent\n  tools: {a: 1\n")
    assert error_of(path) == (
        f"{path}:5: not valid YAML: expected ',' or '}}', but got '<stream end>'.\n"
        "Fix the YAML syntax (indentation, quoting) at that line."
    )


def test_a_bad_model_turn_and_a_bad_condition(tmp_path):
    path = write(
        tmp_path,
        """\
        description: x
        agent:
          kind: create_agent
          interrupt_on:
            rm: {when: {arg: path, startswith: /etc, endswith: x}}
        model:
          - sya: hi
        """,
    )
    message = error_of(path)
    assert (
        f"- {path}:5: agent.interrupt_on.rm.when: a condition names one argument and one test, "
        "e.g. {arg: path, startswith: /etc}; tests: equals, not_equals, startswith, endswith, "
        "contains, matches, in, gt, ge, lt, le, longer_than\n"
    ) in message
    assert (
        f"- {path}:7: model[0]: a model turn is one of "
        "{say: text}, {call: {tool: {arg: value}}} or {calls: [{tool: {...}}, ...]}, "
        "got {'sya': 'hi'}\n"
    ) in message


def test_a_set_member_error_names_the_member_line(tmp_path):
    path = write(
        tmp_path,
        EMAIL_AGENT + "scenarios:\n  one: {}\n  two:\n    run: {mode: sideways}\n",
    )
    assert error_of(path) == (
        f"{path}: 1 problem(s) in scenario 'two' of the file:\n"
        f"- {path}:16: run.mode: Input should be 'invoke' or 'stream' (got 'sideways').\n"
        "  Fix: set `run.mode` to one of the values listed above."
    )


def test_a_reviewer_has_one_form(tmp_path):
    path = write(tmp_path, EMAIL_AGENT + "reviewer: {decisions: [approve], unavailable: true}\n")
    assert "give one of decisions, by_tool, rules, batches, chain, always, factory, " in (
        error_of(path)
    )


# --- the runner ------------------------------------------------------------------------------


def test_a_passing_scenario_reports_its_timeline(tmp_path):
    path = write(
        tmp_path,
        EMAIL_AGENT
        + "reviewer: [approve]\nexpect:\n  executed:\n    - send_email: {to: bob@example.com, body: hi}\n",  # noqa: E501
    )
    result = run_scenario(path)
    assert result.passed
    assert result.report().startswith(
        f"Scenario {path}::case: Approve an email.\nAll expectations held.\n\nRun timeline:\n"
    )
    assert "send_email(to='bob@example.com', body='hi') -> sent to bob@example.com" in (
        result.report()
    )


def test_unmet_expectations_are_each_reported(tmp_path):
    path = write(
        tmp_path,
        EMAIL_AGENT
        + textwrap.dedent(
            """\
            reviewer: [reject: not bob]
            expect:
              status: pending
              executed: [{send_email: {to: bob@example.com, body: hi}}]
              final_message: {contains: Sent to bob}
              model_saw: [not alice]
              model_calls: 3
            """
        ),
    )
    result = run_scenario(path)
    assert result.failures == [
        "run: status: expected pending, got finished.",
        "run: executed: expected [send_email(to='bob@example.com', body='hi')], got [nothing].\n"
        "  missing: send_email(to='bob@example.com', body='hi')",
        "run: final_message: expected it to contain 'Sent to bob', got 'Sent.'.",
        "run: model_saw: no model request contained 'not alice'.",
        "run: model_calls: expected 3, got 2.",
    ]
    assert "decision for #1 send_email(to='bob@example.com', body='hi'): reject('not bob')" in (
        result.report()
    )


def test_an_unexpected_violation_and_an_unexpected_error_fail(tmp_path):
    path = write(
        tmp_path,
        EMAIL_AGENT + "reviewer: [approve, approve]\n",
    )
    (failure,) = run_scenario(path).failures
    assert failure.startswith(
        "run: violations: expected none, got ['unused_decisions']:\n  [unused_decisions]"
    )
    raising = write(tmp_path, EMAIL_AGENT, "raising.yaml")
    (failure,) = run_scenario(raising).failures
    assert failure.startswith("run: raised UnexpectedInterrupt: interrupt #1 (batched, ")
    assert failure.endswith(
        "(expected no exception; if it is intended, add expect.raises: {type: ..., match: ...})"
    )


def test_leftover_model_turns_fail_a_finished_run(tmp_path):
    path = write(tmp_path, EMAIL_AGENT + "  - say: never asked\nreviewer: [approve]\n")
    (failure,) = run_scenario(path).failures
    assert failure == (
        "model script: ScriptedChatModel has 1 scripted turn the agent never asked for:\n"
        "- agent 'main' turn 3: say('never asked')\n"
        "Remove them from the script, or find out why the agent stopped early."
    )


def test_an_unknown_factory_is_a_scenario_error(tmp_path):
    path = write(
        tmp_path,
        "description: x\nagent: {kind: factory, factory: 'hitl_sim.catalog.styles:nope'}\n",
    )
    with pytest.raises(
        ScenarioError, match=r"module 'hitl_sim.catalog.styles' has no attribute 'nope'"
    ):
        run_scenario(path)


def test_factory_options_are_checked_against_its_signature(tmp_path):
    path = write(
        tmp_path,
        "description: x\nagent:\n  kind: factory\n"
        "  factory: hitl_sim.catalog.styles:parallel_branches\n"
        "  options: {colour: red}\n",
    )
    with pytest.raises(ScenarioError) as caught:
        run_scenario(path)
    assert str(caught.value) == (
        f"{path}::case: agent.factory 'hitl_sim.catalog.styles:parallel_branches' cannot be "
        "called with ['checkpointer', 'colour']: got an unexpected keyword argument 'colour'.\n"
        "Its signature is hitl_sim.catalog.styles:parallel_branches(checkpointer: 'Any' = None) -> "
        "'Graph'; fix `agent.options`."
    )


def test_snapshots_are_written_then_compared(tmp_path):
    path = write(tmp_path, EMAIL_AGENT + "reviewer: [approve]\nexpect: {snapshot: true}\n")
    missing = run_scenario(path)
    assert missing.failures[0].startswith("snapshot: No stored snapshot at ")
    assert run_scenario(path, update_snapshots=True).passed
    stored = tmp_path / "__snapshots__" / "case.snap"
    assert "send_email" in stored.read_text()
    assert run_scenario(path).passed
    changed = write(
        tmp_path, EMAIL_AGENT + "reviewer: [reject]\nexpect: {snapshot: true}\n", "case.yaml"
    )
    (failure,) = run_scenario(changed).failures
    assert failure.startswith(f"snapshot: The run does not match the stored snapshot {stored}:")


def test_a_then_step_cannot_ask_for_its_own_snapshot(tmp_path):
    path = write(
        tmp_path,
        EMAIL_AGENT + "then:\n  - action: resume\n    expect: {snapshot: true}\n",
    )
    assert error_of(path) == (
        f"{path}: 1 problem(s) in scenario file:\n"
        f"- {path}:15: then[0].expect: `snapshot` goes in the scenario's top-level `expect` (it "
        "snapshots the last run)\n"
        "  Fix: change `then[0].expect` as described above (see docs/scenarios.md)."
    )


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (
            "expect: {raises: {type: ThreadError}, status: failed}\n",
            "expect: `raises` expects the harness to refuse the run, so there is no run to check "
            "status against; remove them (or `raises`)",
        ),
        (
            "then:\n  - {action: resume, input: hello}\n",
            "then[0]: `input` goes with `action: send`, which needs it",
        ),
        (
            "then:\n  - {action: recover, thread: other}\n",
            "then[0]: `recover` continues the failed run on its own thread; drop `thread`",
        ),
        (
            "expect: {raises: {type: ThreadError}}\nthen:\n  - {action: resume}\n",
            "(top level): `then` steps need a run to follow, but `expect.raises` says none",
        ),
    ],
)
def test_expectations_that_could_never_be_checked_are_refused(tmp_path, extra, problem):
    assert f": {problem}\n" in error_of(write(tmp_path, EMAIL_AGENT + extra))


PAUSED = EMAIL_AGENT + "reviewer: {unavailable: true}\nexpect: {status: pending}\n"
REFUSED = "  - action: send\n    input: hello\n    expect:\n      raises: {type: ThreadError}\n"


def test_the_steps_after_a_refused_one_continue_the_thread_and_are_judged(tmp_path):
    then = "then:\n" + REFUSED + "  - action: resume\n    reviewer: [approve]\n    expect:\n"
    right = write(tmp_path, PAUSED + then + "      executed: [send_email]\n")
    assert run_scenario(right).passed
    wrong = write(tmp_path, PAUSED + then + "      executed: []\n", "wrong.yaml")
    assert run_scenario(wrong).failures == [
        "then[1] (resume): executed: expected [nothing], got [send_email(to='bob@example.com', "
        "body='hi')].\n  unexpected: send_email(to='bob@example.com', body='hi')"
    ]


def test_the_steps_after_an_unexpected_raise_are_failures_not_passes(tmp_path):
    then = "then:\n  - {action: send, input: hello}\n  - {action: resume, reviewer: [approve]}\n"
    (raised, not_run) = run_scenario(write(tmp_path, PAUSED + then)).failures
    assert raised.startswith("then[0] (send): raised ThreadError: ")
    assert not_run == "then[1] (resume): not run, because then[0] (send) raised unexpectedly"


TWO_UNREVIEWED = """\
description: Reviews only the first call of a turn; two more run unreviewed.
agent:
  kind: factory
  factory: hitl_sim.catalog.broken_agents:reviews_only_first_call
  tools:
    delete_file: {args: {path: str}, returns: "deleted {path}"}
    send_email: {args: {to: str}, returns: sent}
  options:
    interrupt_on: {delete_file: true, send_email: true}
model:
  - calls:
      - delete_file: {path: /tmp/a}
      - delete_file: {path: /srv/prod}
      - send_email: {to: all}
  - say: done
reviewer: [approve]
"""


def test_expected_violations_are_counted_so_a_second_one_is_not_hidden(tmp_path):
    once = write(tmp_path, TWO_UNREVIEWED + "expect: {violations: [unapproved_call]}\n")
    (failure,) = run_scenario(once).failures
    assert failure.startswith(
        "run: violations: expected ['unapproved_call'], got ['unapproved_call', "
        "'unapproved_call'] (each name stands for one violation; list a check as often as it "
        "must fire):\n"
    )
    twice = "expect: {violations: [unapproved_call, unapproved_call]}\n"
    assert run_scenario(write(tmp_path, TWO_UNREVIEWED + twice, "twice.yaml")).passed
