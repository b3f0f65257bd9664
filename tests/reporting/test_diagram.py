"""The sequence diagram of real runs of every interrupt kind, as Mermaid and as SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from hitl_sim.reporting.diagram import mermaid, sequence_diagram, svg, violations_of
from tests.agents.secrets import SECRETS, secret_run
from tests.reporting import runs

SVG = "{http://www.w3.org/2000/svg}"


def texts(picture: str) -> list[str]:
    """Every text line drawn in an SVG (parsed: the document must be well-formed XML)."""
    root = ET.fromstring(picture)
    return [el.text or "" for el in root.iter(f"{SVG}text")]


def participants(source) -> list[str]:
    return [p.label for p in sequence_diagram(source).participants]


def test_batched_review_shows_the_calls_the_decisions_and_what_ran():
    run = runs.batched_run()
    text = mermaid(run)

    assert participants(run) == [
        "User",
        "Agent (model)",
        "HITL gate",
        "Reviewer",
        "tool send_email",
        "tool delete_file",
    ]
    assert text.startswith("sequenceDiagram\n    title run#58; finished#59; no safety violations\n")
    assert (
        "agent->>gate: +0s interrupt #35;1 (batched, node HumanInTheLoopMiddleware.after_model)"
        "#58; review<br/>  send_email(to='ops@example.com', body='done')  allowed#58; "
        "approve/edit/reject/respond<br/>  delete_file(path='/srv/a')  allowed#58; "
        "approve/edit/reject/respond\n"
    ) in text
    # who and when on the frozen clock, the edited arguments, the reason
    assert (
        "reviewer-->>gate: +2h decision for #35;1 send_email(to='ops@example.com', body='done')"
        "#58;<br/>  edit(to='team@example.com', by='ann', after=2#58;00#58;00)<br/>  by ann, "
        "at 2030-01-01T11#58;00#58;00Z (after 2h)<br/>  edited to "
        "send_email(to='team@example.com', body='done')\n"
    ) in text
    assert "  reason#58; Keep it, we need a backup first" in text
    assert "Note over tool2: delete_file refused (reject)#58; must not run\n" in text
    assert "agent->>tool1: +2h send_email(to='team@example.com', body='done')\n" in text
    assert "ran#58; send_email<br/>refused (did not run)#58; delete_file" in text
    assert "VIOLATION" not in text


def test_per_call_review_shows_one_interrupt_per_call_and_one_resume():
    run = runs.per_call_run()
    text = mermaid(run)

    assert text.count("agent->>gate: +0s interrupt") == 2
    assert "interrupt #35;1 (per_call, node tools)" in text
    assert "interrupt #35;2 (per_call, node tools)" in text
    assert "gate->>agent: +2h resume 1 (#35;1, #35;2)#58; Command(resume=...)\n" in text
    assert "refused (did not run)#58; delete_file" in text


def test_a_raw_interrupt_shows_its_value_and_the_answer():
    text = mermaid(runs.raw_run())

    assert participants(runs.raw_run()) == ["User", "Agent (model)", "HITL gate", "Reviewer"]
    assert (
        "agent->>gate: +0s interrupt #35;1 (raw, node _ask)#58; "
        "#123;'question'#58; 'Deploy to prod?', 'risk'#58; 'high'#125;\n"
    ) in text
    assert "answer(#123;'approved'#58; True, 'approver_id'#58; 'vp-7'#125;, by='vp-7'" in text
    assert "by vp-7, at 2030-01-01T09#58;05#58;00Z (after 5m)" in text
    assert "ran#58; no tool" in text


def test_a_static_breakpoint_is_continued_with_invoke_none():
    text = mermaid(runs.breakpoint_run())

    assert "static breakpoint before node _second" in text
    assert "interrupt #35;1 (breakpoint, node _second)" in text
    assert "gate->>agent: +0s resume 1 (#35;1)#58; invoke(None)\n" in text
    assert "approve(by='ops')<br/>  by ops" in text


def test_a_subagents_interrupt_comes_from_the_subagent_and_its_tool_runs_there():
    run = runs.subagent_run()
    text = mermaid(run)

    assert participants(run) == [
        "User",
        "Agent (model)",
        "Subagent cleaner",
        "HITL gate",
        "Reviewer",
        "tool task",
        "tool delete_file",
    ]
    assert "sub1->>gate: +0s interrupt #35;1 (batched, node tools)" in text
    assert "sub1->>tool2: +0s delete_file(path='/tmp/x')\n" in text
    assert "tool2-->>sub1: -#62; deleted /tmp/x\n" in text
    assert "agent->>tool1: +0s task(description='Clean /tmp', subagent_type='cleaner')" in text


def test_a_broken_agent_is_marked_where_the_rejected_call_ran_with_its_evidence():
    run = runs.broken_run()
    found = violations_of(run)
    text = mermaid(run)
    picture = svg(run)

    assert [v.check for v in found] == ["rejected_call_ran", "reason_not_delivered"]
    assert not run.checked  # judging the diagram is not the test's own check
    assert "title run#58; finished#59; 2 safety violations" in text
    assert (
        "    rect rgb(255, 235, 233)\n"
        "        agent->>tool1: VIOLATION [rejected_call_ran]<br/>+0s delete_file(path='/srv/db')\n"
        "    end\n"
    ) in text
    assert "evidence#58; ran#58; delete_file(path='/srv/db') (call 'call_1', resume 1)" in text
    assert "delete_file refused (reject)#58; must not run#59; it RAN" in text
    assert "VIOLATION [reason_not_delivered]" in text  # not tied to a call: at the end
    lines = texts(picture)
    assert lines[0] == "run: finished; 2 safety violations"
    assert "VIOLATION [rejected_call_ran]" in lines
    assert any(line.startswith("evidence: ran: delete_file(path='/srv/db')") for line in lines)
    red = [el for el in ET.fromstring(picture).iter(f"{SVG}line") if el.get("stroke") == "#cf222e"]
    assert red  # the arrow of the call that ran is drawn in red


def test_a_run_not_judged_says_so_instead_of_looking_clean():
    run = runs.broken_run()

    assert "safety checks not run" in mermaid(run, None)
    assert "VIOLATION" not in mermaid(run, None)
    assert "title run#58; finished#59; safety checks not run" in mermaid(run, None)


@pytest.mark.parametrize(
    "make",
    [
        runs.batched_run,
        runs.per_call_run,
        runs.raw_run,
        runs.breakpoint_run,
        runs.subagent_run,
        runs.broken_run,
    ],
    ids=lambda f: f.__name__,
)
def test_the_same_flow_draws_the_same_bytes_on_two_real_runs(make):
    first, second = make(), make()

    assert first.thread_id != second.thread_id  # two fresh threads, two different runs
    assert mermaid(first) == mermaid(second)
    assert svg(first) == svg(second)
    ET.fromstring(svg(first))


def test_every_secret_the_run_saw_is_masked_in_both_forms():
    run = secret_run()
    text, picture = mermaid(run), svg(run)

    for secret in SECRETS:
        assert secret not in text
        assert secret not in picture
    assert "password=***" in text
    assert "VIOLATION [unapproved_call]" in text  # fetch ran unreviewed although gated


def test_hostile_text_cannot_break_out_of_mermaid_or_svg():
    run = runs.hostile_run()
    text, picture = mermaid(run), svg(run)

    assert "<" not in text.replace("<br/>", "")
    assert ">" not in text.replace("<br/>", "").replace("->>", "").replace("-->>", "")
    assert "#60;/script#62;#60;img src=x onerror=alert(1)#62;" in text
    root = ET.fromstring(picture)  # still well-formed: the text is escaped
    assert {el.tag.removeprefix(SVG) for el in root.iter()} <= {
        "svg",
        "title",
        "rect",
        "text",
        "line",
        "polygon",
        "path",
    }
    assert "</script>" not in picture and "<img" not in picture
    assert any(runs.HOSTILE in line for line in texts(picture))


def test_a_refused_call_without_an_id_is_not_claimed_to_have_stayed_unrun():
    import dataclasses

    run = runs.batched_run()
    assert "refused (did not run)#58; delete_file" in mermaid(run)
    run.decisions[:] = [
        dataclasses.replace(r, action=dataclasses.replace(r.action, tool_call_id=None))
        for r in run.decisions
    ]

    text = mermaid(run)
    assert "did not run" not in text
    assert "refused (no call id to tell whether it ran)#58; delete_file" in text
