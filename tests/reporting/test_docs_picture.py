"""The picture in docs/reports.md is what the page's own example draws today.

The example (the page's first ```python block) runs a real agent with a broken gate and writes
`gate-typo.svg`; the page shows `docs/reports/gate-typo.svg`. They must be the same bytes, so the
docs never show a picture the code no longer draws. After a deliberate change to the diagram:
`python -m tests.reporting.test_docs_picture` rewrites the stored picture.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "reports.md"
PICTURE = ROOT / "docs" / "reports" / "gate-typo.svg"


def drawn(folder: Path) -> bytes:
    """Run the page's first example in `folder`; the picture it writes."""
    block = re.search(r"^```python\n(.*?)^```", PAGE.read_text(), re.S | re.M)
    assert block is not None, f"{PAGE} has no ```python block"
    before = Path.cwd()
    os.chdir(folder)
    try:
        exec(compile(block.group(1), f"{PAGE.name} (first block)", "exec"), {"__name__": "doc"})
    finally:
        os.chdir(before)
    return (folder / "gate-typo.svg").read_bytes()


def test_the_page_shows_the_picture_its_example_draws(tmp_path):
    assert f"]({PICTURE.parent.name}/{PICTURE.name})" in PAGE.read_text()
    picture = drawn(tmp_path)

    assert b"VIOLATION [unapproved_call]" in picture
    assert picture == PICTURE.read_bytes(), (
        f"{PICTURE.relative_to(ROOT)} is not what docs/reports.md's example draws today; "
        "if the diagram changed on purpose, run: python -m tests.reporting.test_docs_picture"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        PICTURE.parent.mkdir(parents=True, exist_ok=True)
        PICTURE.write_bytes(drawn(Path(folder)))
    print(f"wrote {PICTURE}", file=sys.stderr)


if __name__ == "__main__":
    main()
