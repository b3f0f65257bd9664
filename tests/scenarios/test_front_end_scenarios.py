"""Scenario files with front-end reviewers (`reviewer: {kind: terminal | confirmation | http |
chat}`): the schema's errors, the runner's verdicts, skips without the extra, masking."""

from __future__ import annotations

import importlib.util
import io
import textwrap

import pytest

from hitl_sim.catalog.apps import confirm_app
from hitl_sim.errors import ScenarioError, Unsupported
from hitl_sim.scenarios.loader import load_scenario
from hitl_sim.scenarios.runner import run_scenario

AGENT = """\
description: x
agent:
  kind: create_agent
  tools:
    delete_file: {args: {path: str}, returns: "deleted {path}"}
  interrupt_on:
    delete_file: {allowed_decisions: [approve, edit, reject]}
model:
  - call: {delete_file: {path: /srv/a}}
  - say: Done.
"""


def write(tmp_path, text, name="case.yaml"):
    path = tmp_path / name
    path.write_text(AGENT + textwrap.dedent(text))
    return path


def error_of(path):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return str(caught.value)


# --- the schema -------------------------------------------------------------------------------


def test_an_unknown_reviewer_kind_lists_the_kinds(tmp_path):
    path = write(tmp_path, "reviewer: {kind: slack}\n")
    assert error_of(path) == (
        f"{path}: 1 problem(s) in scenario file:\n"
        f"- {path}:11: reviewer: `kind` must be one of: terminal, pty, confirmation, http, chat "
        "(or no `kind`, for scripted decisions) (got {'kind': 'slack'}).\n"
        "  Fix: give the front end `kind: terminal`, `pty`, `confirmation`, `http` or `chat`, "
        "or drop `kind` for scripted decisions (see docs/scenarios.md#front-end-reviewers)."
    )


def test_a_terminal_reviewer_names_its_bad_keys(tmp_path):
    path = write(
        tmp_path,
        """\
        reviewer:
          kind: terminal
          prompt: cli_prompt.get_user_decision
          keys:
            - {type: a, at: ""}
            - {typed: a}
        """,
    )
    assert error_of(path) == (
        f"{path}: 3 problem(s) in scenario file:\n"
        f"- {path}:13: reviewer.prompt: prompt 'cli_prompt.get_user_decision' is not of the form "
        "'package.module:function', e.g. 'hitl_sim.catalog.apps.cli_prompt:get_user_decision'\n"
        "  Fix: change `reviewer.prompt` as described above (see docs/scenarios.md).\n"
        f"- {path}:15: reviewer.keys[0]: `at: ''` matches every prompt; leave `at` out for that\n"
        "  Fix: change `reviewer.keys[0]` as described above (see docs/scenarios.md).\n"
        f"- {path}:16: reviewer.keys[1].typed: unknown key 'typed'. Expected one of: type, at, "
        "after, secret. Did you mean 'type'?\n"
        "  Fix: remove or rename `typed`."
    )


def test_a_verify_guard_needs_its_phrase(tmp_path):
    path = write(
        tmp_path,
        """\
        reviewer:
          kind: confirmation
          guards:
            - {function: "hitl_sim.catalog.apps.confirm_app:perform_deletion", level: verify}
        """,
    )
    assert error_of(path) == (
        f"{path}: 1 problem(s) in scenario file:\n"
        f"- {path}:14: reviewer.guards[0]: `phrase` goes with `level: verify`, which needs it, "
        "e.g. {function: app:perform_deletion, level: verify, phrase: 'DELETE {resource_id}'}\n"
        "  Fix: change `reviewer.guards[0]` as described above (see docs/scenarios.md)."
    )


