from __future__ import annotations

import subprocess
import sys

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
