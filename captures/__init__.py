"""Capture backends: turn files and interfaces into Frames, knowing nothing of protocols."""

from captures.frame import Frame

__all__ = ["Frame"]
