"""Report items from real scenario results, fail closed; the JUnit message and body."""

from __future__ import annotations

import pytest

from hitl_sim.normalise import stable_text
from hitl_sim.reporting.item import Failure, ReportItem, expectation_keys, from_result, status_of
from hitl_sim.reporting.junit import junit_body, junit_message, junit_tag
from tests.reporting import runs


def shown(folder):
    """The folder as reports print it: pytest's numbered tmp root is `<tmp>` (stable_text)."""
    text = stable_text(str(folder))
    assert text.startswith("<tmp>/")
    return text


@pytest.mark.parametrize(
    ("given", "status"),
    [
        ("PASS", "PASS"),
        ("passed", "PASS"),
        ("failed", "FAIL"),
        ("skipped", "SKIP"),
        ("error", "ERROR"),
        ("xfailed", "ERROR"),
        ("", "ERROR"),
        (None, "ERROR"),
        ("pass ", "PASS"),
        ("OK", "ERROR"),
    ],
)
def test_a_status_nobody_judged_is_an_error_never_a_pass(given, status):
    assert status_of(given) == status


def test_an_item_given_as_pass_with_a_failed_expectation_is_a_failure():
    item = ReportItem("x", "PASS", failures=(Failure("status: expected finished, got failed."),))

    assert (item.status, item.passed) == ("FAIL", False)
    assert item.status_note == "given as 'PASS', but an expectation failed"
    odd = ReportItem("y", "maybe")  # type: ignore[arg-type]
    assert (odd.status, odd.status_note) == (
        "ERROR",
        "given status 'maybe' is not PASS/FAIL/ERROR/SKIP: not judged",
    )
    assert not ReportItem("z", "SKIP").passed


@pytest.mark.parametrize(
    ("failure", "keys"),
    [
        ("run: status: expected finished, got failed.", ("expect", "status")),
        ("run: not_executed: 'x' ran", ("expect", "not_executed")),
        ("run: error.resumable: expected True, got False.", ("expect", "error")),
        ("run: state.note: expected 'a', got 'b'.", ("expect", "state")),
        ("then[1] (resume): executed: expected ...", ("then", 1, "expect", "executed")),
        ("run: raised ValueError: no\n  (expected no exception", ("expect", "raises")),
        (
            "run: expected ValueError to be raised, but the run ended finished.",
            ("expect", "raises"),
        ),
        ("model script: the run finished with scripted turns", ("model",)),
        ("snapshot: the stored text differs", ("expect", "snapshot")),
        ("run: the model went quiet", ("expect",)),
        ("the run called a blocked real model: openai:gpt-5", ()),
    ],
)
def test_a_failure_names_the_keys_of_the_file_it_is_about(failure, keys):
    assert expectation_keys(failure) == keys


def test_a_failing_scenario_names_the_line_of_each_failed_expectation(broken_item, folder):
    item = broken_item
    lines = (folder / "broken_fork.yaml").read_text().splitlines()

    assert item.status == "FAIL"
    assert item.tags == ("broken", "demo")
    assert [f.where for f in item.failures] == [
        f"{shown(folder)}/broken_fork.yaml:{lines.index('  not_executed: [delete_file]') + 1}",
        f"{shown(folder)}/broken_fork.yaml:{lines.index('expect:') + 1}",  # no violations: key
    ]
    assert [v.check for v in item.violations[0]] == ["rejected_call_ran", "reason_not_delivered"]


def test_the_junit_message_is_the_first_failed_expectation_with_file_and_line(broken_item, folder):
    message = junit_message(broken_item)
    line = (
        (folder / "broken_fork.yaml")
        .read_text()
        .splitlines()
        .index("  not_executed: [delete_file]")
    )

    assert message == (
        f"{shown(folder)}/broken_fork.yaml:{line + 1}: run: not_executed: 'delete_file' ran, "
        "but the scenario says it must never run (executed: delete_file(path='/srv/db')). "
        "(+1 more failed expectation)"
    )
    assert "\n" not in message
    assert junit_tag(broken_item) == "failure"
    body = junit_body(broken_item)
    assert body.startswith("2 expectation(s) failed:\n- ")
    assert "Run timeline:" in body
    assert (
        "[rejected_call_ran] delete_file ran although the reviewer answered it with reject." in body
    )


