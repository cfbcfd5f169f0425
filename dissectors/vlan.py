"""VLAN tags: IEEE 802.1Q customer tags (0x8100, old QinQ 0x9100) and 802.1ad service tags (0x88a8)."""

from __future__ import annotations

from analyzer.context import PacketContext
from analyzer.cursor import Base, ByteCursor
from analyzer.model import Layer, Severity
from analyzer.registry import Next, Protocol, Registry
from dissectors.ethertypes import ETHERTYPE_NAMES

TAG_LEN = 4
MAX_802_3_LENGTH = 1500

# 802.1Q-2005 traffic types, the table tshark 4.0 uses by default for vlan.priority.
PRIORITY_NAMES = {
    0: "Best Effort (default)",
    1: "Background",
    2: "Excellent Effort",
    3: "Critical Applications",
    4: "Video, < 100ms latency and jitter",
    5: "Voice, < 10ms latency and jitter",
    6: "Internetwork Control",
    7: "Network Control",
}


def dissect_vlan(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start = cursor.pos
    cursor.check(start, TAG_LEN)
    layer.length = TAG_LEN
    priority = cursor.bits(layer, "vlan.priority", "Priority", 2, 0xE000, names=PRIORITY_NAMES)
    dei = cursor.flag(layer, "vlan.dei", "DEI", 2, 0x1000, true_text="Eligible", false_text="Ineligible")
    vlan_id = cursor.bits(layer, "vlan.id", "ID", 2, 0x0FFF)
    layer.label = f"802.1Q Virtual LAN, PRI: {priority}, DEI: {int(dei)}, ID: {vlan_id}"
    cursor.skip(2)
    type_or_length = cursor.peek_uint(2)
    if type_or_length <= MAX_802_3_LENGTH:
        cursor.uint(layer, "vlan.len", "Length", 2)
        end = cursor.pos + type_or_length
        if end > cursor.end:
            layer.problem(
                "vlan.len.past_end",
                "Length field value goes past the end of the payload",
                Severity.WARNING,
                start + 2,
                2,
                group="Protocol",
            )
            end = cursor.end
        return Next("llc", (), cursor.pos, end, trailer="eth.padding")
    ethertype = cursor.uint(layer, "vlan.etype", "Type", 2, base=Base.HEX, names=ETHERTYPE_NAMES)
    ctx.protocols.append("ethertype")
    return Next("ethertype", (ethertype,), cursor.pos, cursor.end, trailer="eth.padding")


def dissect_8021ad(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start = cursor.pos
    cursor.check(start, TAG_LEN)
    layer.length = TAG_LEN
    cursor.bits(layer, "ieee8021ad.priority", "Priority", 2, 0xE000)
    cursor.bits(layer, "ieee8021ad.dei", "DEI", 2, 0x1000)
    tag_id = cursor.bits(layer, "ieee8021ad.id", "ID", 2, 0x0FFF)
    layer.label = f"IEEE 802.1ad, ID: {tag_id}"
    cursor.skip(2)
    # tshark 4.0 files the inner type under the 802.1ah field name.
    ethertype = cursor.uint(layer, "ieee8021ah.etype", "Type", 2, base=Base.HEX, names=ETHERTYPE_NAMES)
    ctx.protocols.append("ethertype")
    return Next("ethertype", (ethertype,), cursor.pos, cursor.end, trailer="eth.padding")


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("vlan", "VLAN", "802.1Q Virtual LAN", dissect_vlan))
    registry.add_protocol(Protocol("ieee8021ad", "IEEE 802.1ad", "IEEE 802.1ad", dissect_8021ad))
    registry.bind_many("ethertype", (0x8100, 0x9100), "vlan")
    registry.bind("ethertype", 0x88A8, "ieee8021ad")
