"""The Textual terminal UI: `layerscope FILE` (see app.py; `run_tui` is the entry point)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from captures.live import LiveCapture


def run_tui(path: str | Path | None, capture: LiveCapture | None = None) -> int:
    """Open the TUI on a capture, on a live `capture`, or on the bundled sample with its start
    screen when both are None."""
    from analyzer.tui.app import run_tui as run

    return run(path, capture)