def test_a_pass_has_no_junit_failure_and_an_error_carries_its_first_line(passing_item):
    assert (junit_tag(passing_item), junit_message(passing_item)) == (None, "")
    assert junit_body(passing_item) == ""
    crashed = ReportItem("s.yaml", "ERROR", details="\nRuntimeError: boom\n  at factory")
    assert (junit_tag(crashed), junit_message(crashed)) == ("error", "RuntimeError: boom")
    skipped = ReportItem("s.yaml", "SKIP", details="needs langchain 1.5")
    assert (junit_tag(skipped), junit_message(skipped)) == ("skipped", "needs langchain 1.5")
    silent = ReportItem("s.yaml", "ERROR")
    assert junit_message(silent) == "ERROR with no details"


def test_a_long_message_is_cut_to_one_line_of_bounded_width():
    item = ReportItem("x", "FAIL", failures=(Failure("a\n" + "b" * 900, "x.yaml:3"),))

    message = junit_message(item)
    assert len(message) == 300 and message.endswith("...") and "\n" not in message


def test_the_message_masks_what_the_run_saw(folder):
    result = from_result(
        runs.scenario_result(folder, "secret", SECRET_SCENARIO)  # the key in a failure text
    )

    assert result.status == "FAIL"
    assert "sk-live-123456" not in junit_message(result)
    assert "sk-live-123456" not in junit_body(result)
    assert "api_key=***" in junit_body(result) or "'api_key': '***'" in junit_body(result)


SECRET_SCENARIO = """\
description: a call carrying a key; the expectation on it is wrong.
agent:
  kind: create_agent
  tools:
    rotate:
      args: {api_key: str}
      returns: rotated
  interrupt_on: {rotate: true}
model:
  - call: {rotate: {api_key: sk-live-123456}}
  - say: Rotated.
reviewer:
  - approve: {}
expect:
  executed:
    - rotate: {api_key: other}
"""


def test_the_diagram_of_a_scenario_leaves_out_the_checks_the_scenario_switches_off(folder):
    from hitl_sim.reporting.diagram import mermaid, violations_of

    text = runs.BROKEN_SCENARIO.replace(
        "  not_executed: [delete_file]\n",
        "  executed: [delete_file]\n  checks_off: [reason_not_delivered]\n"
        "  violations: [rejected_call_ran]\n",
    )
    result = runs.scenario_result(folder, "checks_off", text)
    item = from_result(result)

    assert item.status == "PASS", result.report()
    assert [v.check for v in item.violations[0]] == ["rejected_call_ran"]
    assert [v.check for v in violations_of(result.run)] == [
        "rejected_call_ran",
        "reason_not_delivered",
    ]
    drawn = item.run_views[0].mermaid
    assert "VIOLATION [rejected_call_ran]" in drawn
    assert "reason_not_delivered" not in drawn
    assert "reason_not_delivered" in mermaid(result.run)  # judged with every check


CHECKS_OFF = """\
description: A broken fork runs an unreviewed delete; the file switches the check off.
agent:
  kind: factory
  factory: hitl_sim.catalog.broken_agents:reviews_only_first_call
  tools:
    delete_file: {args: {path: str}, returns: "deleted {path}"}
  options:
    interrupt_on: {delete_file: true}
model:
  - calls:
      - delete_file: {path: /tmp/a}
      - delete_file: {path: /srv/prod}
  - say: done
reviewer: [approve]
expect:
  checks_off: [unapproved_call, ran_twice]
"""


def test_a_pass_with_checks_off_says_what_they_would_have_found(folder):
    result = runs.scenario_result(folder, "checks_off", CHECKS_OFF)
    item = from_result(result)
    assert item.status == "PASS"
    assert item.description.endswith(
        " [checks off: unapproved_call, ran_twice; they would have found: unapproved_call x1]"
    )
