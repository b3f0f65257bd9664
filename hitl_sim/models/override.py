"""Point string-built models at fakes, and block real provider models, for one `with` block.

`create_agent("openai:gpt-4o", ...)`, `init_chat_model(...)`, every LangChain middleware that
takes a model string, deepagents' `create_deep_agent(model="...")` and its default model
(`model=None`) all resolve the model inside the block to the fake given to `override_models`.
Any other chat model that is called inside the block raises `RealModelBlocked` instead of
making a network call. So does any decision model (langchain-core 1.8's `BaseDecisionModel`, the
classifier of langchain 1.5's `AutoModeMiddleware`) that is not a fake, unless
`override_models(decision_model=...)` gives a fake to answer in its place.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any

from langchain_core.language_models import BaseChatModel, BaseLanguageModel, BaseLLM

from hitl_sim.errors import InvalidArgument, RealModelBlocked

_FAKE_MODULES = (
    "hitl_sim.",
    "langchain_core.language_models.fake_chat_models.",
    "langchain_core.language_models.fake.",
)
_GUARDED = {
    BaseChatModel: ("_generate_with_cache", "_agenerate_with_cache", "stream", "astream"),
    BaseLLM: ("_generate_helper", "_agenerate_helper", "stream", "astream"),
}
"""The methods every call of a chat model / completion model goes through."""
_NETWORK = ("get_token_ids", "get_num_tokens", "get_num_tokens_from_messages")
"""A model's other methods that may reach its provider (token counting: Anthropic's count_tokens
endpoint, tiktoken's download). Providers override them, so each loaded class that defines one
is guarded, not only `BaseLanguageModel`."""
_DEEPAGENTS_DEFAULT = "anthropic:claude-sonnet-4-6"
"""The model deepagents' `create_deep_agent(model=None)` builds (deepagents 0.7)."""


@contextmanager
def override_models(
    model: BaseChatModel | Mapping[str, BaseChatModel] | None = None,
    *,
    decision_model: Any = None,
    allow: tuple[type[Any], ...] = (),
) -> Iterator[None]:
    """Resolve every model string (and deepagents' default model) to `model` inside the block.

    `model` is one fake for every string, or a mapping from model string
    (`"openai:gpt-4o"`, `"anthropic:claude-sonnet-4-6"` for deepagents' default) to fake.
    Build the agent inside the block: strings are resolved when the agent is built. Calling any
    chat model that is not a fake (or a class in `allow`) inside the block raises
    `RealModelBlocked`. `decision_model` (a `ScriptedDecisionModel` / `FunctionDecisionModel`)
    answers every call of a real decision model inside the block (an `AutoModeMiddleware`
    classifier the application built), which otherwise raises `RealModelBlocked` too.
    Everything is restored on exit.
    """
    if model is None and decision_model is None:
        raise InvalidArgument(
            "override_models() needs a fake chat model (e.g. ScriptedChatModel([...])), a "
            "mapping from model string to fake, or decision_model=ScriptedDecisionModel([...]). "
            "To only block real models, use block_real_models()."
        )
    resolve = _resolver(model) if model is not None else None
    with ExitStack() as stack:
        if resolve is not None:
            stack.enter_context(string_models(_helper(resolve), _default_model(resolve)))
        stack.enter_context(_block(allow, _substitute(decision_model)))
        yield


@contextmanager
def block_real_models(*, allow: tuple[type[Any], ...] = ()) -> Iterator[None]:
    """Inside the block, calling a chat, completion or decision model that is not a fake raises
    `RealModelBlocked`: generating, streaming, and every other method that may reach the
    provider (`get_num_tokens*`, `get_token_ids`).

    Fakes are hitl-sim's models (`ScriptedDecisionModel` too), langchain_core's fake models, and
    the classes in `allow`.
    """
    with _block(allow, None):
        yield


@contextmanager
def _block(allow: tuple[type[Any], ...], substitute: Any) -> Iterator[None]:
    with ExitStack() as stack:
        for owner, names in _GUARDED.items():
            for name in names:
                original = owner.__dict__[name]
                stack.enter_context(_patched(owner, name, _guarded(original, allow)))
        for model_class in _network_classes():
            for name in _NETWORK:
                if name in model_class.__dict__:
                    original = model_class.__dict__[name]
                    stack.enter_context(_patched(model_class, name, _guarded(original, allow)))
        decisions = _decision_base()
        if decisions is not None:
            for name in ("invoke", "ainvoke"):
                original = decisions.__dict__[name]
                guarded = _guarded_decision(original, allow, substitute, name)
                stack.enter_context(_patched(decisions, name, guarded))
        yield


def _network_classes() -> list[type[Any]]:
    """`BaseLanguageModel` and every loaded subclass that is not a fake."""
    found: list[type[Any]] = []
    todo: list[type[Any]] = [BaseLanguageModel]
    while todo:
        cls: type[Any] = todo.pop()
        if cls in found:
            continue
        if not (cls.__module__ + ".").startswith(_FAKE_MODULES):
            found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _decision_base() -> type[Any] | None:
    """langchain-core's `BaseDecisionModel` (core >= 1.8), else None."""
    try:
        from langchain_core.decisions import BaseDecisionModel
    except ImportError:  # langchain-core < 1.8: there are no decision models to block
        return None
    return BaseDecisionModel


def _substitute(decision_model: Any) -> Any:
    if decision_model is None:
        return None
    base = _decision_base()
    if base is None or not isinstance(decision_model, base) or not _is_fake(decision_model, ()):
        raise InvalidArgument(
            "override_models(decision_model=...) needs a hitl-sim fake decision model "
            f"(ScriptedDecisionModel([...]) or FunctionDecisionModel(fn)), got {decision_model!r}."
        )
    return decision_model


