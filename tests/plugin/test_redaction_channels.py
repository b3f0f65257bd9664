"""Every output channel masks the secrets a run saw: the timeline, `run.check()`'s failure,
the audit log, snapshots, the scenario report and `hitl-sim run`'s JUnit XML, and pytest's own
failure output (assertions, captured prints, teardown checks)."""

from __future__ import annotations

import io
from pathlib import Path
from textwrap import dedent

import pytest

from hitl_sim import CheckFailed
from hitl_sim.cli import main
from hitl_sim.reporting.snapshots import snapshot_text
from tests.agents.secrets import API_KEY, BEARER, SECRETS, TOKEN, secret_run


def _check_text() -> str:
    with pytest.raises(CheckFailed) as failed:
        secret_run().check()
    assert [v.check for v in failed.value.violations] == ["unapproved_call"]
    return str(failed.value) + "\n".join(str(v) for v in failed.value.violations)


SCENARIO = f"""\
description: A secret in the arguments, a JSON tool result, a reason and the model's text.
agent:
  kind: create_agent
  tools:
    call_api:
      args: {{url: str, api_key: str}}
      returns: "called {{url}} with {{api_key}}"
    fetch:
      args: {{url: str}}
      returns: '{{{{"access_token": "{TOKEN}", "kind": "bearer"}}}}'
  interrupt_on: {{call_api: true, fetch: true}}
model:
  - calls:
      - call_api: {{url: "https://api.example.com", api_key: {API_KEY}}}
      - fetch: {{url: "https://api.example.com"}}
  - say: "Done. Authorization: Bearer {BEARER}"
input: Call the API.
reviewer:
  - approve
  - reject: never paste {API_KEY} into a chat
expect:
  status: pending
"""


def _cli_text(tmp_path: Path) -> str:
    path = tmp_path / "secrets.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    junit = tmp_path / "junit.xml"
    out = io.StringIO()
    assert main(["run", str(path), "--junit-xml", str(junit)], out=out) == 1
    report = out.getvalue()
    assert "expectation(s) failed" in report and "-> called https://api.example.com" in report
    return report + junit.read_text(encoding="utf-8")


PYTEST_FILE = """
from hitl_sim import simulate
from tests.agents.secrets import secret_run


def test_own_assertion():
    run = secret_run()
    print(run.final_state)
    assert run.status == "finished", run.messages


def test_check():
    secret_run().check()


def test_fixture(hitl_sim):
    secret_run(hitl_sim.simulate)
"""


def _pytest_text(tmp_path: Path, pytester: pytest.Pytester) -> str:
    pytester.makepyfile(test_inner=PYTEST_FILE)
    junit = tmp_path / "inner.xml"
    result = pytester.runpytest("-rA", f"--junitxml={junit}")
    result.assert_outcomes(failed=2, passed=1, errors=1)
    text = result.stdout.str()
    assert "unapproved_call" in text and "assert 'failed' == 'finished'" in text
    return text + junit.read_text(encoding="utf-8")


CHANNELS = {
    "str(run)": lambda tmp_path, pytester: str(secret_run()),
    "run.check()": lambda tmp_path, pytester: _check_text(),
    "audit JSONL": lambda tmp_path, pytester: secret_run().audit.to_jsonl(),
    "audit table": lambda tmp_path, pytester: secret_run().audit.render(),
    "snapshot_text": lambda tmp_path, pytester: snapshot_text(
        secret_run(), include=("status", "messages", "state", "audit")
    ),
    "repr(run)": lambda tmp_path, pytester: repr(secret_run()),
    "hitl-sim run + JUnit": lambda tmp_path, pytester: _cli_text(tmp_path),
    "pytest output + JUnit": _pytest_text,
}


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_every_output_channel_masks_every_secret(channel, tmp_path, pytester):
    text = CHANNELS[channel](tmp_path, pytester)
    assert "***" in text or channel == "repr(run)"
    leaked = [secret for secret in SECRETS if secret in text]
    assert leaked == [], f"{channel} leaks {leaked}:\n{text}"


def test_the_run_itself_keeps_the_real_values():
    run = secret_run()
    assert run.executed[0].args["password"] == 48213977
    assert TOKEN in str(run.executed[1].result)
    assert BEARER in run.error.message


def test_the_ini_adds_keys_for_every_run(pytester):
    pytester.makeini("[pytest]\nhitl_sim_redact =\n    ssn\n    account number\n")
    pytester.makepyfile(
        test_ini=dedent(
            """
            from langchain.agents import create_agent
            from langchain_core.tools import tool
            from langgraph.checkpoint.memory import InMemorySaver

            from hitl_sim import ScriptedChatModel, call, say, simulate


            @tool
            def look_up(ssn: str, account_number: int, password: str) -> str:
                '''Look a customer up.'''
                return f"found {ssn}"


            def test_masked():
                agent = create_agent(
                    ScriptedChatModel([call("look_up", ssn="123-45-6789",
                                            account_number=99887766, password="pw-1234"),
                                       say("ok")]),
                    tools=[look_up],
                    checkpointer=InMemorySaver(),
                )
                text = str(simulate(agent, "find them", None))
                assert "ssn=***" in text and "account_number=***" in text, text
                assert "password=***" in text  # the defaults still hold
                assert "123-45-6789" not in text and "99887766" not in text
            """
        )
    )
    pytester.runpytest().assert_outcomes(passed=1)
