"""Data: the leaf for payload bytes no dissector claims (Wireshark's `data`)."""

from __future__ import annotations

from analyzer.context import PacketContext
from analyzer.cursor import ByteCursor, generated
from analyzer.model import Field, Layer
from analyzer.registry import Next, Protocol, Registry

# How many payload bytes the label previews before eliding with "…", as tshark 4.0 does.
PREVIEW_BYTES = 36


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start = cursor.pos
    payload = cursor.rest()
    layer.offset, layer.length = start, len(payload)
    layer.label = f"Data ({len(payload)} bytes)"
    preview = payload[:PREVIEW_BYTES].hex() + ("\u2026" if len(payload) > PREVIEW_BYTES else "")
    layer.add(Field("data.data", f"Data: {preview}", payload, payload.hex(), start, len(payload)))
    generated(layer, "data.len", f"[Length: {len(payload)}]", len(payload))
    if cursor.declared_remaining > 0 and cursor.limit < cursor.end:
        layer.problem(
            "data.truncated",
            f"Packet size limited during capture: {cursor.end - cursor.limit} bytes of data not captured",
            offset=cursor.limit,
        )
    return None


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("data", "Data", "Data", dissect))
