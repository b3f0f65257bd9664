"""Small example apps in the seeds' styles, each with its own approval front end.

Each is a real application surface the `hitl_sim.frontends` reviewers drive, a correct version
and the broken twins that reproduce the seeds' own bugs: a command-line prompt (`cli_prompt`,
and `pty_cli` run on a real pseudo-terminal), a confirmation dialog with INFO / CONFIRM / VERIFY
levels (`confirm_app`), a REST approval API with webhook notifications (`http_app`, FastAPI), a
chat box that doubles as the approval field (`chat_app`), and the agents they approve calls for
(`agents`: real `create_agent` graphs on a scripted model). The catalog's scenario files and
`tests/frontends/` name them as `hitl_sim.catalog.apps.<module>:<name>`. Catalog content, not
engine: they may import anything in hitl_sim (and the `frontends` extra: fastapi, httpx); nothing
in the engine imports them.
"""

from __future__ import annotations
