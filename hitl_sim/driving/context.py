"""The run context (`simulate(..., context=...)`), checked against the graph's context schema.

LangGraph 1.x passes `context=` to every `invoke` / `stream` as `runtime.context` (what
`create_agent(..., context_schema=...)` tools, `when=` predicates and callable descriptions read)
and checks almost nothing: a dict becomes the dataclass or pydantic model by `Schema(**context)`,
a TypedDict context is passed as is, and a missing context is None. A context that does not fit
then fails deep inside a node, or worse, runs: a misspelt key of a pydantic model is dropped and
the field's default applies, a dataclass field gets a value of another type. `check_context`
refuses all of it before the run starts, naming the field and the schema.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hitl_sim.errors import InvalidArgument, excerpt

if TYPE_CHECKING:
    from hitl_sim.run import Run

_RUN_CONTEXTS: dict[int, Any] = {}
"""The context each live `Run` was driven with (by `id`; dropped when the run is collected)."""


def remember_context(run: Run, context: Any) -> None:
    """Record the context `run` is driven with, for `resume(run)` / `recover(run)`."""
    key = id(run)
    if key not in _RUN_CONTEXTS:
        weakref.finalize(run, _RUN_CONTEXTS.pop, key, None)
    _RUN_CONTEXTS[key] = context


def context_of(run: Run) -> Any:
    """The context `run` was last driven with (None: none). LangGraph keeps no context in
    checkpoints, so continuing a run passes it again."""
    return _RUN_CONTEXTS.get(id(run))


@dataclass(frozen=True)
class ContextField:
    """One field of a context schema: its key, type, and default (`required`: none)."""

    name: str
    annotation: Any
    required: bool
    default: Any = None

    def describe(self) -> str:
        shown = f"{self.name}: {_type_name(self.annotation)}"
        return f"{shown} (required)" if self.required else f"{shown} = {excerpt(self.default, 40)}"


@dataclass(frozen=True)
class _Factory:
    """A dataclass field's `default_factory`, shown without calling it."""

    factory: Any

    def __repr__(self) -> str:
        return f"{getattr(self.factory, '__name__', 'factory')}()"


class ContextMismatch(InvalidArgument):
    """A run's context does not fit the graph's context schema (or the graph has none).

    `.schema` is the graph's context schema (None: it declares none), `.problems` one line per
    field that does not fit."""

    schema: Any
    problems: list[str]

    def __init__(self, message: str, schema: Any, problems: list[str]) -> None:
        super().__init__(message)
        self.schema = schema
        self.problems = problems


def context_schema(graph: Any) -> Any:
    """The context schema the compiled graph declares (`create_agent(context_schema=...)`,
    `StateGraph(..., context_schema=...)`), or None."""
    return getattr(graph, "context_schema", None)


def schema_fields(schema: Any) -> list[ContextField] | None:
    """The fields of a pydantic model, dataclass or TypedDict schema (None: another kind)."""
    from pydantic import BaseModel

    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return [
            ContextField(info.alias or name, info.annotation, info.is_required(), info.default)
            for name, info in schema.model_fields.items()
        ]
    hints = _hints(schema)
    if dataclasses.is_dataclass(schema):
        found: list[ContextField] = []
        for item in dataclasses.fields(schema):
            if not item.init:
                continue
            required = (
                item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING
            )
            default = item.default if item.default is not dataclasses.MISSING else None
            if item.default_factory is not dataclasses.MISSING:
                default = _Factory(item.default_factory)
            annotation = hints.get(item.name, item.type)
            found.append(ContextField(item.name, annotation, required, default))
        return found
    if typing.is_typeddict(schema):
        required_keys: frozenset[str] = getattr(schema, "__required_keys__", frozenset())
        return [ContextField(key, hint, key in required_keys) for key, hint in hints.items()]
    return None


def check_context(graph: Any, context: Any, who: str) -> None:
    """Raise `ContextMismatch` unless `context` fits the context schema of `graph`.

    `who` names the call in messages (`simulate()`, `resume()`, a scenario's `run.context`)."""
    schema = context_schema(graph)
    graph_name = repr(getattr(graph, "name", None) or type(graph).__name__)
    if schema is None:
        if context is None:
            return
        raise ContextMismatch(
            f"{who} got context={_shown(context)}, but the graph {graph_name} declares no "
            "context schema, so nothing in it is declared to read runtime.context (LangGraph "
            "would pass the context along unchecked). Expected a context only for a graph built "
            "with create_agent(..., context_schema=...) or StateGraph(..., context_schema=...). "
            "Fix: drop the context, or declare the schema the graph reads.",
            None,
            [],
        )
    fields = schema_fields(schema)
    if fields is None:
        return  # a schema kind LangGraph passes through as is: nothing to compare with
    listed = "Fields of {}: {}.".format(schema.__name__, ", ".join(f.describe() for f in fields))
    if context is None:
        missing = [f.name for f in fields if f.required]
        if not missing:
            return
        names = ", ".join(map(repr, missing))
        example = ", ".join(f"{name!r}: ..." for name in missing)
        raise ContextMismatch(
            f"The graph {graph_name} declares context_schema={schema.__name__} with required "
            f"field(s) {names}, and {who} got no context: LangGraph would start the run and "
            f"fail inside the first node that reads runtime.context. {listed} "
            f"Fix: pass the context, e.g. context={{{example}}}.",
            schema,
            [f"{name!r}: required field missing" for name in missing],
        )
    found = _problems(schema, fields, context)
    if found:
        problems = "\n".join(f"- {problem}" for problem in found)
        raise ContextMismatch(
            f"{who} got a context that does not fit context_schema={schema.__name__} "
            f"({_kind(schema)}) of the graph {graph_name}, so the run was not started:\n"
            f"{problems}\n{listed}\n"
            f"Fix the context ({_conversion(schema)}).",
            schema,
            found,
        )


