"""Where the built-in scenario catalog lives.

The catalog's source is the top-level `scenarios/` directory of the hitl-sim checkout. The
package reaches it as `hitl_sim/catalog` (a symlink to `../scenarios`, copied into wheels as
package data), so `hitl-sim run` finds it from any working directory, editable install or not.
"""

from __future__ import annotations

from pathlib import Path

from hitl_sim.errors import ScenarioError

PACKAGE_DIR = Path(__file__).resolve().parent


def catalog_dir() -> Path:
    """The directory holding the built-in catalog's scenario files."""
    for candidate in (PACKAGE_DIR / "catalog", PACKAGE_DIR.parent / "scenarios"):
        if candidate.is_dir():
            return candidate.resolve()
    raise ScenarioError(
        f"The built-in scenario catalog is not installed (looked in {PACKAGE_DIR / 'catalog'} "
        f"and {PACKAGE_DIR.parent / 'scenarios'}).\n"
        "Reinstall hitl-sim, or name the scenario files: hitl-sim run path/to/scenarios."
    )