def test_a_misspelt_front_end_check_is_suggested(tmp_path):
    path = write(
        tmp_path,
        """\
        reviewer: {kind: chat, app: "hitl_sim.catalog.apps.chat_app:ChatApp", replies: ["yes"]}
        expect: {frontend_violations: [input_while_pendng]}
        """,
    )
    assert error_of(path) == (
        f"{path}: 1 problem(s) in scenario file:\n"
        f"- {path}:12: expect.frontend_violations: 'input_while_pendng' is not a front-end "
        "check; did you mean 'input_while_pending'? (checks: args_not_shown, choices_not_shown, "
        "resume_wrong_shape, unused_keys, confirmation_not_asked, near_miss_accepted, "
        "confirm_accepted_non_yes, phrase_not_shown, details_not_shown, input_while_pending, "
        "resume_nothing_pending, concurrent_resumes, resumed_other_thread, "
        "decision_not_applied, pending_not_shown, pending_shows_other, pending_after_finish, "
        "decision_refused, notification_missing, notified_twice, notified_without_interrupt, "
        "notification_fields_missing, notification_time_off)\n"
        "  Fix: change `expect.frontend_violations` as described above (see docs/scenarios.md)."
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "reviewer: [approve]\nwebhook: {fields: [type]}\n",
            "`webhook`, `expect.prompts` and `expect.frontend_violations` go with a front-end "
            "reviewer (`reviewer: {kind: terminal | pty | confirmation | http | chat, ...}`)",
        ),
        (
            'reviewer: {kind: chat, app: "a.b:c", replies: ["yes"]}\nwebhook: {fields: [type]}\n',
            "`webhook` goes with `reviewer.kind: http` (its URL is passed to the app)",
        ),
        (
            'reviewer: {kind: http, app: "a.b:c"}\nexpect: {prompts: [{typed: a}]}\n',
            "`expect.prompts` goes with `reviewer.kind: terminal`, `pty` or `confirmation`, "
            "whose prompts are recorded",
        ),
        (
            'reviewer: {kind: http, app: "a.b:c"}\nrun: {mode: stream, max_resumes: 3}\n',
            "`run: {max_resumes, mode}` does not apply to `reviewer.kind: http`: the app makes "
            "its own graph calls (only `run.thread_id` and `run.clock` do)",
        ),
        (
            'reviewer: {kind: terminal, prompt: "a.b:c", keys: [a]}\nrun: {async: true}\n',
            "`reviewer.kind: terminal` runs synchronously; drop `run.async`",
        ),
        (
            'reviewer: {kind: terminal, prompt: "a.b:c", keys: [a]}\n'
            "then: [{action: send, input: again}]\n",
            "`then` steps are not supported with `reviewer.kind: terminal`",
        ),
    ],
)
def test_front_end_keys_that_do_not_fit_are_refused(tmp_path, text, problem):
    path = write(tmp_path, text)
    assert f"- {path}:1: (top level): {problem}\n" in error_of(path)


# --- the runner's verdicts --------------------------------------------------------------------


TERMINAL = """\
reviewer:
  kind: terminal
  prompt: hitl_sim.catalog.apps.cli_prompt:{prompt}
  keys: {keys}
"""


def test_a_front_end_violation_fails_the_scenario_unless_listed(tmp_path):
    path = write(tmp_path, TERMINAL.format(prompt="hides_args", keys="[{type: a, at: '[a]'}]"))
    result = run_scenario(path)
    assert result.failures == [
        "frontend_violations: expected none, got ['args_not_shown']:\n"
        "  [args_not_shown] The human decided delete_file at interrupt #1 (batched, node "
        "'HumanInTheLoopMiddleware.after_model') without seeing argument path='/srv/a'. "
        "Expected the prompt to show the tool and every argument (print them before asking).\n"
        "      prompt 1 '[a]pprove / [e]dit / [r]eject: ' <- 'a'"
    ]
    assert "Front-end violations:\n  [args_not_shown]" in result.report()


def test_prompts_are_compared_in_order(tmp_path):
    path = write(
        tmp_path,
        TERMINAL.format(prompt="get_user_decision", keys="[a]")
        + "expect:\n  prompts:\n    - {shows: 'Args: /srv/a', line: 'Approve?', typed: r}\n",
    )
    assert run_scenario(path).failures == [
        "prompts[0].shows: expected the screen to show 'Args: /srv/a'; it showed 'Tool: "
        'delete_file\\nArgs: {"path": "/srv/a"}\\n[a]pprove / [e]dit / [r]eject: \'.',
        "prompts[0].line: expected 'Approve?', got '[a]pprove / [e]dit / [r]eject: '.",
        "prompts[0].typed: expected 'r', got 'a'.",
    ]


def test_keystrokes_nobody_asked_for_are_a_violation(tmp_path):
    path = write(tmp_path, TERMINAL.format(prompt="get_user_decision", keys="[a, a]"))
    (failure,) = run_scenario(path).failures
    assert failure.startswith("frontend_violations: expected none, got ['unused_keys']:")
    assert "keys('a')" in failure


