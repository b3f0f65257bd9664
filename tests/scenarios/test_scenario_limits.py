"""The scenario loader's limits: every malformed file is a `ScenarioError` naming the file and
line, with a short message, whichever YAML loader (libyaml's or the pure-Python one) reads it."""

from __future__ import annotations

import textwrap

import pytest

from hitl_sim.errors import ScenarioError
from hitl_sim.scenarios import safe_yaml
from hitl_sim.scenarios.loader import load_scenario, load_scenarios
from hitl_sim.scenarios.safe_yaml import MAX_FILE_BYTES, read_yaml
from hitl_sim.scenarios.schema import Scenario
from tests.scenarios import APPROVED, EMAIL_AGENT

BOMB = (
    b"description: x\n"
    b"agent: {kind: create_agent}\n"
    b'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + b"".join(
        b"a%d: &a%d [%s]\n" % (i, i, b",".join([b"*a%d" % (i - 1)] * 9)) for i in range(1, 9)
    )
    + b"input: {x: *a8}\n"
)


@pytest.fixture(params=safe_yaml.LOADERS, ids=lambda loader: loader.__name__)
def loader(request, monkeypatch):
    """Each test runs with every loader installed here (libyaml's first, when present)."""
    monkeypatch.setattr(safe_yaml, "LOADERS", [request.param])
    return request.param


def write(tmp_path, data, name="case.yaml"):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else textwrap.dedent(data).encode())
    return path


def error_of(path):
    with pytest.raises(ScenarioError) as caught:
        load_scenarios(path)
    return str(caught.value)


# --- one parse, with the C loader where available ---------------------------------------------


def test_libyaml_is_preferred_and_the_pure_python_loader_is_the_fallback():
    names = [loader.__name__ for loader in safe_yaml.LOADERS]
    assert names[-1] == "_PyLoader"
    if safe_yaml.yaml.__with_libyaml__:
        assert names == ["_CLoader", "_PyLoader"]


def test_a_file_is_parsed_once(tmp_path, loader, monkeypatch):
    made = []

    class Counting(loader):
        def __init__(self, stream):
            made.append(stream)
            super().__init__(stream)

    monkeypatch.setattr(safe_yaml, "LOADERS", [Counting])
    monkeypatch.setattr(safe_yaml.yaml, "safe_load", None)
    monkeypatch.setattr(safe_yaml.yaml, "compose", None)
    assert isinstance(load_scenario(write(tmp_path, APPROVED)), Scenario)
    assert len(made) == 1


def test_a_syntax_error_is_described_the_same_by_both_loaders(tmp_path, loader):
    path = write(tmp_path, "description: x\nagent:\n  kind: create_agent\n  tools: {a: 1\n")
    assert error_of(path) == (
        f"{path}:5: not valid YAML: expected ',' or '}}', but got '<stream end>'.\n"
        "Fix the YAML syntax (indentation, quoting) at that line."
    )


# --- size and encoding ------------------------------------------------------------------------


def test_a_file_over_the_size_limit(tmp_path, loader):
    path = write(tmp_path, APPROVED.encode() + b"#" * MAX_FILE_BYTES)
    assert error_of(path) == (
        f"{path}: the file is larger than the 262,144-byte limit for a scenario file.\n"
        "Split it into several files, or build large inputs in a factory "
        "(`agent: {kind: factory}`, docs/scenarios.md)."
    )


def test_bytes_that_are_not_utf8(tmp_path, loader):
    path = write(tmp_path, APPROVED.encode() + "input: caf\u00e9\n".encode("latin-1"))
    assert error_of(path) == (
        f"{path}:17: not UTF-8: invalid continuation byte (byte 0xe9 at column 11).\n"
        "Save the file as UTF-8."
    )


def test_a_character_yaml_does_not_allow(tmp_path, loader):
    path = write(tmp_path, APPROVED + "input: a\x00b\n")
    assert error_of(path) == (
        f"{path}:17: not valid YAML: the character '\\x00' (U+0000) at column 9 is not allowed in "
        "a YAML file.\n"
        'Remove it; inside a double-quoted string it can be written as an escape ("\\x07").'
    )


def test_a_utf8_bom_is_fine(tmp_path, loader):
    assert load_scenario(write(tmp_path, b"\xef\xbb\xbf" + APPROVED.encode())).description


