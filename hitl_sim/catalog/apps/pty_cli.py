"""A command-line approval program in the seeds' style, run on a real pseudo-terminal.

    python -m hitl_sim.catalog.apps.pty_cli DB THREAD [PROMPT]

It runs the file agent on a SQLite checkpointer at DB (thread THREAD), and answers every interrupt
with `cli_prompt.<PROMPT>` (default `get_user_decision`; `hides_args` for the broken twin), then
prints the agent's last message.
"""

from __future__ import annotations

import sys

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

from hitl_sim import call, say
from hitl_sim.catalog.apps import cli_prompt
from hitl_sim.catalog.apps.agents import file_agent


def main(db: str, thread_id: str, prompt: str = "get_user_decision") -> None:
    ask = getattr(cli_prompt, prompt)
    turns = [
        [call("delete_file", path="/srv/a"), call("read_file", path="/srv/b")],
        call("send_email", to="ops@example.com", body="cleaned"),
        say("All done."),
    ]
    config = {"configurable": {"thread_id": thread_id}}
    with SqliteSaver.from_conn_string(db) as saver:
        agent = file_agent(turns, checkpointer=saver)
        result = agent.invoke({"messages": [("user", "clean up and tell ops")]}, config)
        while "__interrupt__" in result:
            answer = ask(result["__interrupt__"][0].value)
            result = agent.invoke(Command(resume=answer), config)
    print(f"Agent: {result['messages'][-1].content}")


if __name__ == "__main__":
    main(*sys.argv[1:])
