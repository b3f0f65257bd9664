"""The scenario loader cannot be knocked over: the catalog's own files, mutated.

Every mutated file either loads into scenarios or raises `ScenarioError` naming the file, with
a short message, in bounded time; never another exception. Mutations: byte flips and random
bytes, truncation, duplicated and deleted lines, deep nesting, hostile numbers and durations,
anchors and aliases (bombs, cycles, merges, undefined ones), and bad encodings.

Budget: 8 x the profile's `max_examples` (200 in the suite, a few seconds; 8,000 under
`nox -s fuzz`, which sets HITL_SIM_FUZZ_EXAMPLES=1000).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hitl_sim.catalog import catalog_dir
from hitl_sim.errors import ScenarioError
from hitl_sim.scenarios import safe_yaml
from hitl_sim.scenarios.loader import load_scenarios
from hitl_sim.scenarios.schema import Scenario

CATALOG = {path.name: path.read_bytes() for path in sorted(catalog_dir().glob("*.yaml"))}
"""The catalog's files as they were at import (examples must not depend on later edits)."""
SECONDS = 5.0
"""Bound on one load (files are at most 256 KiB; the slowest mutants take well under 1 s)."""
MESSAGE_CHARS = 20_000
LINE_CHARS = 1_000

Mutation = Callable[[st.DrawFn, bytes], bytes]


def _index(draw: st.DrawFn, data: bytes) -> int:
    return draw(st.integers(0, max(len(data) - 1, 0)))


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def flip(draw: st.DrawFn, data: bytes) -> bytes:
    at = _index(draw, data)
    if not data:
        return data
    return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]


def insert_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    at = _index(draw, data)
    return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]


def truncate(draw: st.DrawFn, data: bytes) -> bytes:
    return data[: _index(draw, data)]


def duplicate_lines(draw: st.DrawFn, data: bytes) -> bytes:
    lines = _lines(data)
    start = draw(st.integers(0, len(lines) - 1))
    stop = draw(st.integers(start + 1, min(len(lines), start + 12)))
    at = draw(st.integers(0, len(lines)))
    copies = draw(st.integers(1, 3))
    return b"".join(lines[:at] + lines[start:stop] * copies + lines[at:])


def delete_lines(draw: st.DrawFn, data: bytes) -> bytes:
    lines = _lines(data)
    start = draw(st.integers(0, len(lines) - 1))
    stop = draw(st.integers(start + 1, min(len(lines), start + 6)))
    return b"".join(lines[:start] + lines[stop:])


NESTINGS = [
    lambda n: b"[" * n + b"]" * n,
    lambda n: b"{a: " * n + b"1" + b"}" * n,
    lambda n: b"\n" + b"".join(b"  " * (i + 1) + b"- \n" for i in range(n)),
    lambda n: b"\n" + b"".join(b" " * (i + 1) + b"k:\n" for i in range(n)) + b" " * n + b" v: 1",
    lambda n: b"[" * n,
]


def deep(draw: st.DrawFn, data: bytes) -> bytes:
    depth = draw(st.sampled_from([50, 99, 100, 101, 150, 999, 1001, 3000]))
    nested = draw(st.sampled_from(NESTINGS))(depth)
    return _set_value(draw, data, nested)


HOSTILE_SCALARS = [
    b"9" * 4301,
    b"-" + b"9" * 5000,
    b"1" + b"0" * 19,
    b"9223372036854775808",
    b"-9223372036854775809",
    b"0x" + b"f" * 40,
    b"1:" * 200 + b"1",
    b".inf",
    b"-.inf",
    b".nan",
    b"1e999",
    b"-1",
    b"-0.5",
    b"99999999999999d",
    b"1" * 400 + b"s",
    b"366d",
    b"0000-01-01",
    b"2030-02-30",
    b"2030-01-01 25:00:00",
    b"!!binary AAAA=",
    b"!!binary ~~~",
    b"!!set {a, b}",
    b"!!omap [a: 1, a: 2]",
    b"!!python/object:os.system ls",
    b"!!timestamp yesterday",
    b"!!int 1.5",
    b'"\\x00\\ud800"',
    b"''",
    b"~",
    b"[]",
    b"{}",
    b"x" * 50_000,
]


def hostile_number(draw: st.DrawFn, data: bytes) -> bytes:
    return _set_value(draw, data, draw(st.sampled_from(HOSTILE_SCALARS)))


def _bomb(levels: int, width: int) -> bytes:
    lines = [b"b0: &b0 [" + b", ".join([b"lol"] * width) + b"]\n"]
    for i in range(1, levels):
        refs = b", ".join([b"*b%d" % (i - 1)] * width)
        lines.append(b"b%d: &b%d [%s]\n" % (i, i, refs))
    return b"".join(lines)