def test_a_missing_file(tmp_path, loader):
    path = tmp_path / "nowhere.yaml"
    assert error_of(path) == (
        f"{path}: cannot read the file: No such file or directory.\n"
        "Give the path of a readable scenario file (.yaml)."
    )


# --- depth ------------------------------------------------------------------------------------

TOO_DEEP = (
    "lists and mappings nested deeper than 100 levels.\n"
    "Flatten the structure: no scenario key needs more than a few levels."
)


@pytest.mark.parametrize("depth", [101, 150, 999, 5000])
def test_nesting_deeper_than_100_levels(tmp_path, loader, depth):
    path = write(tmp_path, APPROVED + "input:\n  x: " + "[" * depth + "]" * depth + "\n")
    assert error_of(path) == f"{path}:18: {TOO_DEEP}"


def test_nesting_of_100_levels_loads(tmp_path, loader):
    # the top-level mapping and `input` are two levels: 98 lists inside them make 100
    path = write(tmp_path, APPROVED + "input: {x: " + "[" * 98 + "]" * 98 + "}\n")
    value, lists = load_scenario(path).input["x"], 0
    while isinstance(value, list):
        value, lists = value[0] if value else None, lists + 1
    assert lists == 98


def test_nesting_through_aliases_counts(tmp_path, loader):
    text = (
        APPROVED
        + "deep: &d "
        + "[" * 60
        + "]" * 60
        + "\ninput: {x: "
        + "[" * 40
        + "*d"
        + "]" * 40
        + "}\n"
    )
    assert error_of(write(tmp_path, text)).endswith(TOO_DEEP)


def test_block_nesting_is_limited_too(tmp_path, loader):
    lines = "".join("  " * i + f"k{i}:\n" for i in range(1, 120))
    path = write(tmp_path, APPROVED + "input:\n" + lines + "  " * 120 + "v: 1\n")
    assert error_of(path) == f"{path}:117: {TOO_DEEP}"


# --- aliases ----------------------------------------------------------------------------------


def test_an_alias_bomb_is_refused_before_anything_runs(tmp_path, loader):
    path = write(tmp_path, BOMB)
    assert len(BOMB) < 800
    assert error_of(path) == (
        f"{path}:8: aliases copy the anchored value at this line (and others) until the "
        "document holds more than 200,000 values (an alias bomb).\n"
        "Use fewer aliases, or write the values out."
    )


def test_aliases_copying_too_much_text(tmp_path, loader):
    text = APPROVED + "big: &t " + "x" * 20_000 + "\ninput: {x: [" + ", ".join(["*t"] * 60) + "]}\n"
    path = write(tmp_path, text)
    assert error_of(path) == (
        f"{path}:17: aliases copy the anchored value at this line (and others) until the "
        "document holds more than 1,048,576 characters of text (an alias bomb).\n"
        "Use fewer aliases, or write the values out."
    )


def test_a_recursive_alias(tmp_path, loader):
    path = write(tmp_path, APPROVED + "input: &a {x: [*a]}\n")
    assert error_of(path) == (
        f"{path}:17: an alias refers to the anchored value at this line, which contains it (a "
        "recursive structure).\n"
        "Remove the alias: a scenario value cannot contain itself."
    )


def test_anchors_aliases_and_merge_keys_within_budget_load(tmp_path, loader):
    path = write(
        tmp_path,
        """\
        description: Two tools share one definition.
        agent:
          kind: create_agent
          tools:
            send_email: &tool {args: {to: str, body: str}, returns: "sent to {to}"}
            send_fax: *tool
          interrupt_on: {send_email: true}
        model:
          - call: {send_email: {to: bob@example.com, body: hi}}
          - say: Sent.
        reviewer: [approve]
        run: &run {mode: invoke}
        expect: {<<: {status: pending}, status: finished}
        """,
    )
    scenario = load_scenario(path)
    assert scenario.agent.tools["send_fax"] == scenario.agent.tools["send_email"]
    assert scenario.expect.status == "finished"


# --- duplicate keys ---------------------------------------------------------------------------


def test_a_duplicate_top_level_key_names_both_lines(tmp_path, loader):
    path = write(tmp_path, APPROVED + "expect: {status: pending}\n")
    assert error_of(path) == (
        f"{path}:17: duplicate key 'expect' (already at line 15); YAML would keep only the last "
        "one and silently drop the other.\n"
        "Merge the two `expect:` entries into one, or remove one."
    )


