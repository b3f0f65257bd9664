"""Where simulated runs keep their checkpoints: in memory, in a SQLite file, in PostgreSQL.

A `CheckpointStore` is the place the checkpoints live (a set of dicts, a file, a database
schema). `store.open()` builds a NEW checkpointer object on it each time it is called, which is
what a restart needs: throw the old object away, open another on the same store, resume.

    with checkpoint_store("sqlite", directory=tmp_path) as store, store.open() as saver:
        agent = create_agent(model, tools, middleware=[...], checkpointer=saver)

`open_checkpointer(kind, ...)` does both steps for the common case. PostgreSQL needs a server:
pass `url=` or set `HITL_SIM_POSTGRES_URL`; each store gets its own schema (dropped at the end
unless you named it), so parallel tests never see each other's threads.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from hitl_sim.errors import CheckpointerUnavailable, InvalidArgument

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.checkpoint.memory import InMemorySaver

CheckpointerKind = Literal["memory", "sqlite", "postgres"]
KINDS: tuple[CheckpointerKind, ...] = get_args(CheckpointerKind)
POSTGRES_URL_ENV = "HITL_SIM_POSTGRES_URL"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def postgres_url() -> str | None:
    """The PostgreSQL server configured for durability runs (`HITL_SIM_POSTGRES_URL`), if any."""
    return os.environ.get(POSTGRES_URL_ENV) or None


def check_kind(kind: object) -> CheckpointerKind:
    """`kind` as a checkpointer kind, or `InvalidArgument` naming the valid ones."""
    if kind not in KINDS:
        raise InvalidArgument(
            f"Unknown checkpointer {kind!r}. Expected one of: {', '.join(KINDS)}."
        )
    return kind


@dataclass
class CheckpointStore:
    """Where checkpoints live. Build one with `checkpoint_store(...)`; open savers on it."""

    kind: CheckpointerKind
    path: Path | None = None
    """The SQLite file (kind "sqlite")."""
    url: str | None = None
    """The PostgreSQL server (kind "postgres")."""
    schema: str | None = None
    """The PostgreSQL schema holding this store's tables (kind "postgres")."""
    _memory: InMemorySaver | None = field(default=None, repr=False)

    @contextmanager
    def open(self) -> Iterator[BaseCheckpointSaver[Any]]:
        """A new synchronous checkpointer object on this store, closed at the end."""
        if self.kind == "memory":
            yield self._new_memory_saver()
        elif self.kind == "sqlite":
            from langgraph.checkpoint.sqlite import SqliteSaver

            conn = sqlite3.connect(str(self.path), check_same_thread=False)
            try:
                yield SqliteSaver(conn)
            finally:
                conn.close()
        else:
            import psycopg
            from langgraph.checkpoint.postgres import PostgresSaver
            from psycopg.rows import dict_row

            with psycopg.connect(
                self._postgres_url(),
                autocommit=True,
                prepare_threshold=0,
                row_factory=dict_row,
                options=f"-c search_path={self.schema}",
            ) as pg_conn:
                saver = PostgresSaver(pg_conn)
                saver.setup()
                yield saver

    @asynccontextmanager
    async def aopen(self) -> AsyncIterator[BaseCheckpointSaver[Any]]:
        """A new asynchronous checkpointer object on this store (for `asimulate`/`ainvoke`)."""
        if self.kind == "memory":
            yield self._new_memory_saver()
        elif self.kind == "sqlite":
            import aiosqlite
            from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

            async with aiosqlite.connect(str(self.path)) as conn:
                yield AsyncSqliteSaver(conn)
        else:
            from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
            from psycopg import AsyncConnection
            from psycopg.rows import dict_row

            async with await AsyncConnection.connect(
                self._postgres_url(),
                autocommit=True,
                prepare_threshold=0,
                row_factory=dict_row,
                options=f"-c search_path={self.schema}",
            ) as pg_conn:
                saver = AsyncPostgresSaver(pg_conn)
                await saver.setup()
                yield saver

    def spec(self) -> str:
        """A string another process passes to `CheckpointStore.from_spec` to reach this store."""
        if self.kind == "memory":
            raise InvalidArgument(
                "A memory checkpoint store lives inside one process, so another process cannot "
                "open it. Use checkpoint_store('sqlite') or checkpoint_store('postgres') for "
                "process restarts."
            )
        fields = {"kind": self.kind, "path": str(self.path) if self.path else None}
        return json.dumps({**fields, "url": self.url, "schema": self.schema})

    @classmethod
    def from_spec(cls, spec: str) -> CheckpointStore:
        """The store described by `spec()` (in another process). Nothing is created or dropped."""
        data = json.loads(spec)
        path = data.get("path")
        return cls(
            kind=check_kind(data.get("kind")),
            path=Path(path) if path else None,
            url=data.get("url"),
            schema=data.get("schema"),
        )

    def _new_memory_saver(self) -> InMemorySaver:
        from langgraph.checkpoint.memory import InMemorySaver

        saver = InMemorySaver()
        if self._memory is None:
            self._memory = saver
        else:  # a new object over the same tables: what survives is what went through serde
            saver.storage = self._memory.storage
            saver.writes = self._memory.writes
            saver.blobs = self._memory.blobs
        return saver

    def _postgres_url(self) -> str:
        assert self.url is not None, "a postgres store always has a url"
        return self.url


