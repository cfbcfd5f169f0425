"""What a compiled filter reads from a packet: the values of named fields, from a tree or the fast path."""

from __future__ import annotations

import ipaddress
from typing import Protocol

from analyzer.filter.values import Family
from analyzer.model import Dissection, Field, Layer, Value

_IPV4_FULL = 0xFFFFFFFF
_IPV6_FULL = (1 << 128) - 1
_V4_CACHE: dict[str, tuple[int, int]] = {}
_V6_CACHE: dict[str, tuple[int, int]] = {}


class Packet(Protocol):
    """A packet as filters see it. `layer` selects occurrences in the nth layer of the protocol."""

    def values(self, name: str, layer: int | None) -> list[object]: ...

    def shows(self, name: str, layer: int | None) -> list[str]: ...

    def lengths(self, name: str, layer: int | None) -> list[int]: ...


def ipv4_value(text: str) -> tuple[int, int]:
    found = _V4_CACHE.get(text)
    if found is None:
        found = (int(ipaddress.IPv4Address(text)), _IPV4_FULL)
        if len(_V4_CACHE) < 65536:
            _V4_CACHE[text] = found
    return found


def ipv6_value(text: str) -> tuple[int, int]:
    found = _V6_CACHE.get(text)
    if found is None:
        found = (int(ipaddress.IPv6Address(text)), _IPV6_FULL)
        if len(_V6_CACHE) < 65536:
            _V6_CACHE[text] = found
    return found


def normalize(family: Family, value: Value, show: str) -> object:
    """A Field's value in the form filters compare (see analyzer.filter.values)."""
    if family is Family.INT:
        return int(value) if isinstance(value, int | float) else int(show, 0)
    if family is Family.BOOL:
        return int(bool(value))
    if family is Family.IPV4:
        return ipv4_value(str(value))
    if family is Family.IPV6:
        return ipv6_value(str(value))
    if family in (Family.ETHER, Family.BYTES):
        if isinstance(value, bytes):
            return value
        try:
            return bytes.fromhex(show.replace(":", ""))
        except ValueError:
            return show.encode("utf-8", "surrogateescape")
    if family is Family.STRING:
        return value if isinstance(value, str) else show
    if family in (Family.DOUBLE, Family.RELTIME):
        return float(value) if isinstance(value, int | float) else float(show)
    if family is Family.ABSTIME:
        return int(value) if isinstance(value, int) else 0
    return value


class TreePacket:
    """A full dissection, indexed on first use by the names a filter needs."""

    __slots__ = ("_found", "dissection", "families")

    def __init__(self, dissection: Dissection, families: dict[str, Family]) -> None:
        self.dissection = dissection
        self.families = families
        self._found: dict[str, list[tuple[int, Field | Layer]]] | None = None

    def _index(self) -> dict[str, list[tuple[int, Field | Layer]]]:
        found: dict[str, list[tuple[int, Field | Layer]]] = {}
        wanted = self.families
        seen: dict[str, int] = {}
        for layer in self.dissection.layers:
            number = seen[layer.proto] = seen.get(layer.proto, 0) + 1
            if layer.proto in wanted:
                found.setdefault(layer.proto, []).append((number, layer))
            for item in layer.walk():
                if item.name in wanted:
                    found.setdefault(item.name, []).append((number, item))
        self._found = found
        return found

    def _items(self, name: str, layer: int | None) -> list[Field | Layer]:
        found = self._found if self._found is not None else self._index()
        items = found.get(name, ())
        return [item for number, item in items if layer is None or number == layer]

    def values(self, name: str, layer: int | None) -> list[object]:
        family = self.families[name]
        out: list[object] = []
        for item in self._items(name, layer):
            if isinstance(item, Layer) or family is Family.PROTOCOL:
                out.append(self._protocol_bytes(item))
            else:
                out.append(normalize(family, item.value, item.show))
        return out

    def shows(self, name: str, layer: int | None) -> list[str]:
        return [item.label if isinstance(item, Layer) else item.show for item in self._items(name, layer)]

    def lengths(self, name: str, layer: int | None) -> list[int]:
        return [self._item_length(item) for item in self._items(name, layer)]

    def _item_length(self, item: Field | Layer) -> int:
        """Wireshark's item length: a field's bytes; a protocol's header, up to the next layer
        at its depth (a layer that nests others, as ICMP quoting a packet, covers them)."""
        if isinstance(item, Field):
            return max(item.length, 0)
        layers = self.dissection.layers
        at = next(i for i, layer in enumerate(layers) if layer is item)
        if at + 1 < len(layers):
            following = layers[at + 1]
            if following.depth == item.depth and item.offset < following.offset < item.end:
                return following.offset - item.offset
        return max(item.length, 0)

    def _protocol_bytes(self, item: Field | Layer) -> bytes:
        """A protocol's value: its bytes to the end of what it carries (Wireshark's tvb)."""
        data = self.dissection.frame.data
        if isinstance(item, Field):
            return data[item.offset : item.offset + item.length] if item.offset >= 0 else b""
        layers = self.dissection.layers
        end = item.end
        at = next(i for i, layer in enumerate(layers) if layer is item)
        for child in item.walk():
            if child.offset >= 0:
                end = max(end, child.offset + child.length)
        for later in layers[at + 1 :]:
            if later.depth < item.depth:
                break
            end = max(end, later.end)
        return data[item.offset : end]
