"""Suite-wide settings: UTC clock, pytester for plugin tests."""

from __future__ import annotations

import os
import time

os.environ["TZ"] = "UTC"
time.tzset()

pytest_plugins = ["pytester"]
