"""Ethernet: Ethernet II (DIX) and IEEE 802.3 length frames (IEEE 802.3, RFC 894)."""

from __future__ import annotations

import functools

from analyzer.context import PacketContext
from analyzer.cursor import Base, ByteCursor, format_ether
from analyzer.model import Field, Layer, Severity
from analyzer.registry import Next, Protocol, Registry
from dissectors.ethertypes import ETHERTYPE_NAMES
from dissectors.manuf import ether_name, vendor_long_name

HEADER_LEN = 14
# Type values up to 1500 are 802.3 lengths; 1536 and up are EtherTypes; between is invalid.
MAX_802_3_LENGTH = 1500
MIN_ETHERTYPE = 1536

LG_TEXT = (
    "Globally unique address (factory default)",
    "Locally administered address (this is NOT the factory default)",
)
IG_TEXT = ("Individual address (unicast)", "Group address (multicast/broadcast)")


def mac_display(mac: bytes, ctx: PacketContext) -> str:
    """How tshark shows a MAC in labels: "Broadcast (ff:ff:ff:ff:ff:ff)", or bare with -n."""
    text = format_ether(mac)
    return f"{ether_name(mac)} ({text})" if ctx.prefs.resolve_names else text


def resolved_name(mac: bytes, ctx: PacketContext) -> str:
    return ether_name(mac) if ctx.prefs.resolve_names else format_ether(mac)


@functools.lru_cache(maxsize=1024)  # few addresses, every packet: resolve each once
def _address_texts(mac: bytes, resolve_names: bool) -> tuple[str, str, str, int, str | None, str]:
    """The texts of an address's fields: plain, displayed, resolved, OUI, vendor, OUI label."""
    text = format_ether(mac)
    name = ether_name(mac) if resolve_names else text
    display = f"{name} ({text})" if resolve_names else text
    oui = int.from_bytes(mac[:3], "big")
    vendor = vendor_long_name(oui)
    oui_text = format_ether(mac[:3]) + (f" ({vendor})" if vendor is not None else "")
    return text, display, name, oui, vendor, oui_text


def add_address(
    cursor: ByteCursor, layer: Layer, ctx: PacketContext, role: str, title: str, at: int
) -> bytes:
    """eth.dst / eth.src with the hidden resolved and OUI fields and the LG/IG bits tshark adds."""
    mac = cursor.peek(6, at)
    text, display, resolved, oui, vendor, oui_text = _address_texts(mac, ctx.prefs.resolve_names)
    top = layer.add(Field(f"eth.{role}", f"{title}: {display}", text, text, at, 6))
    for prefix, label in ((f"eth.{role}", title), ("eth.addr", "Address")):
        if prefix == "eth.addr":
            top.add(Field("eth.addr", f"Address: {display}", text, text, at, 6))
        top.add(
            Field(
                f"{prefix}_resolved",
                f"{label} (resolved): {resolved}",
                resolved,
                resolved,
                at,
                6,
                hidden=True,
            )
        )
        top.add(Field(f"{prefix}.oui", f"{label} OUI: {oui_text}", oui, str(oui), at, 3, hidden=True))
        if vendor is not None:
            top.add(
                Field(
                    f"{prefix}.oui_resolved",
                    f"{label} OUI (resolved): {vendor}",
                    vendor,
                    vendor,
                    at,
                    6,
                    hidden=True,
                )
            )
    for bit, mask, texts in (("lg", 0x020000, LG_TEXT), ("ig", 0x010000, IG_TEXT)):
        title_bit = "LG bit" if bit == "lg" else "IG bit"
        for name, hidden in ((f"eth.{role}.{bit}", False), (f"eth.{bit}", True)):
            cursor.flag(top, name, title_bit, 3, mask, at=at, true_text=texts[1], false_text=texts[0])
            top.children[-1].hidden = hidden
    return mac


def add_8023_padding(cursor: ByteCursor, layer: Layer, payload_end: int) -> None:
    """Bytes past an 802.3 length: zeros are padding, anything else an undecoded trailer."""
    extra = cursor.data[payload_end : cursor.limit]
    if not extra:
        return
    name = "eth.padding" if extra.count(0) == len(extra) else "eth.trailer"
    label = "Padding" if name == "eth.padding" else "Trailer"
    layer.add(Field(name, f"{label}: {extra.hex()}", extra, extra.hex(), payload_end, len(extra)))


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start = cursor.pos
    # tshark adds no field at all to a frame shorter than the header.
    cursor.check(start, HEADER_LEN)
    dst = add_address(cursor, layer, ctx, "dst", "Destination", start)
    src = add_address(cursor, layer, ctx, "src", "Source", start + 6)
    cursor.pos = start + 12
    if src[0] & 0x01:
        layer.problem(
            "eth.src_not_group",
            "Source MAC must not be a group address: IEEE 802.3-2002, Section 3.2.3(b)",
            Severity.WARNING,
            start + 6,
            6,
            group="Protocol",
        )
    layer.length = HEADER_LEN
    addresses = f"Src: {mac_display(src, ctx)}, Dst: {mac_display(dst, ctx)}"
    type_or_length = cursor.peek_uint(2)
    if type_or_length <= MAX_802_3_LENGTH:
        layer.label = "IEEE 802.3 Ethernet "
        cursor.uint(layer, "eth.len", "Length", 2)
        payload_end = cursor.pos + type_or_length
        if payload_end > cursor.end:
            layer.problem(
                "eth.len.past_end",
                "Length field value goes past the end of the payload",
                Severity.WARNING,
                start + 12,
                2,
                group="Protocol",
            )
            payload_end = cursor.end
        add_8023_padding(cursor, layer, payload_end)
        # LLC is not dissected yet: the pipeline shows the payload as data.
        return Next("llc", (), cursor.pos, payload_end)
    if type_or_length < MIN_ETHERTYPE:
        layer.label = f"Ethernet Unknown, {addresses}"
        cursor.uint(layer, "eth.invalid_lentype", "Invalid length/type", 2, base=Base.HEX_DEC)
        layer.problem(
            "eth.invalid_lentype",
            f"Invalid length/type: 0x{type_or_length:04x} ({type_or_length})",
            Severity.WARNING,
            start + 12,
            2,
            group="Protocol",
        )
        return Next("ethertype.invalid", (), cursor.pos, cursor.end)
    layer.label = f"Ethernet II, {addresses}"
    ethertype = cursor.uint(layer, "eth.type", "Type", 2, base=Base.HEX, names=ETHERTYPE_NAMES)
    ctx.protocols.append("ethertype")
    return Next("ethertype", (ethertype,), cursor.pos, cursor.end, trailer="eth.padding")


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("eth", "Ethernet", "Ethernet II", dissect))
    registry.bind("link", 1, "eth")
