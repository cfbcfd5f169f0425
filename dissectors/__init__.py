"""Protocol dissectors: pure functions from bytes and context to a Layer and the next step."""

from __future__ import annotations

import importlib

from analyzer.registry import Registry

# Each module binds itself in `register`; the list is explicit so nothing is discovered by
# scanning modules or mutating classes. Modules load only when a registry is built, so that
# importing one module's name tables (the fast summary does) stays cheap.
MODULES = (
    "frame", "data", "ipv4", "icmp", "ipv6", "icmpv6", "eth", "vlan", "arp", "sll", "null", "rawip",
    "tcp", "udp", "dhcp", "dns", "http", "data_text_lines", "urlencoded", "json", "media",
)  # fmt: skip


def build_registry() -> Registry:
    registry = Registry()
    for name in MODULES:
        importlib.import_module(f"dissectors.{name}").register(registry)
    return registry
