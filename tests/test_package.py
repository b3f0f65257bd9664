from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

import hitl_sim


def test_every_public_name_resolves():
    for name in hitl_sim.__all__:
        assert getattr(hitl_sim, name) is not None, name


def test_importing_the_package_and_plugin_imports_no_heavy_dependency():
    code = (
        "import sys, hitl_sim, hitl_sim.pytest_plugin\n"
        "heavy = {'langgraph', 'langchain', 'langchain_core', 'syrupy', 'hypothesis',"
        " 'freezegun'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_engine_does_not_import_pytest():
    code = (
        "import sys, hitl_sim\n"
        "for n in hitl_sim.__all__: getattr(hitl_sim, n)\n"
        "print('pytest' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


TOP_LEVEL = [
    # running a graph
    "simulate",
    "asimulate",
    "resume",
    "aresume",
    "recover",
    "arecover",
    "Run",
    # the human
    "Reviewer",
    "when",
    "approve",
    "edit",
    "reject",
    "respond",
    "answer",
    "update",
    "unchecked",
    # the model
    "ScriptedChatModel",
    "FunctionChatModel",
    "call",
    "say",
    "override_models",
    "block_real_models",
    # watching and judging
    "Spy",
    "HitlSim",
    "Violation",
    # the errors a test meets first
    "HitlSimError",
    "CheckFailed",
    "ScriptExhausted",
    "UnexpectedInterrupt",
    "ThreadError",
    "__version__",
]
"""The top level, as the README's Layout section documents it."""


def test_the_top_level_is_the_documented_list():
    assert sorted(hitl_sim.__all__) == sorted(TOP_LEVEL)
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    documented = readme.split("<!-- top-level names -->")[1]
    assert sorted(re.findall(r"`(\w+)`", documented.split("<!-- end -->")[0])) == sorted(TOP_LEVEL)


def test_the_lazy_table_and_its_type_checking_twin_agree():
    tree = ast.parse(Path(hitl_sim.__file__).read_text())
    guarded = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
    )
    twin = {
        alias.asname: node.module
        for node in guarded.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert twin == hitl_sim._LAZY


def test_a_name_moved_to_its_subpackage_says_where_to_look():
    with pytest.raises(AttributeError, match="other names come from their subpackage"):
        hitl_sim.checkpoint_store  # noqa: B018


def test_the_version_comes_from_the_package_metadata():
    assert hitl_sim.__version__ == version("hitl-sim")


def test_every_subpackage_all_resolves_and_says_what_it_owns():
    for name in SUBPACKAGES:
        module = importlib.import_module(f"hitl_sim.{name}")
        assert module.__doc__ and "may import" in module.__doc__.replace("\n", " "), name
        for public in getattr(module, "__all__", ()):
            assert getattr(module, public) is not None, (name, public)


SUBPACKAGES = [
    "models",
    "reviewing",
    "driving",
    "checking",
    "reporting",
    "durability",
    "scenarios",
    "fuzzing",
    "frontends",
    "catalog",
]


def test_the_typed_options_cover_every_option_and_every_check():
    from hitl_sim.checking.checks import CHECKS, CheckOptions
    from hitl_sim.driving._session import _Session
    from hitl_sim.driving.options import SIMULATE_DEFAULTS, SimulateOptions

    assert set(CheckOptions.__annotations__) == set(CHECKS)
    assert set(SimulateOptions.__annotations__) == set(SIMULATE_DEFAULTS)
    session_keywords = set(inspect.signature(_Session).parameters) - {"graph", "input", "reviewer"}
    assert set(SIMULATE_DEFAULTS) == session_keywords - {"run", "who"}


def test_the_tests_mirror_the_package_tree():
    tests = Path(__file__).parent
    package = Path(hitl_sim.__file__).parent
    subpackages = {p.parent.name for p in package.glob("*/__init__.py")}
    folders = {p.parent.name for p in tests.glob("*/test_*.py")}
    assert folders - subpackages == {"plugin"}  # hitl_sim/pytest_plugin.py
    assert subpackages - folders == set()
