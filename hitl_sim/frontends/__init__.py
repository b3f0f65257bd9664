"""Approval front ends: the application's own surface for a human's decision, under test.

hitl-sim's driver answers interrupts itself; this subpackage tests the places where real apps
collect the answer instead (the seeds' styles): a terminal prompt answered by scripted keystrokes,
in-process (`terminal`) or on a real pseudo-terminal (`pty`), confirmation levels INFO / CONFIRM /
VERIFY (`confirmation`), an HTTP approval API (`http`, with `server` for a real uvicorn server on
127.0.0.1), webhook notifications (`webhook`), and the app's own resume path (`tap`: the graph as
the app sees it, every call recorded into a real `Run`). It owns those modules only, and may
import hitl_sim's top-level names, `hitl_sim.run`, `.interrupts`, `.decisions`, `.errors` and
`.normalise`, and (noted for the restructure) the driver's capture, clock and gates modules, the
checks and the reviewer (`as_responder`); only `hitl_sim.scenarios` (front-end reviewers in
scenario files) and the plugin import it. Heavy optional
dependencies (fastapi, httpx, uvicorn, pexpect: `pip install "hitl-sim[frontends]"`) are imported
inside the functions that need them, never from `hitl_sim/__init__`.
"""

from __future__ import annotations
