"""The checkpointer matrix: stores that outlive their checkpointer objects, sync and async."""

from __future__ import annotations

import asyncio
import operator
import socket
from pathlib import Path
from typing import Annotated, TypedDict

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from hitl_sim.durability import (
    CheckpointStore,
    aopen_checkpointer,
    checkpoint_store,
    open_checkpointer,
)
from hitl_sim.durability.checkpointers import POSTGRES_URL_ENV, postgres_url
from hitl_sim.errors import CheckpointerUnavailable, InvalidArgument

ALL = ("memory", "sqlite", "postgres")
needs_postgres = pytest.mark.skipif(
    postgres_url() is None, reason=f"no PostgreSQL server configured ({POSTGRES_URL_ENV})"
)


class State(TypedDict):
    log: Annotated[list[str], operator.add]


def ask(state: State) -> State:
    return {"log": [interrupt({"question": "proceed?"})]}


def build(checkpointer):
    graph = StateGraph(State)
    graph.add_node("ask", ask)
    graph.add_edge(START, "ask")
    graph.add_edge("ask", END)
    return graph.compile(checkpointer=checkpointer)


def config(thread: str) -> dict:
    return {"configurable": {"thread_id": thread}}


@pytest.mark.hitl_checkpointer(*ALL)
def test_a_paused_thread_survives_a_new_checkpointer_object(hitl_checkpoint_store):
    store: CheckpointStore = hitl_checkpoint_store
    with store.open() as first:
        paused = build(first).invoke({"log": []}, config("t1"))
    with store.open() as second:
        assert second is not first
        graph = build(second)
        assert graph.get_state(config("t1")).next == ("ask",)
        assert graph.invoke(Command(resume="yes"), config("t1")) == {"log": ["yes"]}
    assert paused["__interrupt__"][0].value == {"question": "proceed?"}


@pytest.mark.hitl_checkpointer(*ALL)
def test_the_fixture_gives_a_checkpointer_of_each_kind(hitl_checkpointer, hitl_checkpointer_kind):
    expected = {"memory": "InMemorySaver", "sqlite": "SqliteSaver", "postgres": "PostgresSaver"}
    assert type(hitl_checkpointer).__name__ == expected[hitl_checkpointer_kind]
    graph = build(hitl_checkpointer)
    graph.invoke({"log": []}, config("t1"))
    assert graph.invoke(Command(resume="ok"), config("t1")) == {"log": ["ok"]}


@pytest.mark.parametrize("kind", ALL)
def test_async_savers_run_ainvoke(kind):
    if kind == "postgres" and postgres_url() is None:
        pytest.skip(f"no PostgreSQL server configured ({POSTGRES_URL_ENV})")

    async def pause_and_resume() -> tuple[str, dict]:
        async with aopen_checkpointer(kind) as saver:
            graph = build(saver)
            await graph.ainvoke({"log": []}, config("a1"))
            return type(saver).__name__, await graph.ainvoke(Command(resume="a"), config("a1"))

    name, result = asyncio.run(pause_and_resume())
    assert result == {"log": ["a"]}
    assert name == {"memory": "InMemorySaver", "sqlite": "AsyncSqliteSaver"}.get(
        kind, "AsyncPostgresSaver"
    )


def test_sqlite_store_is_a_file_in_the_directory_given(tmp_path):
    with checkpoint_store("sqlite", directory=tmp_path) as store, store.open() as saver:
        build(saver).invoke({"log": []}, config("t1"))
        assert isinstance(saver, SqliteSaver)
    assert store.path is not None
    assert store.path.parent == tmp_path
    assert store.path.exists()  # a directory you own is left alone


def test_sqlite_temporary_store_is_removed_at_the_end():
    with open_checkpointer("sqlite") as saver:
        build(saver).invoke({"log": []}, config("t1"))
        path = saver.conn.execute("PRAGMA database_list").fetchone()[2]
    assert path.endswith("checkpoints.db")
    assert not Path(path).exists()


def test_sqlite_store_at_a_path_is_shared_by_name(tmp_path):
    path = tmp_path / "shared.db"
    with open_checkpointer("sqlite", path=path) as saver:
        build(saver).invoke({"log": []}, config("t1"))
    spec = CheckpointStore("sqlite", path=path).spec()
    with CheckpointStore.from_spec(spec).open() as again:
        assert build(again).get_state(config("t1")).next == ("ask",)


