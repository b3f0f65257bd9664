"""Tool names that could hold vacuously in a scenario file are checked against the agent's tools.

`expect: {not_executed: [delete_fle]}` passes whatever the agent does (a name that is no tool
never runs), and `run: {gated: [delet_file]}` gates nothing. Each is a `ScenarioError` naming the
file, line and key before the run when the agent's tools are all known (the file's `tools:` for
built agents, the graph's for a factory); for a factory graph whose nodes call plain functions,
a finished run judges `not_executed` against the tools it saw. Twins: the right names pass, and
still catch the tool that ran.
"""

from __future__ import annotations

import pytest

from hitl_sim.errors import ScenarioError
from hitl_sim.scenarios.runner import run_scenario
from tests.scenarios import write

AGENT = """\
description: The delete is reviewed.
agent:
  kind: create_agent
  tools:
    delete_file: {args: {path: str}, returns: "deleted {path}"}
    read_file: {args: {path: str}, returns: "contents of {path}"}
  interrupt_on:
    delete_file: true
model:
  - calls:
      - delete_file: {path: /srv/a}
  - say: done
input: delete /srv/a
"""
TOOLS = "The agent's tools: delete_file, read_file."
FIX = (
    "Fix: name the agent's tools as the model calls them (the file's `tools:` keys, or for "
    "`kind: factory` the tools of the graph it builds)."
)
NEVER_RUNS = "it never runs, so the expectation holds whatever the agent does."


def refusal(path):
    with pytest.raises(ScenarioError) as caught:
        run_scenario(path)
    return str(caught.value)


def test_a_not_executed_name_that_is_no_tool_is_refused_with_its_line(tmp_path):
    path = write(
        tmp_path,
        AGENT + "reviewer: [approve]\nexpect:\n  status: finished\n  not_executed: [delete_fle]\n",
    )
    assert refusal(path) == (
        f"{path}:17: expect.not_executed[0]: 'delete_fle' is no tool of the agent: "
        f"{NEVER_RUNS} {TOOLS} Did you mean 'delete_file'?\n{FIX}"
    )


def test_the_right_not_executed_name_passes_and_catches_the_tool_that_ran(tmp_path):
    refused = write(tmp_path, AGENT + "reviewer: [reject]\nexpect: {not_executed: [delete_file]}\n")
    result = run_scenario(refused)
    assert result.passed, result.report()

    approved = write(
        tmp_path, AGENT + "reviewer: [approve]\nexpect: {not_executed: [delete_file]}\n", "b.yaml"
    )
    assert run_scenario(approved).failures == [
        "run: not_executed: 'delete_file' ran, but the scenario says it must never run "
        "(executed: delete_file(path='/srv/a'))."
    ]


def test_a_gated_run_option_that_is_no_tool_is_refused(tmp_path):
    path = write(
        tmp_path,
        AGENT.replace("delete_file: true", "delete_file: false")
        + "run: {gated: [delet_file]}\nexpect: {executed: [delete_file]}\n",
    )
    assert refusal(path) == (
        f"{path}:14: run.gated[0]: 'delet_file' is no tool of the agent: it gates nothing, so "
        f"the tool it meant runs unjudged. {TOOLS} Did you mean 'delete_file'?\n{FIX}"
    )


def test_gated_as_a_mapping_names_the_key_and_the_right_name_is_judged(tmp_path):
    ungated = AGENT.replace("delete_file: true", "delete_file: false")
    path = write(
        tmp_path,
        ungated + "run:\n  gated:\n    read_file: [approve]\n    delet_file: [approve]\n",
    )
    assert refusal(path).startswith(f"{path}:17: run.gated.delet_file: 'delet_file' is no tool")

    right = write(
        tmp_path,
        ungated + "run: {gated: [delete_file]}\nexpect:\n  executed: [delete_file]\n"
        "  violations: [unapproved_call]\n",
        "right.yaml",
    )
    result = run_scenario(right)
    assert result.passed, result.report()


