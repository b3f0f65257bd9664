"""An agent whose run puts a secret into every place one can hide: call arguments (under
`password` as an int, under an `X-Api-Key` header), a tool result LangChain turns into JSON
(`access_token`), a reviewer's reason, the model's text (`client_secret=...`), the state, and
an exception (`Authorization: Bearer ...`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from hitl_sim import Reviewer, ScriptedChatModel, approve, call, reject, say, simulate
from hitl_sim.run import Run

PIN = 48213977
API_KEY = "sk-live-9f8e7d6c5b4a"
TOKEN = "tok-3c2b1a0f9e8d"
CLIENT_SECRET = "cs-77aa12bb34"
BEARER = "eyJhbGciOi.payload.sig"
SECRETS = (str(PIN), API_KEY, TOKEN, CLIENT_SECRET, BEARER)


@tool
def login(user: str, password: int) -> str:
    """Log a user in."""
    return f"logged in {user} with {password}"


@tool
def fetch(url: str, headers: dict[str, str]) -> dict[str, Any]:
    """Fetch a URL."""
    return {"access_token": TOKEN, "url": url}


@tool
def rotate(key: str) -> str:
    """Rotate an API key."""
    return "rotated"


@tool
def deploy(service: str) -> str:
    """Deploy a service."""
    raise RuntimeError(f"deploy of {service} refused: Authorization: Bearer {BEARER}")


def secret_run(simulate: Callable[..., Run] = simulate) -> Run:
    """The run: fetch runs unreviewed although the test declares it gated (a violation), the
    reviewer rejects the rotation naming the key, and deploy raises (the run fails)."""
    model = ScriptedChatModel(
        [
            [
                call("login", user="ann", password=PIN),
                call("fetch", url="https://api.example.com", headers={"X-Api-Key": API_KEY}),
                call("rotate", key=API_KEY),
            ],
            [say(f"Fetched; client_secret={CLIENT_SECRET} saved."), call("deploy", service="api")],
        ]
    )
    agent = create_agent(
        model,
        tools=[login, fetch, rotate, deploy],
        middleware=[
            HumanInTheLoopMiddleware(interrupt_on={"login": True, "rotate": True, "deploy": True})
        ],
        checkpointer=InMemorySaver(),
    )
    reviewer = Reviewer(
        [approve(), reject(f"never rotate {API_KEY} by hand", by="ann"), approve(by="ann")]
    )
    return simulate(agent, f"log in with pin {PIN}", reviewer, gated=["fetch"])
