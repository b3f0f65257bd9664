"""The plugin's checkpointer matrix: fixtures, marker, --hitl-checkpointer and the ini key."""

from __future__ import annotations

# Imported here, before any pytester run: pytester restores sys.modules after each inner session,
# so a driver first imported INSIDE one would be imported anew afterwards, and its C extension's
# exception classes would no longer match the new module's (`except psycopg.OperationalError`).
import langgraph.checkpoint.postgres  # noqa: F401
import langgraph.checkpoint.sqlite  # noqa: F401
import psycopg  # noqa: F401
import pytest

from hitl_sim.durability.checkpointers import POSTGRES_URL_ENV

TEST_KIND = """
    def test_kind(hitl_checkpointer, hitl_checkpointer_kind):
        print("KIND", hitl_checkpointer_kind, type(hitl_checkpointer).__name__)
"""


@pytest.fixture(autouse=True)
def no_server(monkeypatch):
    monkeypatch.delenv(POSTGRES_URL_ENV, raising=False)


def test_default_is_memory(pytester):
    pytester.makepyfile(TEST_KIND)
    result = pytester.runpytest("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*KIND memory InMemorySaver*"])


def test_the_run_option_selects_the_kind(pytester):
    pytester.makepyfile(TEST_KIND)
    result = pytester.runpytest("-s", "--hitl-checkpointer=sqlite")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*KIND sqlite SqliteSaver*"])


def test_the_ini_key_selects_the_kind(pytester):
    pytester.makeini("[pytest]\nhitl_sim_checkpointer = sqlite\n")
    pytester.makepyfile(TEST_KIND)
    result = pytester.runpytest("-s")
    result.stdout.fnmatch_lines(["*KIND sqlite SqliteSaver*"])


def test_a_marker_beats_the_run_option(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.hitl_checkpointer("sqlite")
        def test_kind(hitl_checkpointer):
            print("KIND", type(hitl_checkpointer).__name__)
        """
    )
    result = pytester.runpytest("-s", "--hitl-checkpointer=memory")
    result.stdout.fnmatch_lines(["*KIND SqliteSaver*"])


def test_an_unknown_kind_on_the_command_line_is_a_usage_error(pytester):
    pytester.makepyfile(TEST_KIND)
    result = pytester.runpytest("--hitl-checkpointer=redis")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --hitl-checkpointer='redis' is not a valid checkpointer. "
            "Valid checkpointers: memory, sqlite, postgres."
        ]
    )


def test_an_unknown_kind_in_a_marker_is_a_collection_error(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.hitl_checkpointer("memory", "redis")
        def test_kind(hitl_checkpointer):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*InvalidArgument: Unknown checkpointer 'redis'. "
            "Expected one of: memory, sqlite, postgres."
        ]
    )


def test_several_kinds_parametrize_and_postgres_skips_without_a_server(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.hitl_checkpointer("memory", "sqlite", "postgres")
        def test_store(hitl_checkpoint_store):
            with hitl_checkpoint_store.open() as saver:
                assert saver is not None
        """
    )
    result = pytester.runpytest("-rs", "-v")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*test_store[[]memory[]] PASSED*",
            "*test_store[[]sqlite[]] PASSED*",
            "*test_store[[]postgres[]] SKIPPED*",
            "SKIPPED [[]1[]] *: postgres checkpointer: no PostgreSQL server configured "
            "(HITL_SIM_POSTGRES_URL)",
        ]
    )


def test_a_configured_but_unreachable_server_fails_instead_of_skipping(pytester, monkeypatch):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(POSTGRES_URL_ENV, f"postgresql://u:p@127.0.0.1:{port}/db?connect_timeout=2")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.hitl_checkpointer("postgres")
        def test_store(hitl_checkpointer):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            f"*CheckpointerUnavailable: Cannot connect to the PostgreSQL server at "
            f"postgresql://u:***@127.0.0.1:{port}/db*"
        ]
    )
