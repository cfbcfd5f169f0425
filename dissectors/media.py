"""Media Type: a message body of a media type no dissector decodes (RFC 2046; tshark's media)."""

from __future__ import annotations

from analyzer.context import PacketContext
from analyzer.cursor import ByteCursor
from analyzer.model import Field, Layer
from analyzer.registry import Next, Protocol, Registry

# tshark shows these as plain data, not as a media body.
AS_DATA = frozenset(("application/octet-stream",))


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start = cursor.pos
    body = cursor.rest()
    layer.label = "Media Type"
    layer.offset, layer.length = start, len(body)
    label = f"Media type: {ctx.media_type} ({len(body)} byte{'' if len(body) == 1 else 's'})"
    layer.add(Field("media.type", label, body, body.hex(), start, len(body)))
    return None


def claims(data: bytes, offset: int, end: int, ctx: PacketContext) -> bool:
    """Any body with a media type no other dissector took (tried after the exact bindings)."""
    return bool(ctx.media_type) and ctx.media_type not in AS_DATA


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("media", "Media", "Media Type", dissect))
    registry.add_heuristic("media_type", "media", claims)