def test_a_resume_value_the_middleware_cannot_take_stops_the_run(tmp_path):
    text = TERMINAL.format(prompt="seed_shape", keys="[{type: a, at: '[a]'}]")
    path = write(tmp_path, text + "expect: {frontend_violations: [resume_wrong_shape]}\n")
    result = run_scenario(path)
    assert result.passed, result.report()
    assert result.runs == []
    judged = write(tmp_path, text + "expect: {status: finished}\n", "judged.yaml")
    failures = run_scenario(judged).failures
    assert failures[0].startswith(
        "run: the front end stopped the run ([resume_wrong_shape] The app answered interrupt #1 "
        "(batched, node 'HumanInTheLoopMiddleware.after_model') with a resume value the "
        "middleware cannot take"
    )
    assert failures[0].endswith(
        "so status cannot be judged. Expect only frontend_violations (and prompts) of a front "
        "end that cannot go on."
    )
    assert failures[1].startswith("frontend_violations: expected none, got ['resume_wrong_shape']")


def rejected_with_a_secret_reason(tmp_path):
    """The CLI prompt app rejected with a reason typed as a `secret: true` keystroke."""
    path = write(
        tmp_path,
        TERMINAL.format(
            prompt="get_user_decision",
            keys="[{type: r, at: '[a]'}, {type: hunter2-pass, at: 'Reason', secret: true}]",
        )
        + "expect: {prompts: [{typed: r}, {typed: '***'}]}\n",
    )
    return run_scenario(path)


def test_secret_keystrokes_never_reach_the_report(tmp_path):
    result = rejected_with_a_secret_reason(tmp_path)
    assert result.passed, result.report()
    assert "hunter2-pass" not in result.report()


def test_a_secret_keystroke_the_app_echoes_is_masked_in_the_runs_own_records(tmp_path):
    """The app sends the typed secret as its reject reason: the run's timeline, check failure,
    audit log and snapshot text hold it only masked."""
    from hitl_sim.reporting import snapshot_text

    result = rejected_with_a_secret_reason(tmp_path)
    run = result.run
    assert any("hunter2-pass" in str(m.content) for m in run.messages)  # the app did echo it
    outputs = [str(run), run.audit.to_jsonl(), snapshot_text(run), result.report()]
    assert all("hunter2-pass" not in text for text in outputs)
    assert "***" in str(run)


