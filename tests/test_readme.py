"""The documentation runs: every ```python block in README.md and docs/*.md executes in a fresh
namespace, and every ```yaml block that starts with a `# scenarios/<name>.yaml` line is a scenario
file that must pass. A block right after a `<!-- requires: module.name -->` line is skipped where
that module cannot be imported (e.g. langchain 1.5's AutoModeMiddleware on the lowest versions)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hitl_sim.scenarios import run_scenario

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PYTHON = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
REQUIRES = re.compile(r"<!-- requires: (\S+) -->\n\Z")
SCENARIO = re.compile(r"^```yaml\n# scenarios/(\S+\.yaml)\n(.*?)^```", re.S | re.M)


def _blocks(pattern: re.Pattern[str]) -> list[tuple[str, re.Match[str]]]:
    found = []
    for doc in DOCS:
        text = doc.read_text()
        for match in pattern.finditer(text):
            found.append((f"{doc.name}:{text.count(chr(10), 0, match.start()) + 1}", match))
    return found


@pytest.mark.parametrize(("where", "block"), _blocks(PYTHON), ids=lambda v: v)
def test_documented_example_runs(where, block, tmp_path, monkeypatch):
    needed = REQUIRES.search(block.string, 0, block.start())
    if needed is not None:
        pytest.importorskip(needed.group(1), reason=f"{where} needs {needed.group(1)}")
    monkeypatch.chdir(tmp_path)
    exec(compile(block.group(1), where, "exec"), {"__name__": "readme_example"})


@pytest.mark.parametrize(("where", "block"), _blocks(SCENARIO), ids=lambda v: v)
def test_documented_scenario_file_passes(where, block, tmp_path):
    path = tmp_path / block.group(1)
    path.write_text(block.group(2))
    result = run_scenario(path)
    assert result.passed, f"{where}:\n{result.report()}"
