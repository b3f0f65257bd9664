"""Snapshots of real runs: the normalised text, its options, syrupy and plain files."""

from __future__ import annotations

from datetime import datetime

import pytest

from hitl_sim import approve, reject, simulate
from hitl_sim.errors import InvalidArgument
from hitl_sim.reporting.snapshots import (
    SECTIONS,
    assert_snapshot_file,
    run_matcher,
    snapshot_data,
    snapshot_text,
)
from tests.reporting.test_audit_log import agent, cleanup_run


def test_a_run_snapshots_with_syrupy_as_its_normalised_text(snapshot):
    assert snapshot_text(cleanup_run()) == snapshot


def test_the_matcher_lets_syrupy_take_the_run_itself(snapshot):
    run = cleanup_run()
    assert run == snapshot(matcher=run_matcher(include=("messages", "state")))
    assert {"run": run, "log": run.audit} == snapshot(matcher=run_matcher(include=("status",)))


def test_the_text_has_status_messages_state_and_audit_by_default():
    text = snapshot_text(cleanup_run())
    assert [line for line in text.splitlines() if line[:1] not in ("", " ", "-")] == [
        "status: finished",
        "messages:",
        "state:",
        "audit:",
    ]
    assert "- type: ai\n  content: ''\n  tool_calls:\n  - name: delete_file\n" in text
    assert "    args: {path: /srv/a}\n    id: call-1\n" in text
    assert "  tool_call_id: call-1\n  status: error\n" in text


def test_sections_can_be_chosen():
    run = cleanup_run()
    data = snapshot_data(run, include=("status", "side_effects"))
    assert data == {"status": "finished", "side_effects": []}
    assert snapshot_text(run, include=("messages",)).startswith("messages:\n- type: human\n")
    state = snapshot_data(run, include=("state",), state_keys=())
    assert state == {"state": {}}
    assert set(SECTIONS) == {"status", "messages", "state", "audit", "side_effects"}


def test_state_keeps_other_keys_with_normalised_ids():
    state = snapshot_data(cleanup_run(), include=("state",))["state"]
    assert state == {
        "hitl_edited_tool_calls": {
            "call-2": {
                "args": {"api_key": "***", "body": "done", "to": "team@example.com"},
                "name": "send_email",
            }
        }
    }


def test_an_unknown_section_is_a_usage_error():
    with pytest.raises(InvalidArgument) as error:
        snapshot_text(cleanup_run(), include=("messages", "audti"))
    assert str(error.value) == (
        "Unknown snapshot section(s) 'audti' in include=. Valid sections: status, messages, "
        "state, audit, side_effects; e.g. include=('messages', 'audit')."
    )


def test_a_snapshot_file_is_written_on_update_and_compared_after(tmp_path):
    path = tmp_path / "snapshots" / "cleanup.yaml"
    with pytest.raises(AssertionError) as missing:
        assert_snapshot_file(cleanup_run(), path)
    assert str(missing.value) == (
        f"No stored snapshot at {path}. Run with update=True (pytest: --snapshot-update) to "
        "write it, then review and commit the file."
    )
    assert_snapshot_file(cleanup_run(), path, update=True)
    assert path.read_text() == snapshot_text(cleanup_run())
    assert_snapshot_file(cleanup_run(), path)


def test_a_changed_decision_fails_with_a_diff(tmp_path):
    path = tmp_path / "cleanup.yaml"
    assert_snapshot_file(cleanup_run(), path, include=("audit",), update=True)
    with pytest.raises(AssertionError) as changed:
        assert_snapshot_file(cleanup_run(to="ceo@example.com"), path, include=("audit",))
    message = str(changed.value)
    assert message.startswith(
        f"The run does not match the stored snapshot {path}:\n"
        f"--- {path} (stored)\n+++ this run\n@@ "
    )
    assert "\n-  args: {api_key: '***', body: done, to: team@example.com}\n" in message
    assert "\n+  args: {api_key: '***', body: done, to: ceo@example.com}\n" in message
    assert message.endswith(
        "If the change is intended, refresh it with update=True (pytest: --snapshot-update)."
    )


def test_a_changed_tool_argument_fails_with_a_diff(tmp_path):
    path = tmp_path / "cleanup.yaml"
    assert_snapshot_file(cleanup_run(), path, include=("messages",), update=True)
    with pytest.raises(AssertionError) as changed:
        assert_snapshot_file(cleanup_run(path="/srv/b"), path, include=("messages",))
    assert "\n-    args: {path: /srv/a}\n+    args: {path: /srv/b}\n" in str(changed.value)


def test_a_changed_secret_leaves_the_text_alone():
    base = simulate(agent(), "go", reviewer=[approve(), reject()])
    other = simulate(agent(api_key="sk-other-999999"), "go", reviewer=[approve(), reject()])
    assert snapshot_text(base) == snapshot_text(other)


def test_the_clock_is_frozen_only_inside_the_run():
    run = cleanup_run()
    assert run.audit[0].at == "2030-01-01T09:00:00Z"
    assert datetime.now().year < 2030


def test_raw_ids_that_look_like_labels_keep_one_label_throughout():
    from langchain.agents import create_agent
    from langchain.agents.middleware import HumanInTheLoopMiddleware
    from langgraph.checkpoint.memory import InMemorySaver

    from hitl_sim import ScriptedChatModel, call, say
    from tests.reporting.test_audit_log import delete_file, send_email

    model = ScriptedChatModel(
        [
            [
                call("delete_file", path="/srv/a").with_id("call-2"),
                call("send_email", to="ops", body="hi").with_id("call-1"),
            ],
            say("done"),
        ]
    )
    graph = create_agent(
        model,
        tools=[send_email, delete_file],
        middleware=[HumanInTheLoopMiddleware(interrupt_on={"delete_file": True})],
        checkpointer=InMemorySaver(),
    )
    run = simulate(graph, "go", reviewer=[reject("no")])
    data = snapshot_data(run, include=("messages", "audit"))
    calls = {c["name"]: c["id"] for c in data["messages"][1]["tool_calls"]}
    assert calls == {"delete_file": "call-1", "send_email": "call-2"}
    assert data["audit"][0]["actions"][0]["call"] == "call-1"
    assert [e["call"] for e in data["audit"] if e["event"] == "tool"] == ["call-2"]
    assert run.audit.to_dicts()[0]["actions"][0]["call"] == "call-1"
