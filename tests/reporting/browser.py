"""Debian's Chromium, headless, for the report's browser tests (no driver, no DevTools client:
the console is read from Chromium's own log on stderr, the DOM from `--dump-dom`)."""

from __future__ import annotations

import re
import struct
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--proxy-server=127.0.0.1:9",  # nothing may leave the machine; a fetch would fail loudly
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=3000",
]
_CONSOLE = re.compile(
    r":(?:INFO|WARNING|ERROR):CONSOLE(?:\(\d+\))?[^\]]*\] \"?(?P<text>.*?)(?:\", source: .*)?$"
)


@dataclass(frozen=True)
class Page:
    dom: str
    console: list[str]
    """Every console message the page produced (errors, CSP refusals, logs)."""
    stderr: str


def chromium(url: str, *extra: str) -> Page:
    with tempfile.TemporaryDirectory(prefix="hitl-sim-chromium-") as profile:
        done = subprocess.run(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *extra, url],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, f"chromium exited {done.returncode}:\n{done.stderr[-3000:]}"
    console = [m["text"] for m in map(_CONSOLE.search, done.stderr.splitlines()) if m]
    return Page(done.stdout, console, done.stderr)


def dump_dom(url: str) -> Page:
    return chromium(url, "--dump-dom")


def screenshot(url: str, png: Path, width: int = 1400, height: int = 1600) -> Page:
    return chromium(url, f"--screenshot={png}", f"--window-size={width},{height}")


def png_pixels(png: Path) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Width, height and RGB pixels of an 8-bit RGB/RGBA PNG (what Chromium writes)."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, chunks, header = 8, [], b""
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        body = data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        at += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and color in (2, 6), f"unexpected PNG format {depth=} {color=}"
    step = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * step
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up = previous[i]
            corner = previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                guess = left + up - corner
                pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 255
        rows.append(line)
        previous = line
    pixels = [(row[i], row[i + 1], row[i + 2]) for row in rows for i in range(0, stride, step)]
    return width, height, pixels
