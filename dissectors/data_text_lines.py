"""Line-based text data: text bodies shown line by line (tshark's data-text-lines; RFC 2046 text/*)."""

from __future__ import annotations

from analyzer.context import PacketContext
from analyzer.cursor import ByteCursor, text_node
from analyzer.model import Layer
from analyzer.registry import Next, Protocol, Registry

# Media types tshark 4.0 hands to its line-based text dissector.
TEXT_TYPES = (
    "text/plain",
    "text/html",
    "text/css",
    "text/richtext",
    "text/enriched",
    "text/sgml",
    "text/javascript",
    "text/csv",
    "text/vnd.wap.wml",
    "text/vnd.wap.wmlscript",
    "text/vnd.wap.sl",
    "text/vnd.wap.co",
    "text/vnd.wap.si",
    "text/cache-manifest",
    "text/markdown",
    "text/x-markdown",
    "application/x-javascript",
    "application/x-tia-msg",
    "application/x-www-form-urlencoded",
    "message/global-headers",
)
# Lines shown at most; a longer body keeps its bytes in the layer range but not a node each.
MAX_LINES = 100_000


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start, stop = cursor.pos, cursor.limit
    data = cursor.data
    at = start
    lines = 0
    while at < stop and lines < MAX_LINES:
        found = data.find(b"\n", at, stop)
        end = stop if found < 0 else found + 1
        text_node(layer, data[at:end].decode("utf-8", "replace"), at, end - at)
        lines += 1
        at = end
    media = f": {ctx.media_type}" if ctx.media_type else ""
    layer.label = f"Line-based text data{media} ({lines} lines)"
    layer.offset, layer.length = start, stop - start
    return None


def register(registry: Registry) -> None:
    registry.add_protocol(
        Protocol("data-text-lines", "Line-based text data", "Line-based text data", dissect)
    )
    for media in TEXT_TYPES:
        if media != "application/x-www-form-urlencoded":
            registry.bind("media_type", media, "data-text-lines")