def test_a_guard_is_undone_after_the_run(tmp_path):
    original = confirm_app.perform_deletion
    path = tmp_path / "confirm.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            description: x
            agent: {kind: factory, factory: "hitl_sim.catalog.apps.confirm_app:confirm_agent"}
            model:
              - call: {delete_resource: {resource_id: db-1}}
              - say: ok
            reviewer:
              kind: confirmation
              guards:
                - function: hitl_sim.catalog.apps.confirm_app:perform_deletion
                  level: verify
                  phrase: "DELETE {resource_id}"
              keys: [DELETE db-1]
            """
        )
    )
    result = run_scenario(path)
    assert result.passed, result.report()
    assert confirm_app.perform_deletion is original
    assert not confirm_app.BUGS


def test_an_app_factory_that_does_not_take_the_options_is_a_scenario_error(tmp_path):
    path = write(
        tmp_path,
        'reviewer: {kind: chat, app: "hitl_sim.catalog.apps.chat_app:ChatApp", '
        'replies: ["yes"], options: {colour: red}}\n',
    )
    with pytest.raises(ScenarioError) as caught:
        run_scenario(path)
    assert str(caught.value) == (
        f"{path}::case: reviewer.app 'hitl_sim.catalog.apps.chat_app:ChatApp' cannot be called "
        "with ['colour', 'graph']: got an unexpected keyword argument 'colour'.\nIts signature is "
        "hitl_sim.catalog.apps.chat_app:ChatApp(graph: 'Any') -> 'None'; fix `reviewer.options`."
    )


# --- without the `frontends` extra ---------------------------------------------------------------


def _without(monkeypatch, *modules):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a, **k: None if name in modules else real(name, *a, **k),
    )


def test_an_http_scenario_without_the_extra_is_unsupported(tmp_path, monkeypatch):
    path = write(
        tmp_path,
        'reviewer: {kind: http, app: "hitl_sim.catalog.apps.http_app:create_app", '
        "server: uvicorn, decisions: [approve]}\n",
    )
    _without(monkeypatch, "uvicorn")
    with pytest.raises(Unsupported) as caught:
        run_scenario(path)
    assert str(caught.value) == (
        f"{path}::case: `reviewer.kind: http` needs uvicorn (the `frontends` extra), which is "
        "not installed.\nInstall it with: pip install 'hitl-sim[frontends]'"
    )


def test_hitl_sim_run_shows_it_as_a_skip_never_a_pass(tmp_path, monkeypatch):
    from hitl_sim.cli import main

    path = write(
        tmp_path,
        'reviewer: {kind: http, app: "hitl_sim.catalog.apps.http_app:create_app", '
        "decisions: [approve]}\n",
    )
    _without(monkeypatch, "fastapi")
    out = io.StringIO()
    code = main(["run", str(path)], out=out)
    text = out.getvalue()
    assert code == 1  # nothing passed
    assert "SKIP" in text
    assert "needs fastapi (the `frontends` extra)" in text
    assert "0 passed, 0 failed, 0 errors, 1 skipped" in text


# --- a real CLI program on a pty --------------------------------------------------------------

PTY_AGENT = """\
description: x
agent: {kind: factory, factory: "hitl_sim.catalog.apps.agents:file_agent"}
"""


def test_a_pty_reviewer_names_what_it_cannot_do(tmp_path):
    path = tmp_path / "pty.yaml"
    path.write_text(
        PTY_AGENT
        + textwrap.dedent(
            """\
            reviewer:
              kind: pty
              argv: ["{python}", cli.py, "{database}"]
              keys: [a]
            """
        )
    )
    assert error_of(path) == (
        f"{path}: 2 problem(s) in scenario file:\n"
        f"- {path}:5: reviewer.argv: argv: '{{database}}' names {{database}}; argv may name "
        "{python}, {db}, {thread_id}\n"
        "  Fix: change `reviewer.argv` as described above (see docs/scenarios.md).\n"
        f"- {path}:6: reviewer.keys: keys[0] has no `at`: on a pty the only way to tell the "
        "program asks is what it shows; write {type: 'a', at: <the prompt>}\n"
        "  Fix: change `reviewer.keys` as described above (see docs/scenarios.md)."
    )


def test_a_pty_scenario_expects_no_run_record(tmp_path):
    path = tmp_path / "pty.yaml"
    path.write_text(
        PTY_AGENT
        + 'input: hi\nreviewer: {kind: pty, argv: ["{python}"], keys: [{type: a, at: "?"}]}\n'
        + "expect: {status: finished, executed: [delete_file]}\n"
    )
    assert error_of(path) == (
        f"{path}: 1 problem(s) in scenario file:\n"
        f"- {path}:1: (top level): `reviewer.kind: pty` runs a program with its own agent, "
        "input and graph calls: hitl-sim has no run record of it, only the prompts and the "
        "thread's interrupts. Drop input, expect.executed, expect.status (expect only `prompts` "
        "and `frontend_violations`)\n"
        "  Fix: change `(top level)` as described above (see docs/scenarios.md)."
    )


def test_a_program_whose_thread_never_paused_cannot_be_judged(tmp_path):
    path = tmp_path / "pty.yaml"
    path.write_text(
        PTY_AGENT
        + textwrap.dedent(
            """\
            reviewer:
              kind: pty
              argv: ["{python}", -c, "input('[a]pprove: '); raise SystemExit(3)"]
              keys: [{type: a, at: "[a]pprove: "}]
            """
        )
    )
    failures = run_scenario(path).failures
    assert failures == [
        "pty: the program exited with status 3; its screen:\n    | [a]pprove: a",
        "pty: thread 'thread-1' in {db} never paused at an interrupt, so what the prompts "
        "showed cannot be judged. Expected the program to keep its checkpoints in `{db}` on "
        "thread `{thread_id}` (see its argv).",
    ]


def test_a_pty_scenario_without_pexpect_is_unsupported(tmp_path, monkeypatch):
    path = tmp_path / "pty.yaml"
    path.write_text(
        PTY_AGENT + 'reviewer: {kind: pty, argv: ["{python}"], keys: [{type: a, at: "?"}]}\n'
    )
    _without(monkeypatch, "pexpect")
    with pytest.raises(Unsupported, match=r"`reviewer.kind: pty` needs pexpect \(the `frontends`"):
        run_scenario(path)


# --- stable output ------------------------------------------------------------------------------


def test_a_real_server_and_webhook_report_the_same_on_every_run():
    """No port, pid or wall-clock time reaches the report: two runs print the same text."""
    from hitl_sim.catalog import catalog_dir

    path = catalog_dir() / "style_webhook_twice.yaml"
    first, second = (run_scenario(load_scenario(path, "wall_clock")) for _ in range(2))
    assert first.passed, first.report()
    assert first.report() == second.report()
    assert "127.0.0.1" not in first.report()
    assert "is stamped '2030-01-01T09:00:01+00:00'" in first.report()
