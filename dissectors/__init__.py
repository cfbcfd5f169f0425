"""Protocol dissectors: pure functions from bytes and context to a Layer and the next step."""

from __future__ import annotations

from analyzer.registry import Registry
from dissectors import (
    arp,
    data,
    data_text_lines,
    dhcp,
    dns,
    eth,
    frame,
    http,
    icmp,
    icmpv6,
    ipv4,
    ipv6,
    media,
    null,
    rawip,
    sll,
    tcp,
    udp,
    urlencoded,
    vlan,
)

# Each module binds itself in `register`; the list is explicit so nothing is discovered
# by scanning modules or mutating classes.
MODULES = (frame, data, ipv4, icmp, ipv6, icmpv6, eth, vlan, arp, sll, null, rawip, tcp, udp, dhcp, dns,
           http, data_text_lines, urlencoded, media)  # fmt: skip


def build_registry() -> Registry:
    registry = Registry()
    for module in MODULES:
        module.register(registry)
    return registry