@contextmanager
def string_models(helper: Callable[..., Any], default: Callable[[], Any]) -> Iterator[None]:
    """Inside the block, `helper` builds every model named by a string (`init_chat_model`,
    `create_agent("provider:model")`) and `default` deepagents' default model."""
    with ExitStack() as stack:
        base = importlib.import_module("langchain.chat_models.base")
        stack.enter_context(_patched(base, "_init_chat_model_helper", helper))
        try:
            graph = importlib.import_module("deepagents.graph")
        except ImportError:  # deepagents is an optional extra
            pass
        else:
            stack.enter_context(_patched(graph, "_build_default_model", default))
        yield


@contextmanager
def _patched(owner: Any, name: str, value: Any) -> Iterator[None]:
    if not hasattr(owner, name):  # pragma: no cover - guards against a langchain upgrade
        raise RuntimeError(
            f"hitl_sim.override_models cannot patch {owner.__name__}.{name}: it no longer "
            "exists in the installed version. Please report this to hitl-sim."
        )
    original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


Resolve = Callable[[tuple[str, ...]], BaseChatModel]
"""Gives the fake for a model string, tried in the order given (as written, normalized)."""


def _resolver(model: Any) -> Resolve:
    if isinstance(model, BaseChatModel):
        return lambda _specs: model
    if isinstance(model, Mapping) and all(
        isinstance(value, BaseChatModel) for value in model.values()
    ):
        table: dict[str, BaseChatModel] = dict(model)

        def resolve(specs: tuple[str, ...]) -> BaseChatModel:
            found = next((table[spec] for spec in specs if spec in table), None)
            if found is not None:
                return found
            known = "\n".join(f"- {key!r}" for key in table) or "- (none)"
            raise RealModelBlocked(
                f"Model string {specs[0]!r} was resolved while hitl_sim.override_models() is "
                f"active, but no fake model is given for it. Fakes are given for:\n{known}\n"
                f"Add {specs[-1]!r} to the mapping passed to override_models()."
            )

        return resolve
    raise InvalidArgument(
        "override_models() needs a chat model (e.g. ScriptedChatModel([...])) or a mapping "
        f"from model string to chat model, got {model!r}."
    )


def _helper(resolve: Resolve) -> Callable[..., BaseChatModel]:
    parse = importlib.import_module("langchain.chat_models.base")._parse_model

    def init_chat_model_helper(
        model: str, *, model_provider: str | None = None, **_kwargs: Any
    ) -> BaseChatModel:
        try:
            name, provider = parse(model, model_provider)
        except ValueError:  # no provider known or inferable: only the string as written
            return resolve((model,))
        return resolve((model, f"{provider}:{name}"))

    return init_chat_model_helper


def _default_model(resolve: Resolve) -> Callable[[], BaseChatModel]:
    return lambda: resolve((_DEEPAGENTS_DEFAULT,))


def _guarded_decision(
    original: Any, allow: tuple[type[Any], ...], substitute: Any, name: str
) -> Any:
    """`BaseDecisionModel.invoke` / `ainvoke`: fakes run, a real model is answered by the
    substitute (`override_models(decision_model=...)`) or raises `RealModelBlocked`."""

    def guarded(self: Any, input: Any, config: Any = None, **kwargs: Any) -> Any:
        if _is_fake(self, allow):
            return original(self, input, config, **kwargs)
        if substitute is None:
            raise RealModelBlocked(_blocked_decision_message(self))
        return getattr(substitute, name)(input, config, **kwargs)

    guarded.__name__ = original.__name__
    return guarded


def _guarded(original: Any, allow: tuple[type[Any], ...]) -> Any:
    def guarded(self: BaseLanguageModel[Any], *args: Any, **kwargs: Any) -> Any:
        if not _is_fake(self, allow):
            raise RealModelBlocked(_blocked_message(self))
        return original(self, *args, **kwargs)

    guarded.__name__ = original.__name__
    return guarded


def _is_fake(model: Any, allow: tuple[type[Any], ...]) -> bool:
    module = type(model).__module__ + "."
    return isinstance(model, allow) or module.startswith(_FAKE_MODULES)


def _blocked_message(model: BaseLanguageModel[Any]) -> str:
    cls = type(model).__name__
    name = getattr(model, "model_name", None) or getattr(model, "model", None)
    which = f"{cls} (model {name!r})" if name else cls
    return (
        f"{which} was called while hitl-sim blocks real provider models (inside "
        "override_models() or block_real_models()), so that a test never makes a network call.\n"
        "Give the agent a fake model (ScriptedChatModel / FunctionChatModel), or build it from "
        "a model string inside the `with override_models(...)` block so that the string "
        f"resolves to the fake. To let this class through, pass allow=({cls},)."
    )


def _blocked_decision_message(model: Any) -> str:
    cls = type(model).__name__
    name = getattr(model, "model", None)
    which = f"{cls} (model {name!r})" if name else cls
    return (
        f"Decision model {which} was called while hitl-sim blocks real provider models (inside "
        "override_models() or block_real_models()), so that a test never makes a network call.\n"
        "Give AutoModeMiddleware a fake classifier (ScriptedDecisionModel([allow(), "
        "block('...')]) / FunctionDecisionModel), or let a fake answer for every real one with "
        f"override_models(decision_model=ScriptedDecisionModel([...])). To let this class "
        f"through, pass allow=({cls},)."
    )
