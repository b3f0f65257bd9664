"""The Mermaid text of real runs of every interrupt kind parses and renders in mermaid.js itself
(in headless Chromium), hostile text included. Needs a local copy of mermaid.js: skipped unless
HITL_SIM_MERMAID_JS names `mermaid.min.js` (e.g. `npm install mermaid@11` in a scratch folder,
then HITL_SIM_MERMAID_JS=<folder>/node_modules/mermaid/dist/mermaid.min.js)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hitl_sim.reporting.diagram import mermaid
from tests.agents.secrets import secret_run
from tests.reporting import runs
from tests.reporting.browser import CHROMIUM, chromium

MERMAID_JS = Path(os.environ.get("HITL_SIM_MERMAID_JS", "/nonexistent/mermaid.min.js"))

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent"),
    pytest.mark.skipif(
        not MERMAID_JS.is_file(),
        reason="set HITL_SIM_MERMAID_JS to a local mermaid.min.js (npm install mermaid@11) to "
        "check the Mermaid text with mermaid.js itself",
    ),
]

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><script src="{js}"></script></head>
<body><script>
const texts = {texts};
mermaid.initialize({{startOnLoad: false, securityLevel: "strict"}});
(async () => {{
  let n = 0;
  for (const [name, text] of Object.entries(texts)) {{
    n += 1;
    try {{
      await mermaid.parse(text);
      const drawn = await mermaid.render("d" + n, text);
      if (!drawn.svg.includes("<svg")) {{ throw new Error("no svg"); }}
      console.log("RENDERED " + name);
    }} catch (e) {{
      console.log("BROKEN " + name + ": " + String((e && e.message) || e).slice(0, 400));
    }}
  }}
}})();
</script></body></html>
"""


def test_every_kind_of_run_is_valid_mermaid(tmp_path):
    made = {
        make.__name__: mermaid(make())
        for make in (
            runs.batched_run,
            runs.per_call_run,
            runs.raw_run,
            runs.breakpoint_run,
            runs.subagent_run,
            runs.broken_run,
            runs.hostile_run,
            secret_run,
        )
    }
    control = "sequenceDiagram\n    participant a as A\n    a->>: no target\n"  # must break
    page = tmp_path / "mermaid.html"
    texts = json.dumps({**made, "control": control}).replace("</", "<\\/")
    page.write_text(PAGE.format(js=MERMAID_JS.resolve().as_uri(), texts=texts))

    found = chromium(page.as_uri(), "--allow-file-access-from-files", "--virtual-time-budget=30000")

    broken = [line for line in found.console if line.startswith("BROKEN control: ")]
    assert len(broken) == 1, found.console  # the checker sees a broken diagram
    rendered = sorted(line for line in found.console if not line.startswith("BROKEN control"))
    assert rendered == sorted(f"RENDERED {name}" for name in made), found.console
