"""HTML Form URL Encoded: application/x-www-form-urlencoded bodies (WHATWG URL, form-urlencoded)."""

from __future__ import annotations

from urllib.parse import unquote_plus

from analyzer.context import PacketContext
from analyzer.cursor import ByteCursor, text_node
from analyzer.model import Field, Layer
from analyzer.registry import Next, Protocol, Registry

MEDIA_TYPE = "application/x-www-form-urlencoded"
MAX_ITEMS = 10_000


def _decode(raw: bytes) -> str:
    return unquote_plus(raw.decode("latin-1"), encoding="utf-8", errors="replace")


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start, stop = cursor.pos, cursor.limit
    data = cursor.data
    layer.label = f"HTML Form URL Encoded: {ctx.media_type or MEDIA_TYPE}"
    at = start
    items = 0
    while at < stop and items < MAX_ITEMS:
        amp = data.find(b"&", at, stop)
        end = stop if amp < 0 else amp
        pair = data[at:end]
        raw_key, eq, raw_value = pair.partition(b"=")
        key, value = _decode(raw_key), _decode(raw_value)
        label = f'Form item: "{key}" = "{value}"' if eq else f'Form item: "{key}"'
        item = text_node(layer, label, at, end - at)
        item.add(Field("urlencoded-form.key", f"Key: {key}", key, key, at, len(raw_key)))
        if eq:
            value_at = at + len(raw_key) + 1
            item.add(
                Field("urlencoded-form.value", f"Value: {value}", value, value, value_at, len(raw_value))
            )
        items += 1
        at = end + 1
    layer.offset, layer.length = start, stop - start
    return None


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("urlencoded-form", "URLENCODED-FORM", "HTML Form URL Encoded", dissect))
    registry.bind("media_type", MEDIA_TYPE, "urlencoded-form")
