"""The Textual terminal UI: `layerscope FILE` (see app.py; `run_tui` is the entry point)."""

from __future__ import annotations

from pathlib import Path


def run_tui(path: str | Path | None) -> int:
    """Open the TUI on a capture, or on the bundled sample with its start screen when `path` is None."""
    from analyzer.tui.app import run_tui as run

    return run(path)
