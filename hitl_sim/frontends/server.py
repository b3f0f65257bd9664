"""A real HTTP server on 127.0.0.1 for an ASGI app: `with serve(app) as url:`.

uvicorn runs in a background thread on a free port chosen by the kernel (a socket bound to port
0), and is stopped and joined when the block ends. Startup waits at most `timeout` seconds of
real time; a server that does not come up is a `ProcessFailed` naming the app.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from hitl_sim.errors import ProcessFailed


@contextlib.contextmanager
def serve(app: Any, *, timeout: float = 10.0) -> Iterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 for the block; yields its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none")  # HTTP only
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn:{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + timeout
    polls = int(timeout / 0.01) + 1  # bounded even where a test froze time.monotonic
    while not server.started:
        polls -= 1
        if not thread.is_alive() or time.monotonic() > deadline or polls < 0:
            server.should_exit = True
            sock.close()
            raise ProcessFailed(
                f"uvicorn did not start serving {app!r} on 127.0.0.1:{port} within {timeout}s. "
                "Expected the app to import and start cleanly; run it by hand with uvicorn to "
                "see why."
            )
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
