"""docs/api.md is the API reference generated from the docstrings, and it is up to date."""

from __future__ import annotations

from tests.api_reference import PAGE, page


def test_the_api_reference_is_up_to_date():
    assert PAGE.read_text() == page(), (
        "docs/api.md is out of date with the docstrings. Fix: python -m tests.api_reference --write"
    )


def test_the_api_reference_lists_the_top_level_and_every_subpackage():
    text = PAGE.read_text()
    for heading in ("## `hitl_sim`", "### `hitl_sim.simulate`", "## `hitl_sim.durability`"):
        assert heading in text