@contextmanager
def checkpoint_store(
    kind: CheckpointerKind = "sqlite",
    *,
    path: str | os.PathLike[str] | None = None,
    directory: str | os.PathLike[str] | None = None,
    url: str | None = None,
    schema: str | None = None,
) -> Iterator[CheckpointStore]:
    """A checkpoint store of `kind`, cleaned up at the end unless you named its location.

    - "memory": InMemorySaver tables, shared by every saver opened on the store.
    - "sqlite": the file `path`; else a new file in `directory`; else a new file in a temporary
      directory removed at the end.
    - "postgres": the server at `url` (default: `HITL_SIM_POSTGRES_URL`), in `schema` (created if
      missing, kept); else in a new schema dropped at the end. No server configured raises
      `CheckpointerUnavailable` (the pytest plugin turns that into a skip).
    """
    kind = check_kind(kind)
    if kind == "memory":
        yield CheckpointStore("memory")
    elif kind == "sqlite":
        if path is not None:
            yield CheckpointStore("sqlite", path=Path(path))
        elif directory is not None:
            yield CheckpointStore("sqlite", path=Path(directory) / _unique("checkpoints", ".db"))
        else:
            with tempfile.TemporaryDirectory(prefix="hitl-sim-") as temp:
                yield CheckpointStore("sqlite", path=Path(temp) / "checkpoints.db")
    else:
        with _postgres_schema(url, schema) as store:
            yield store


@contextmanager
def open_checkpointer(
    kind: CheckpointerKind = "sqlite",
    *,
    path: str | os.PathLike[str] | None = None,
    directory: str | os.PathLike[str] | None = None,
    url: str | None = None,
    schema: str | None = None,
) -> Iterator[BaseCheckpointSaver[Any]]:
    """One checkpointer of `kind` on a new store (see `checkpoint_store` for the arguments)."""
    with (
        checkpoint_store(kind, path=path, directory=directory, url=url, schema=schema) as store,
        store.open() as saver,
    ):
        yield saver


@asynccontextmanager
async def aopen_checkpointer(
    kind: CheckpointerKind = "sqlite",
    *,
    path: str | os.PathLike[str] | None = None,
    directory: str | os.PathLike[str] | None = None,
    url: str | None = None,
    schema: str | None = None,
) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """The async twin of `open_checkpointer`: AsyncSqliteSaver, AsyncPostgresSaver, memory."""
    with checkpoint_store(kind, path=path, directory=directory, url=url, schema=schema) as store:
        async with store.aopen() as saver:
            yield saver


def _unique(prefix: str, suffix: str = "") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}{suffix}"


@contextmanager
def _postgres_schema(url: str | None, schema: str | None) -> Iterator[CheckpointStore]:
    url = url or postgres_url()
    if url is None:
        raise CheckpointerUnavailable(
            "No PostgreSQL server configured for the 'postgres' checkpointer. Set "
            f"{POSTGRES_URL_ENV} (e.g. postgresql://user:pass@127.0.0.1:5432/db) or pass url=..."
        )
    if schema is not None and not _SCHEMA_NAME.match(schema):
        raise InvalidArgument(
            f"Invalid PostgreSQL schema name {schema!r}: use lowercase letters, digits and "
            "underscores, starting with a letter or underscore (at most 63 characters)."
        )
    with _admin_connection(url) as conn:
        name = schema or _unique("hitl_sim")
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {name}")
        try:
            yield CheckpointStore("postgres", url=url, schema=name)
        finally:
            if schema is None:
                conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def _admin_connection(url: str) -> AbstractContextManager[Any]:
    import psycopg

    try:
        return psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as error:
        raise CheckpointerUnavailable(
            f"Cannot connect to the PostgreSQL server at {_redact(url)}: {error}".rstrip()
            + f"\nStart the server, or fix {POSTGRES_URL_ENV} / url=."
        ) from error


def _redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)
