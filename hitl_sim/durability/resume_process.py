"""The entry point of a resume process: `python -m hitl_sim.durability.resume_process JOB OUT`.

`simulate_with_restarts(restart="process")` and `crash_during_resume` start it to resume a thread
in a new Python process; it is its own module so that `-m` does not run a module the package
has already imported.
"""

from __future__ import annotations

import sys

from hitl_sim.durability.restart import _child_main

if __name__ == "__main__":
    _child_main(*sys.argv[1:3])
