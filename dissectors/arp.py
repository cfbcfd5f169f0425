"""ARP: the Address Resolution Protocol and its RARP/InARP opcodes (RFC 826, RFC 903, RFC 2390)."""

from __future__ import annotations

from analyzer.context import PacketContext
from analyzer.cursor import Base, ByteCursor, format_ipv4, generated
from analyzer.model import Field, Layer
from analyzer.registry import Next, Protocol, Registry
from dissectors.eth import mac_display
from dissectors.ethertypes import ARP_HARDWARE_NAMES, ETHERTYPE_NAMES

HEADER_LEN = 8
REQUEST, REPLY = 1, 2
HW_ETHERNET, HW_IEEE802 = 1, 6
ETHERTYPE_IPV4, AX25_P_IP = 0x0800, 0xCC

OPCODE_NAMES = {
    0: "reserved",
    1: "request",
    2: "reply",
    3: "reverse request",
    4: "reverse reply",
    5: "drarp request",
    6: "drarp reply",
    7: "drarp error",
    8: "inverse request",
    9: "inverse reply",
    10: "arp nak",
    11: "mars request",
    12: "mars multi",
    13: "mars mserv",
    14: "mars join",
    15: "mars leave",
    16: "mars nak",
    17: "mars unserv",
    18: "mars sjoin",
    19: "mars sleave",
    20: "mars grouplist request",
    21: "mars gruoplist reply",  # sic: tshark's spelling
    22: "mars redirect map",
    23: "mapos unarp",
    24: "experimental 1",
    25: "experimental 2",
    65535: "reserved",
}
DRARP_ERROR = 7


def is_ether(hw_type: int, hw_size: int) -> bool:
    return hw_type in (HW_ETHERNET, HW_IEEE802) and hw_size == 6


def is_ipv4(proto_type: int, proto_size: int) -> bool:
    return proto_type in (ETHERTYPE_IPV4, AX25_P_IP) and proto_size == 4


def zeros_at(cursor: ByteCursor, at: int, size: int) -> bool:
    """Whether `size` bytes at `at` are all zero; False (never Truncated) where they are not
    there, as Wireshark's tvb_memeql compares, whatever the address sizes say."""
    return at + size <= cursor.limit and cursor.data[at : at + size] == bytes(size)


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start = cursor.pos
    layer.label = "Address Resolution Protocol"
    hw_type = cursor.uint(layer, "arp.hw.type", "Hardware type", 2, names=ARP_HARDWARE_NAMES)
    proto_type = cursor.uint(
        layer, "arp.proto.type", "Protocol type", 2, base=Base.HEX, names=ETHERTYPE_NAMES
    )
    hw_size = cursor.uint(layer, "arp.hw.size", "Hardware size", 1)
    proto_size = cursor.uint(layer, "arp.proto.size", "Protocol size", 1)
    opcode = cursor.uint(layer, "arp.opcode", "Opcode", 2, names=OPCODE_NAMES)
    # The ARP datagram's own length: whatever follows it in the frame is padding.
    layer.length = min(HEADER_LEN + 2 * hw_size + 2 * proto_size, cursor.end - start)
    if opcode in (3, 4):
        layer.short_name = "RARP"
    sha, spa = start + HEADER_LEN, start + HEADER_LEN + hw_size
    tha, tpa = spa + proto_size, spa + proto_size + hw_size

    # Reading both protocol addresses first means a datagram cut short raises here, before
    # the label gets its opcode, as tshark 4.0 leaves it ("Address Resolution Protocol").
    gratuitous = probe = announcement = False
    if opcode in (REQUEST, REPLY):
        sender_proto, target_proto = cursor.peek(proto_size, spa), cursor.peek(proto_size, tpa)
        if sender_proto == target_proto:
            gratuitous = True
            announcement = opcode == REQUEST and zeros_at(cursor, tha, 6)
        elif opcode == REQUEST and zeros_at(cursor, tha, 6) and zeros_at(cursor, spa, 4):
            probe = True
    name = OPCODE_NAMES.get(opcode)
    if name is None:
        layer.label = f"Address Resolution Protocol (opcode 0x{opcode:04x})"
    else:
        if gratuitous:
            name = "request/gratuitous ARP" if opcode == REQUEST else "reply/gratuitous ARP"
        if probe:
            name = "ARP Probe"
        if announcement:
            name = "ARP Announcement"
        layer.label = f"Address Resolution Protocol ({name})"
    for flag, field_name, title in (
        (gratuitous, "arp.isgratuitous", "Is gratuitous"),
        (probe, "arp.isprobe", "Is probe"),
        (announcement, "arp.isannouncement", "Is announcement"),
    ):
        if flag:
            generated(layer, field_name, f"[{title}: True]", True)

    ether, ipv4 = is_ether(hw_type, hw_size), is_ipv4(proto_type, proto_size)
    add_hardware(cursor, layer, ctx, "src", "Sender", sha, hw_size, ether)
    add_protocol(cursor, layer, "src", "Sender", spa, proto_size, ipv4)
    add_hardware(cursor, layer, ctx, "dst", "Target", tha, hw_size, ether)
    if proto_size and opcode == DRARP_ERROR:
        cursor.uint(layer, "arp.dst.drarp_error_status", "DRARP error status", 1, at=tpa)
    else:
        add_protocol(cursor, layer, "dst", "Target", tpa, proto_size, ipv4)
    return None


def add_hardware(
    cursor: ByteCursor,
    layer: Layer,
    ctx: PacketContext,
    role: str,
    title: str,
    at: int,
    size: int,
    ether: bool,
) -> None:
    if size == 0:
        return
    if ether:
        mac = cursor.peek(6, at)
        cursor.ether(layer, f"arp.{role}.hw_mac", f"{title} MAC address", at=at, text=mac_display(mac, ctx))
    else:
        cursor.bytes_field(layer, f"arp.{role}.hw", f"{title} hardware address", size, at=at)


def add_protocol(
    cursor: ByteCursor, layer: Layer, role: str, title: str, at: int, size: int, ipv4: bool
) -> None:
    if size == 0:
        return
    if ipv4:
        raw = cursor.peek(4, at)
        text = format_ipv4(raw)
        layer.add(Field(f"arp.{role}.proto_ipv4", f"{title} IP address: {text}", text, text, at, 4))
    else:
        cursor.bytes_field(layer, f"arp.{role}.proto", f"{title} protocol address", size, at=at)


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("arp", "ARP", "Address Resolution Protocol", dissect))
    # 0x8035 is RARP, which Wireshark also hands to its ARP dissector.
    registry.bind_many("ethertype", (0x0806, 0x8035), "arp")