def test_a_duplicate_nested_key(tmp_path, loader):
    path = write(tmp_path, EMAIL_AGENT + "reviewer:\n  - edit: {to: a@x.com, to: b@x.com}\n")
    assert error_of(path) == (
        f"{path}:14: duplicate key 'to' (already at line 14); YAML would keep only the last one "
        "and silently drop the other.\n"
        "Merge the two `to:` entries into one, or remove one."
    )


def test_keys_equal_once_read_are_duplicates(tmp_path, loader):
    path = write(tmp_path, APPROVED + "input: {1: a, 0x1: b}\n")
    assert error_of(path) == (
        f"{path}:17: duplicate key 1 (already at line 17); YAML would keep only the last one "
        "and silently drop the other.\n"
        "Merge the two `1:` entries into one, or remove one."
    )


# --- numbers and scalars ----------------------------------------------------------------------


def test_an_integer_of_more_than_4300_digits(tmp_path, loader):
    path = write(tmp_path, APPROVED + "run: {max_resumes: " + "9" * 5000 + "}\n")
    assert error_of(path) == (
        f"{path}:17: the integer 99999999999999999999...(5,000 chars) is out of range: integers "
        "in a scenario file are 64-bit (-9223372036854775808 to 9223372036854775807).\n"
        "Use a smaller number, or quote it to make it a string."
    )


@pytest.mark.parametrize(
    "written", ["9223372036854775808", "-9223372036854775809", "0x1" + "0" * 16]
)
def test_an_integer_beyond_64_bits(tmp_path, loader, written):
    path = write(tmp_path, APPROVED + f"input: {{n: {written}}}\n")
    assert error_of(path) == (
        f"{path}:17: the integer {written} is out of range: integers in a scenario file are "
        "64-bit (-9223372036854775808 to 9223372036854775807).\n"
        "Use a smaller number, or quote it to make it a string."
    )


def test_64_bit_integers_load(tmp_path, loader):
    path = write(tmp_path, APPROVED + "input: {n: [9223372036854775807, -9223372036854775808]}\n")
    assert load_scenario(path).input == {"n": [2**63 - 1, -(2**63)]}


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("2030-02-30", "cannot read '2030-02-30' as timestamp: day is out of range for month."),
        ("!!timestamp yesterday", "cannot read 'yesterday' as timestamp."),
        ("!!bool maybe", "cannot read 'maybe' as bool."),
        ("!!int 1.5", "cannot read '1.5' as int: invalid literal for int() with base 10: '1.5'."),
    ],
)
def test_a_scalar_its_tag_cannot_read(tmp_path, loader, written, problem):
    path = write(tmp_path, APPROVED + f"input: {{x: {written}}}\n")
    assert error_of(path) == (
        f"{path}:17: {problem}\nQuote the value to make it a string, or correct it."
    )


def test_a_bad_value_is_quoted_as_a_short_excerpt(tmp_path, loader):
    path = write(tmp_path, EMAIL_AGENT + "reviewer: [" + "a" * 200_000 + "]\n")
    message = error_of(path)
    assert len(message) < 600
    assert (
        f"- {path}:13: reviewer[0]: a decision is `approve`, `reject`, or a mapping like "
        "{reject: reason}, got '" + "a" * 97 + "..." + "a" * 98 + "'\n"
    ) in message


def test_a_huge_unknown_key_is_cut_short(tmp_path, loader):
    path = write(tmp_path, APPROVED + "k" * 1000 + ": 1\n")
    assert error_of(path) == (
        f"{path}: 1 problem(s) in scenario file:\n"
        f"- {path}:17: {'k' * 57}...: unknown key '{'k' * 57}...'. Expected one of: description, "
        "tags, agent, model, models, input, reviewer, run, expect, then, webhook, name, path.\n"
        f"  Fix: remove or rename `{'k' * 57}...`."
    )


def test_at_most_20_problems_are_listed(tmp_path, loader):
    path = write(tmp_path, EMAIL_AGENT + "reviewer: [" + ", ".join(["aprove"] * 30) + "]\n")
    message = error_of(path)
    assert message.startswith(f"{path}: 30 problem(s) in scenario file:\n")
    assert message.count("\n- ") == 21
    assert message.endswith(
        "  Fix: change `reviewer[19]` as described above (see docs/scenarios.md).\n"
        "- ... and 10 more; fix these first."
    )