def _problems(schema: Any, fields: list[ContextField], context: Any) -> list[str]:
    from pydantic import BaseModel

    is_model = isinstance(schema, type) and issubclass(schema, BaseModel)
    if isinstance(schema, type) and not typing.is_typeddict(schema) and isinstance(context, schema):
        if is_model:
            return []  # a model instance validated itself
        values = {f.name: getattr(context, f.name) for f in fields}
    elif isinstance(context, Mapping):
        values = dict(context)
    else:
        return [
            f"the context is {excerpt(context, 80)} ({type(context).__name__}); expected "
            f"a {schema.__name__} or a dict of its fields"
        ]
    found: list[str] = []
    known = [f.name for f in fields]
    allows_extra = is_model and schema.model_config.get("extra") == "allow"
    for key in values:
        if key not in known and not allows_extra:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            found.append(f"{excerpt(key, 60)}: not a field of {schema.__name__}.{hint}")
    found.extend(
        f"{f.name!r}: required field missing" for f in fields if f.required and f.name not in values
    )
    if is_model:
        found.extend(_model_problems(schema, values, known))
    else:
        for item in fields:
            if item.name in values:
                problem = _type_problem(item, values[item.name])
                if problem is not None:
                    found.append(problem)
    return found


def _model_problems(schema: Any, values: dict[str, Any], known: list[str]) -> list[str]:
    """What the model's own validation says (the way LangGraph builds it: `Schema(**context)`)."""
    from pydantic import ValidationError

    try:
        schema(**values)
    except ValidationError as invalid:
        found: list[str] = []
        for error in invalid.errors():
            if error["type"] in ("missing", "extra_forbidden"):
                continue  # reported above, with the names
            where = ".".join(str(part) for part in error["loc"]) or "(the model)"
            shown = repr(where) if error["loc"] else where
            found.append(f"{shown}: {error['msg']} (got {_value_text(where, error['input'])})")
        return found
    return []


def _type_problem(item: ContextField, value: Any) -> str | None:
    """A dataclass or TypedDict field's value checked against its annotation (strictly: the
    value reaches the agent as given, unconverted)."""
    from pydantic import ConfigDict, TypeAdapter, ValidationError
    from pydantic.errors import PydanticSchemaGenerationError, PydanticUserError

    if item.annotation is Any:
        return None
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(
            item.annotation, config=ConfigDict(arbitrary_types_allowed=True)
        )
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError, NameError):
        adapter = TypeAdapter(item.annotation)  # a model or dataclass type takes no config
    try:
        adapter.validate_python(value, strict=True)
    except ValidationError:
        return (
            f"{item.name!r}: expected {_type_name(item.annotation)}, got "
            f"{_value_text(item.name, value)} ({type(value).__name__})"
        )
    except (PydanticSchemaGenerationError, PydanticUserError):
        return None  # a type pydantic cannot check: taken as given
    return None


def _value_text(key: str, value: Any) -> str:
    from hitl_sim.normalise import Redactor

    return "'***'" if Redactor().is_secret(key) else excerpt(value, 80)


def _shown(context: Any) -> str:
    from hitl_sim.normalise import Redactor

    return excerpt(Redactor().data(context) if isinstance(context, Mapping) else context)


def _hints(schema: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(schema)
    except Exception:  # an annotation that cannot be resolved: its text is shown, unchecked
        return {}


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    if isinstance(annotation, str):
        return annotation
    return repr(annotation).replace("typing.", "")


def _kind(schema: Any) -> str:
    from pydantic import BaseModel

    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return "a pydantic model"
    return "a dataclass" if dataclasses.is_dataclass(schema) else "a TypedDict"


def _conversion(schema: Any) -> str:
    from pydantic import BaseModel

    name = getattr(schema, "__name__", repr(schema))
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return f"LangGraph builds the model as {name}(**context)"
    if dataclasses.is_dataclass(schema):
        return (
            f"LangGraph builds the dataclass as {name}(**context), without "
            "converting or checking types: each value reaches the agent as given"
        )
    return "LangGraph passes a TypedDict context to the agent as given, unchecked"
