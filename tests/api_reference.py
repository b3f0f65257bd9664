"""Generate docs/api.md, the API reference, from the public names' signatures and docstrings.

    python -m tests.api_reference          # print it
    python -m tests.api_reference --write  # rewrite docs/api.md

`tests/test_api_reference.py` fails when the page is out of date.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
import sys
from pathlib import Path

PAGE = Path(__file__).parents[1] / "docs" / "api.md"
PACKAGES = [
    "hitl_sim",
    "hitl_sim.models",
    "hitl_sim.reviewing",
    "hitl_sim.driving",
    "hitl_sim.checking",
    "hitl_sim.reporting",
    "hitl_sim.durability",
    "hitl_sim.scenarios",
    "hitl_sim.fuzzing",
    "hitl_sim.frontends",
    "hitl_sim.catalog",
    "hitl_sim.errors",
]


def _summary(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.split("\n\n")[0].replace("\n", " ").strip()


class _Shown:
    """A default value shown the same on every run (sets sorted, whatever the hash seed)."""

    def __init__(self, value: object) -> None:
        self.value = value

    def __repr__(self) -> str:
        if isinstance(self.value, set | frozenset):
            return f"{type(self.value).__name__}({sorted(self.value, key=repr)!r})"
        return repr(self.value)


def _stable(signature: inspect.Signature) -> inspect.Signature:
    empty = inspect.Parameter.empty
    return signature.replace(
        parameters=[
            p if p.default is empty else p.replace(default=_Shown(p.default))
            for p in signature.parameters.values()
        ]
    )


def _signature(name: str, obj: object) -> str:
    if not callable(obj):
        return name
    if inspect.isclass(obj) and not dataclasses.is_dataclass(obj):
        # a constructor hitl-sim adapts to the installed libraries (a pydantic model's, or one
        # defined per langchain version) has no one signature: shown as (...)
        return f"class {name}(...)"
    try:
        shown = f"{name}{_stable(inspect.signature(obj))}"
    except (TypeError, ValueError):
        shown = name
    return f"class {shown}" if inspect.isclass(obj) else shown


def _entries(package: str) -> list[tuple[str, object]]:
    """The package's `__all__`, then each submodule's public names it does not already list."""
    module = importlib.import_module(package)
    entries = [(f"{package}.{n}", getattr(module, n)) for n in getattr(module, "__all__", ())]
    seen = {id(obj) for _, obj in entries}
    for info in sorted(pkgutil.iter_modules(getattr(module, "__path__", [])), key=lambda i: i.name):
        if info.name.startswith("_") or info.name == "resume_process":
            continue
        sub = importlib.import_module(f"{package}.{info.name}")
        names = getattr(sub, "__all__", None) or [
            n
            for n, obj in vars(sub).items()
            if not n.startswith("_")
            and (inspect.isclass(obj) or inspect.isfunction(obj))
            and obj.__module__ == sub.__name__
        ]
        for n in names:
            obj = getattr(sub, n)
            if id(obj) not in seen and not n.startswith("__"):
                entries.append((f"{sub.__name__}.{n}", obj))
                seen.add(id(obj))
    return entries


def page() -> str:
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings by `python -m tests.api_reference --write`; "
        "`tests/test_api_reference.py` fails when it is out of date. The top level holds what "
        "every test uses; each subpackage's names follow (see the README's Layout).",
    ]
    for package in PACKAGES:
        module = importlib.import_module(package)
        lines += ["", f"## `{package}`", "", _summary(module), ""]
        for dotted, obj in _entries(package):
            name = dotted.rpartition(".")[2]
            lines += [f"### `{dotted}`", "", "```text", _signature(name, obj), "```"]
            if _summary(obj):
                lines += ["", _summary(obj)]
            lines.append("")
    return re.sub(r" at 0x[0-9a-f]+", "", "\n".join(lines)).rstrip() + "\n"


if __name__ == "__main__":
    text = page()
    if "--write" in sys.argv:
        PAGE.write_text(text)
    else:
        sys.stdout.write(text)