def test_a_set_too_big_to_validate(tmp_path, loader):
    members = "".join(f"  m{i}: {{description: m{i}}}\n" for i in range(3000))
    path = write(tmp_path, APPROVED + "scenarios:\n" + members)
    assert error_of(path) == (
        f"{path}:17: scenarios: 3,000 members in a file of 12,050 values: each member is "
        "validated with the shared keys, more than 500,000 values in all.\n"
        "Split the set into several files."
    )


# --- values validated at the boundary ---------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "shown"),
    [(".inf", "inf"), (".nan", "nan"), ("-5", "-5"), ("400d", "'400d'"), ("1.0e+999", "inf")],
)
def test_a_latency_out_of_range(tmp_path, loader, written, shown):
    path = write(tmp_path, EMAIL_AGENT + f"reviewer:\n  - {{approve: , after: {written}}}\n")
    assert error_of(path) == (
        f"{path}: 1 problem(s) in scenario file:\n"
        f"- {path}:14: reviewer[0]: after: {shown} is out of range: a duration is from 0 "
        "seconds to 365 days (e.g. 90, '15m', '2h', '30d')\n"
        "  Fix: change `reviewer[0]` as described above (see docs/scenarios.md)."
    )


def test_a_year_of_latency_loads(tmp_path, loader):
    path = write(tmp_path, EMAIL_AGENT + "reviewer:\n  - {approve: , after: 365d}\n")
    assert load_scenario(path).reviewer.decisions[0].after.days == 365


def test_a_timeout_out_of_range(tmp_path, loader):
    path = write(
        tmp_path,
        EMAIL_AGENT
        + "reviewer:\n  decisions: [approve]\n  timeout: 99999999d\n  on_timeout: reject\n",
    )
    assert error_of(path) == (
        f"{path}: 1 problem(s) in scenario file:\n"
        f"- {path}:15: reviewer.timeout: '99999999d' is out of range: a duration is from 0 seconds "
        "to 365 days (e.g. 90, '15m', '2h', '30d')\n"
        "  Fix: change `reviewer.timeout` as described above (see docs/scenarios.md)."
    )


def test_a_reviewer_id_that_is_not_a_string(tmp_path, loader):
    path = write(tmp_path, EMAIL_AGENT + "reviewer:\n  - {approve: , by: 5}\n")
    assert error_of(path) == (
        f"{path}: 1 problem(s) in scenario file:\n"
        f"- {path}:14: reviewer[0]: `by` takes a reviewer id string, got 5\n"
        "  Fix: change `reviewer[0]` as described above (see docs/scenarios.md)."
    )


def test_what_a_decision_builder_refuses_is_reported_with_its_line(tmp_path, loader):
    path = write(tmp_path, EMAIL_AGENT + "reviewer: [{edit: {1: x}}]\n")
    assert error_of(path) == (
        f"{path}: 1 problem(s) in scenario file:\n"
        f"- {path}:13: reviewer[0]: edit() takes names as str keys, got 1 in {{1: 'x'}}.\n"
        "  Fix: change `reviewer[0]` as described above (see docs/scenarios.md)."
    )


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        (
            "tomorrow",
            "clock='tomorrow' is not an ISO 8601 date-time. Expected e.g. "
            "clock='2030-01-01T09:00:00+00:00' or a datetime.",
        ),
        (
            "'1900-01-01'",
            "clock='1900-01-01' is out of range. A frozen clock starts from "
            "1970-01-01T00:00:00+00:00 up to (not including) 3000-01-01T00:00:00+00:00, e.g. "
            "clock='2030-01-01T09:00:00+00:00'.",
        ),
    ],
)
def test_a_clock_start_out_of_range(tmp_path, loader, written, problem):
    path = write(tmp_path, APPROVED + f"run: {{clock: {written}}}\n")
    assert error_of(path) == (
        f"{path}: 1 problem(s) in scenario file:\n"
        f"- {path}:17: run.clock: {problem}\n"
        "  Fix: change `run.clock` as described above (see docs/scenarios.md)."
    )


def test_read_yaml_returns_data_nodes_and_size(tmp_path, loader):
    document = read_yaml(write(tmp_path, "a: [1, 2]\n"))
    assert document.data == {"a": [1, 2]}
    assert document.root.start_mark.line == 0
    assert document.values == 5
