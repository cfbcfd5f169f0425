"""MAC address names: vendor prefixes and well-known addresses, resolved the way Wireshark 4.0 does."""

from __future__ import annotations

import functools
import gzip
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from analyzer.cursor import format_ether


@dataclass(slots=True)
class AddressNames:
    """The read-only tables of dissectors/data/manuf.txt.gz (built by tools/make_oui.py)."""

    vendors: dict[int, tuple[str, str]] = field(default_factory=dict)  # OUI -> (short, long)
    exact: dict[int, str] = field(default_factory=dict)  # 48-bit address -> name
    # Wireshark 4.0 keeps every masked range in one table keyed by the masked address alone,
    # whatever the mask; its lookups then probe each prefix length against that one table.
    ranges: dict[int, str] = field(default_factory=dict)


@cache
def address_names() -> AddressNames:
    """Load the tables once, on first use; they are constant data, never packet state."""
    names = AddressNames()
    try:
        raw = resources.files("dissectors").joinpath("data/manuf.txt.gz").read_bytes()
    except OSError:
        return names
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        kind, key = parts[0], int(parts[1], 16)
        if kind == "V":
            names.vendors[key] = (parts[2], parts[3] if len(parts) > 3 else parts[2])
        elif kind == "E":
            names.exact[key] = parts[2]
        elif kind == "W":
            names.ranges[key] = parts[2]
    return names


def _masked(value: int, prefix: int) -> int:
    return value & ~((1 << (48 - prefix)) - 1)


def _tail(mac: bytes, first: int, prefix: int) -> str:
    """The unmatched bytes from `first` on, the first one masked as Wireshark masks it."""
    keep = 0xFF >> (prefix - first * 8) if prefix > first * 8 else 0xFF
    return ":".join(f"{b & keep if i == 0 else b:02x}" for i, b in enumerate(mac[first:]))


@functools.lru_cache(maxsize=4096)
def ether_name(mac: bytes) -> str:
    """The resolved name tshark shows: "Broadcast", "Intel_12:34:56", "IPv4mcast_fb", else the MAC.

    Follows Wireshark 4.0's eth_addr_resolve: exact names, then ranges longer than a /24,
    then the vendor OUI (also with the group bit cleared), then shorter ranges.
    """
    if len(mac) != 6:
        return format_ether(mac)
    names = address_names()
    value = int.from_bytes(mac, "big")
    exact = names.exact.get(value)
    if exact is not None:
        return exact
    # Prefixes 47..24 in that order; the byte index of the first partly-matched byte is
    # prefix // 8 and Wireshark prints every byte from there, the first one masked.
    for first in (5, 4, 3):
        for prefix in range(first * 8 + 7, first * 8 - 1, -1):
            name = names.ranges.get(_masked(value, prefix))
            if name is not None:
                return f"{name}_{_tail(mac, first, prefix)}"
    oui = value >> 24
    vendor = names.vendors.get(oui)
    if vendor is None and oui & 0x010000:
        vendor = names.vendors.get(oui & 0xFEFFFF)
    if vendor is not None:
        return f"{vendor[0]}_{mac[3]:02x}:{mac[4]:02x}:{mac[5]:02x}"
    for first in (2, 1, 0):
        lowest = first * 8 + (1 if first == 0 else 0)  # Wireshark never tries a /0
        for prefix in range(first * 8 + 7, lowest - 1, -1):
            name = names.ranges.get(_masked(value, prefix))
            if name is not None:
                return f"{name}_{_tail(mac, first, prefix)}"
    return format_ether(mac)


def vendor_long_name(oui: int) -> str | None:
    """The vendor's full name for an exact 24-bit OUI (eth.*.oui_resolved), or None."""
    vendor = address_names().vendors.get(oui)
    return vendor[1] if vendor is not None else None
