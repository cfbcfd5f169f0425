"""The real captures shipped inside the package, for demos and the no-argument default."""

from __future__ import annotations

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent


def sample_path(name: str = "sample.pcapng") -> Path:
    """Path of a bundled capture (the default is the mixed demo capture)."""
    return SAMPLES_DIR / name