def aliases(draw: st.DrawFn, data: bytes) -> bytes:
    kind = draw(st.sampled_from(["bomb", "text", "cycle", "reuse", "merge", "undefined", "twice"]))
    if kind == "bomb":
        levels = draw(st.integers(2, 9))
        return _bomb(levels, draw(st.integers(2, 10))) + _set_value(
            draw, data, b"*b%d" % (levels - 1)
        )
    if kind == "text":
        head = b"t0: &t0 " + b"x" * draw(st.sampled_from([10, 10_000, 60_000])) + b"\n"
        refs = b"[" + b", ".join([b"*t0"] * draw(st.sampled_from([2, 50, 500]))) + b"]"
        return head + _set_value(draw, data, refs)
    if kind == "cycle":
        return _set_value(draw, data, draw(st.sampled_from([b"&c [*c]", b"&c {a: *c}"])))
    if kind == "reuse":
        return b"shared: &s {a: 1}\n" + _set_value(draw, data, b"*s")
    if kind == "merge":
        return b"base: &m {a: 1, b: 2}\n" + _set_value(draw, data, b"{<<: *m, b: 3}")
    if kind == "undefined":
        return _set_value(draw, data, b"*nowhere")
    return _set_value(draw, data, b"&x 1") + b"again: &x 2\n"


def encoding(draw: st.DrawFn, data: bytes) -> bytes:
    kind = draw(st.sampled_from(["latin1", "utf16", "invalid", "bom", "control", "surrogate"]))
    if kind == "latin1":
        return _set_value(draw, data, "caf\u00e9 na\u00efve".encode("latin-1"))
    if kind == "utf16":
        return data.decode("utf-8", "replace").encode(draw(st.sampled_from(["utf-16", "utf-32"])))
    if kind == "bom":
        return b"\xef\xbb\xbf" + data
    at = _index(draw, data)
    raw = {
        "invalid": draw(st.sampled_from([b"\xff", b"\xc3", b"\xe2\x82", b"\xf8\x88\x80\x80"])),
        "control": draw(st.sampled_from([b"\x00", b"\x07", b"\x1b", b"\x7f", b"\xc2\x80"])),
        "surrogate": b"\xed\xa0\x80",
    }[kind]
    return data[:at] + raw + data[at:]


def _set_value(draw: st.DrawFn, data: bytes, value: bytes) -> bytes:
    """`data` with the value of one `key: value` line replaced by `value` (or one appended)."""
    lines = _lines(data)
    keyed = [i for i, line in enumerate(lines) if b": " in line or line.rstrip().endswith(b":")]
    if not keyed or draw(st.booleans()) and draw(st.booleans()):
        key = draw(st.sampled_from([b"input", b"extra", b"expect", b"run"]))
        return data + b"\n" + key + b": " + value + b"\n"
    i = draw(st.sampled_from(keyed))
    line = lines[i]
    head = line.split(b": ", 1)[0] if b": " in line else line.rstrip()[:-1]
    lines[i] = head + b": " + value + b"\n"
    return b"".join(lines)


MUTATIONS: list[Mutation] = [
    flip,
    insert_bytes,
    truncate,
    duplicate_lines,
    delete_lines,
    deep,
    hostile_number,
    aliases,
    encoding,
]


@st.composite
def mutants(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(CATALOG)))
    data = CATALOG[name]
    for mutation in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3)):
        data = mutation(draw, data)
    return name, data


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def test_every_catalog_file_loads_and_refuses_an_appended_alias_bomb(folder):
    """What the fuzz test mutates: files that load, and that the loader still guards."""
    for name, data in CATALOG.items():
        path = folder / name
        path.write_bytes(data)
        assert load_scenarios(path)
        path.write_bytes(data + b"\n" + _bomb(9, 9) + b"xtra: *b8\n")
        with pytest.raises(ScenarioError, match="alias bomb"):
            load_scenarios(path)


@settings(max_examples=settings.default.max_examples * 8)
@given(mutant=mutants(), loader=st.sampled_from(safe_yaml.LOADERS))
def test_a_mutated_catalog_file_loads_or_is_a_scenario_error(folder, mutant, loader):
    name, data = mutant
    path = folder / name
    path.write_bytes(data)
    start = time.perf_counter()
    with mock.patch.object(safe_yaml, "LOADERS", [loader]):
        try:
            scenarios = load_scenarios(path)
        except ScenarioError as exc:
            message = str(exc)
            assert message.startswith(f"{path}"), message[:300]
            assert len(message) <= MESSAGE_CHARS, message[:300]
            assert max(map(len, message.splitlines())) <= LINE_CHARS, message[:300]
        else:
            assert scenarios
            assert all(isinstance(s, Scenario) for s in scenarios)
    assert time.perf_counter() - start < SECONDS