def test_memory_store_shares_its_tables_across_saver_objects():
    with checkpoint_store("memory") as store, store.open() as first, store.open() as second:
        assert isinstance(first, InMemorySaver)
        assert first is not second
        assert first.storage is second.storage


def test_memory_store_cannot_be_reached_from_another_process():
    with checkpoint_store("memory") as store, pytest.raises(InvalidArgument) as raised:
        store.spec()
    assert str(raised.value) == (
        "A memory checkpoint store lives inside one process, so another process cannot open it. "
        "Use checkpoint_store('sqlite') or checkpoint_store('postgres') for process restarts."
    )


def test_unknown_kind_names_the_valid_ones():
    with pytest.raises(InvalidArgument) as raised, checkpoint_store("redis"):  # type: ignore[arg-type]
        pass
    assert (
        str(raised.value)
        == "Unknown checkpointer 'redis'. Expected one of: memory, sqlite, postgres."
    )


def test_postgres_without_a_server_says_how_to_configure_one(monkeypatch):
    monkeypatch.delenv(POSTGRES_URL_ENV, raising=False)
    with pytest.raises(CheckpointerUnavailable) as raised, open_checkpointer("postgres"):
        pass
    assert str(raised.value) == (
        "No PostgreSQL server configured for the 'postgres' checkpointer. Set "
        "HITL_SIM_POSTGRES_URL (e.g. postgresql://user:pass@127.0.0.1:5432/db) or pass url=..."
    )


def test_postgres_unreachable_server_is_reported_with_the_password_hidden():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://alice:s3cret@127.0.0.1:{port}/db?connect_timeout=2"
    with pytest.raises(CheckpointerUnavailable) as raised, open_checkpointer("postgres", url=url):
        pass
    message = str(raised.value)
    assert message.startswith(
        f"Cannot connect to the PostgreSQL server at postgresql://alice:***@127.0.0.1:{port}/db"
    )
    assert message.endswith("\nStart the server, or fix HITL_SIM_POSTGRES_URL / url=.")
    assert "s3cret" not in message


def test_postgres_schema_name_is_checked():
    with (
        pytest.raises(InvalidArgument) as raised,
        checkpoint_store("postgres", url="postgresql://unused", schema="Robert'); DROP TABLE x;--"),
    ):
        pass
    assert str(raised.value) == (
        'Invalid PostgreSQL schema name "Robert\'); DROP TABLE x;--": use lowercase letters, '
        "digits and underscores, starting with a letter or underscore (at most 63 characters)."
    )


@needs_postgres
def test_postgres_store_lives_in_its_own_schema_dropped_at_the_end():
    import psycopg

    with checkpoint_store("postgres") as store, store.open() as saver:
        build(saver).invoke({"log": []}, config("t1"))
        schema = store.schema
        assert schema is not None and schema.startswith("hitl_sim_")
    with psycopg.connect(postgres_url()) as conn:
        found = conn.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
    assert found == (0,)


@needs_postgres
def test_postgres_named_schema_is_kept_and_reopened(tmp_path):
    import uuid

    import psycopg

    name = f"kept_{uuid.uuid4().hex[:12]}"
    try:
        with open_checkpointer("postgres", schema=name) as saver:
            build(saver).invoke({"log": []}, config("t1"))
        with open_checkpointer("postgres", schema=name) as again:
            assert build(again).get_state(config("t1")).next == ("ask",)
    finally:
        with psycopg.connect(postgres_url(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def test_async_sqlite_saver_is_the_async_twin(tmp_path):
    async def kind_of() -> str:
        async with aopen_checkpointer("sqlite", directory=tmp_path) as saver:
            return type(saver).__name__

    assert asyncio.run(kind_of()) == AsyncSqliteSaver.__name__


@pytest.mark.parametrize("kind", ALL)
def test_asimulate_runs_an_agent_on_the_async_saver(kind, tmp_path):
    if kind == "postgres" and postgres_url() is None:
        pytest.skip(f"no PostgreSQL server configured ({POSTGRES_URL_ENV})")
    from hitl_sim import approve, asimulate
    from tests.durability.agents import build_cleanup_agent

    async def run_it():
        async with aopen_checkpointer(kind, directory=tmp_path) as saver:
            agent = build_cleanup_agent(saver, ledger=str(tmp_path / "effects.jsonl"))
            return await asimulate(agent, "Clean up /srv/a", [approve(), approve()])

    run = asyncio.run(run_it())
    assert run.status == "finished"
    assert sorted(run.executed_names) == ["delete_file", "lookup", "send_email"]
