"""The built-in scenario catalog: scenario files and the example agents they name.

The scenario files (YAML, with their `__snapshots__/`) live in the checkout's top-level
`scenarios/` folder; a wheel ships them as package data in `hitl_sim/catalog/scenarios/` (see
`[tool.setuptools.package-dir]` in pyproject.toml). The example agents, one per seed style
(`styles`) and one per known HITL bug (`broken_agents`), are code the scenario files name as
`hitl_sim.catalog.styles:<factory>`; they are catalog content, not engine. This package may import
anything in the engine; nothing in the engine imports it.
"""

from __future__ import annotations

from pathlib import Path

from hitl_sim.errors import ScenarioError

_INSTALLED = Path(__file__).resolve().parent / "scenarios"
"""Where a wheel puts the scenario files."""
_CHECKOUT = Path(__file__).resolve().parents[2] / "scenarios"
"""Where they are in a checkout (an editable install, or the source tree on `sys.path`)."""


def catalog_dir() -> Path:
    """The directory holding the built-in catalog's scenario files."""
    for candidate in (_INSTALLED, _CHECKOUT):
        if candidate.is_dir():
            return candidate
    raise ScenarioError(
        f"The built-in scenario catalog is not installed (looked in {_INSTALLED} and "
        f"{_CHECKOUT}).\nReinstall hitl-sim, or name the scenario files: hitl-sim run "
        "path/to/scenarios."
    )


__all__ = ["catalog_dir"]
