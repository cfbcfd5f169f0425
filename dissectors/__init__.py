"""Protocol dissectors: pure functions from bytes and context to a Layer and the next step."""

from __future__ import annotations

from analyzer.registry import Registry
from dissectors import data, frame

# Each module binds itself in `register`; the list is explicit so nothing is discovered
# by scanning modules or mutating classes.
MODULES = (frame, data)


def build_registry() -> Registry:
    registry = Registry()
    for module in MODULES:
        module.register(registry)
    return registry