def test_a_then_step_and_a_set_members_shared_expect_name_their_own_line(tmp_path):
    step = write(
        tmp_path,
        AGENT + "reviewer: {unavailable: true}\nexpect: {status: pending}\nthen:\n"
        "  - action: resume\n    reviewer: [reject]\n"
        "    expect: {not_executed: [read_file, delete_fle]}\n",
    )
    assert refusal(step).startswith(
        f"{step}:19: then[0].expect.not_executed[1]: 'delete_fle' is no tool of the agent"
    )

    members = write(
        tmp_path,
        AGENT + "expect:\n  not_executed: [delete_fle]\n"
        "scenarios:\n  refused:\n    reviewer: [reject]\n    expect: {status: finished}\n",
        "set.yaml",
    )
    assert refusal(members).startswith(f"{members}:15: expect.not_executed[0]: 'delete_fle'")


def test_several_names_are_each_listed(tmp_path):
    path = write(
        tmp_path,
        AGENT + "reviewer: [reject]\nrun: {gated: [zzz]}\nexpect: {not_executed: [delete_fle]}\n",
    )
    lines = refusal(path).splitlines()
    assert lines == [
        f"{path}:15: run.gated[0]: 'zzz' is no tool of the agent: it gates nothing, so the tool "
        f"it meant runs unjudged. {TOOLS}",
        f"{path}:16: expect.not_executed[0]: 'delete_fle' is no tool of the agent: {NEVER_RUNS} "
        f"{TOOLS} Did you mean 'delete_file'?",
        FIX,
    ]


DEEP = """\
description: A subagent's delete is refused.
agent:
  kind: deep_agent
  tools:
    delete_file: {args: {path: str}, returns: "deleted {path}"}
  subagents:
    - name: cleaner
      description: Deletes files.
      tools: [delete_file]
      interrupt_on: {delete_file: true}
models:
  main:
    - call: {task: {description: Clean, subagent_type: cleaner}}
    - say: Kept it.
  cleaner:
    - call: {delete_file: {path: /srv/a}}
    - say: Not deleted.
reviewer: [reject]
"""


def test_a_deep_agents_subagent_and_builtin_tools_count(tmp_path):
    right = write(tmp_path, DEEP + "expect: {not_executed: [delete_file, write_file]}\n")
    result = run_scenario(right)
    assert result.passed, result.report()

    typo = write(tmp_path, DEEP + "expect: {not_executed: [delete_fle]}\n", "typo.yaml")
    message = refusal(typo)
    assert message.startswith(f"{typo}:19: expect.not_executed[0]: 'delete_fle' is no tool")
    assert "task" in message and message.endswith(f"Did you mean 'delete_file'?\n{FIX}")


REVIEW_NODE = """\
description: A review node before a ToolNode (a hand-written graph).
agent:
  kind: factory
  factory: hitl_sim.catalog.styles:tool_call_review
  tools:
    search: {args: {query: str}, returns: "results for {query}"}
    delete_record: {args: {id: int}, returns: "deleted record {id}"}
model:
  - calls:
      - search: {query: stale}
      - delete_record: {id: 42}
  - say: Searched.
reviewer:
  - answer: {approved: true, approved_tools: [search]}
"""


def test_a_factory_graph_with_plain_nodes_judges_not_executed_after_the_run(tmp_path):
    typo = write(tmp_path, REVIEW_NODE + "expect: {not_executed: [delete_recrd]}\n")
    assert run_scenario(typo).failures == [
        "run: not_executed: 'delete_recrd' is no tool the run saw (tools found in the graph, "
        "bound to its models, run or reviewed: delete_record, search), so it never runs and the "
        "expectation proves nothing. Did you mean 'delete_record'? Name the tool as the model "
        "calls it."
    ]
    right = write(tmp_path, REVIEW_NODE + "expect: {not_executed: [delete_record]}\n", "b.yaml")
    result = run_scenario(right)
    assert result.passed, result.report()
    # A name like no tool the run saw may be a tool the hand-written nodes never reached.
    unreached = write(tmp_path, REVIEW_NODE + "expect: {not_executed: [wipe_disk]}\n", "c.yaml")
    result = run_scenario(unreached)
    assert result.passed, result.report()
