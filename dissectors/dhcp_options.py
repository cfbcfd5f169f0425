"""DHCP option values (RFC 2132, 3046, 3397, 3442, 4361, 4702), decoded as tshark 4.0 shows them."""

from __future__ import annotations

import uuid

from analyzer.context import PacketContext
from analyzer.cursor import Base, ByteCursor, Truncated, format_ether, format_ipv4
from analyzer.model import Field, Layer, Severity
from dissectors.dhcp_names import (
    AGENT_SUBOPTION_NAMES,
    BASIC_OPTIONS,
    BOOL_TEXTS,
    BYTE_VALUE_NAMES,
    DUID_TYPES,
    ENABLED,
    OPTION_NAMES,
    Kind,
)
from dissectors.eth import mac_display
from dissectors.ethertypes import ARP_HARDWARE_NAMES

# A DNS name never needs more hops than this; more means the pointers loop.
MAX_NAME_HOPS = 128
ETHERNET_TYPES = (1, 6)  # ARPHRD_ETHER, ARPHRD_IEEE802


# tshark 4.0 shows at most this many bytes of a byte string in a tree label, then "…".
LABEL_BYTES = 36


def hex_label(raw: bytes) -> str:
    return raw[:LABEL_BYTES].hex() + ("\u2026" if len(raw) > LABEL_BYTES else "")


def plural(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'}"


def seconds_text(total: int) -> str:
    """Wireshark's unsigned_time_secs_to_str: "1 day, 1 hour, 1 minute, 1 second"."""
    if total == 0:
        return "0 seconds"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [
        plural(value, unit)
        for value, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"), (seconds, "second"))
        if value
    ]
    return ", ".join(parts)


def stringz(raw: bytes) -> str:
    """FT_STRINGZ text: up to the first NUL, decoded leniently."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def text_field(parent: Layer | Field, name: str, label: str, raw: bytes, offset: int) -> Field:
    text = stringz(raw)
    return parent.add(Field(name, f"{label}: {text}", text, text, offset, len(raw)))


def bad_length(layer: Layer, message: str, offset: int, length: int) -> None:
    layer.problem("dhcp.bad_length", message, Severity.ERROR, offset, length, "Protocol")


def basic_option(cursor: ByteCursor, layer: Layer, item: Field, code: int, start: int, length: int) -> bool:
    """Decode a fixed-layout option; False when the length does not fit (tshark then shows bytes)."""
    spec = BASIC_OPTIONS[code]
    kind, name, label = spec.kind, spec.field, spec.label
    raw = cursor.peek(length, start)
    sizes = {Kind.IPV4: 4, Kind.BOOL: 1, Kind.U8: 1, Kind.U16: 2, Kind.TIME_S: 4, Kind.TIME_U: 4}
    if kind in sizes and length != sizes[kind]:
        bad_length(layer, f"length isn't {sizes[kind]}", item.offset, item.length)
        return False
    if kind is Kind.IPV4:
        address = cursor.ipv4(item, name, label, at=start)
        item.label += f" ({address})"
    elif kind in (Kind.IPV4_LIST, Kind.U16_LIST):
        size = 4 if kind is Kind.IPV4_LIST else 2
        for at in range(start, start + length - size + 1, size):
            if size == 4:
                cursor.ipv4(item, name, label, at=at)
            else:
                cursor.uint(item, name, label, 2, at=at)
        if length % size:
            bad_length(layer, f"Option length isn't a multiple of {size}", item.offset, item.length)
        return length >= size
    elif kind is Kind.STRING:
        text_field(item, name, label, raw, start)
        return length > 0
    elif kind is Kind.BOOL:
        true_text, false_text = BOOL_TEXTS.get(code, ENABLED)
        state = raw[0] != 0
        shown = "1" if state else "0"
        item.add(Field(name, f"{label}: {true_text if state else false_text}", state, shown, start, 1))
    elif kind is Kind.U8:
        cursor.uint(item, name, label, 1, at=start, names=BYTE_VALUE_NAMES.get(code))
    elif kind is Kind.U16:
        cursor.uint(item, name, label, 2, at=start)
    elif kind is Kind.TIME_U:
        value = int.from_bytes(raw, "big")
        text = "infinity" if value == 0xFFFFFFFF else seconds_text(value)
        item.add(Field(name, f"{label}: ({value}s) {text}", value, str(value), start, 4))
    else:  # TIME_S
        value = int.from_bytes(raw, "big", signed=True)
        text = ("-" if value < 0 else "") + seconds_text(abs(value))
        item.add(Field(name, f"{label}: ({value}s) {text}", value, str(value), start, 4))
    return True


def request_list(cursor: ByteCursor, item: Field, start: int, length: int) -> bool:
    for at in range(start, start + length):
        cursor.uint(
            item,
            "dhcp.option.request_list_item",
            "Parameter Request List Item",
            1,
            at=at,
            text=lambda value: f"({value}) {OPTION_NAMES[value]}",
        )
    return length > 0


def client_identifier(
    cursor: ByteCursor, layer: Layer, item: Field, ctx: PacketContext, start: int, length: int
) -> bool:
    """Option 61: hardware address, UUID, RFC 4361 IAID+DUID, or opaque (RFC 2132 9.14)."""
    raw = cursor.peek(length, start)
    kind = raw[0] if raw else 0
    if length == 7 and 0 < kind < 48:
        cursor.uint(
            item, "dhcp.hw.type", "Hardware type", 1, at=start, base=Base.HEX, names=ARP_HARDWARE_NAMES
        )
        if kind in ETHERNET_TYPES:
            mac = raw[1:7]
            cursor.ether(
                item, "dhcp.hw.mac_addr", "Client MAC address", at=start + 1, text=mac_display(mac, ctx)
            )
        else:
            hexed = raw[1:7].hex()
            item.add(
                Field(
                    "dhcp.client_hardware_address",
                    f"Client hardware address: {hexed}",
                    hexed,
                    hexed,
                    start + 1,
                    6,
                )
            )
    elif length == 17 and kind == 0:
        text = str(uuid.UUID(bytes_le=raw[1:17]))
        item.add(Field("dhcp.client_id.uuid", f"Client Identifier (UUID): {text}", text, text, start + 1, 16))
    elif kind == 255 and length >= 7:
        iaid = raw[1:5].hex()
        item.add(Field("dhcp.client_id.iaid", f"IAID: {iaid}", iaid, iaid, start + 1, 4))
        duid = start + 5
        duid_type = cursor.uint(item, "dhcp.client_id.duid_type", "DUID Type", 2, at=duid, names=DUID_TYPES)
        _duid(cursor, layer, item, duid_type, duid, length)
    elif kind == 0 and length > 1:
        cursor.uint(item, "dhcp.client_id.type", "Type", 1, at=start)
        text_field(item, "dhcp.client_id.undef", "Client Identifier", raw[1:], start + 1)
    return length > 0


def _duid(cursor: ByteCursor, layer: Layer, item: Field, duid_type: int, duid: int, length: int) -> None:
    # Wireshark checks the option length (not the DUID's) against each DUID type's minimum.
    minimum = {1: 8, 2: 6, 3: 4}.get(duid_type)
    if minimum is None:
        return
    if length < minimum:
        layer.problem(
            "dhcp.malformed.duid", "DUID: malformed option", Severity.ERROR, item.offset, item.length
        )
        return
    if duid_type == 2:
        cursor.uint(item, "dhcp.client_id.enterprise_num", "Enterprise-number", 4, at=duid + 2)
        if length > 11:
            cursor.bytes_field(item, "dhcp.client_id", "Identifier", length - 11, at=duid + 6)
        return
    hw_name = "dhcp.client_id.duid_llt_hw_type" if duid_type == 1 else "dhcp.client_id.duid_ll_hw_type"
    hw_type = cursor.uint(item, hw_name, "Hardware type", 2, at=duid + 2, names=ARP_HARDWARE_NAMES)
    address_at = duid + 4
    if duid_type == 1:
        cursor.uint(item, "dhcp.client_id.time", "Time", 4, at=duid + 4)
        address_at = duid + 8
    address_len = length - (address_at - duid) - 5
    if address_len > 0:
        raw = cursor.peek(address_len, address_at)
        text = format_ether(raw) if hw_type == 1 and address_len == 6 else raw.hex()
        item.add(
            Field(
                "dhcp.client_id.link_layer_address",
                f"Link layer address: {text}",
                text,
                text,
                address_at,
                address_len,
            )
        )


FQDN_FLAGS = (
    (0x08, "dhcp.fqdn.n", "Server DDNS", "No server updates", "Some server updates"),
    (0x04, "dhcp.fqdn.e", "Encoding", "Binary encoding", "ASCII encoding"),
    (0x02, "dhcp.fqdn.o", "Server overrides", "Override", "No override"),
    (0x01, "dhcp.fqdn.s", "Server", "Server", "Client"),
)


def client_fqdn(cursor: ByteCursor, layer: Layer, item: Field, start: int, length: int) -> bool:
    """Option 81 (RFC 4702): flags, two obsolete rcodes, then an ASCII or wire-format name."""
    if length < 3:
        bad_length(layer, "length isn't >= 3", item.offset, item.length)
        return True
    flags = cursor.peek(1, start)[0]
    set_names = "".join(f", {label}" for mask, _, label, _, _ in FQDN_FLAGS if flags & mask)
    cursor.uint(item, "dhcp.fqdn.flags", "Flags", 1, at=start, base=Base.HEX)
    flag_field = item.children[-1]
    flag_field.label += set_names
    cursor.bits(
        flag_field,
        "dhcp.fqdn.mbz",
        "Reserved flags",
        1,
        0xF0,
        at=start,
        base=Base.HEX,
        text=lambda value: f"0x{value:x}",
        show=lambda value: f"0x{value:02x}",
    )
    for mask, name, label, true_text, false_text in FQDN_FLAGS:
        cursor.flag(flag_field, name, label, 1, mask, at=start, true_text=true_text, false_text=false_text)
    cursor.uint(item, "dhcp.fqdn.rcode1", "A-RR result", 1, at=start + 1)
    cursor.uint(item, "dhcp.fqdn.rcode2", "PTR-RR result", 1, at=start + 2)
    if length > 3:
        raw = cursor.peek(length - 3, start + 3)
        if flags & 0x04:
            name, _ = dns_name(raw, 0)
        else:
            name = raw.decode("utf-8", "replace")
        item.add(Field("dhcp.fqdn.name", f"Client name: {name}", name, name, start + 3, length - 3))
    return True


def dns_name(data: bytes, offset: int) -> tuple[str, int]:
    """An RFC 1035 name with compression inside `data`; returns the text and bytes consumed.

    Raises IndexError when a label or pointer runs past the data (tshark: malformed).
    """
    labels: list[str] = []
    consumed = -1
    position = offset
    hops = 0
    while True:
        size = data[position]
        if size & 0xC0 == 0xC0:
            target = (size & 0x3F) << 8 | data[position + 1]
            if consumed < 0:
                consumed = position + 2 - offset
            hops += 1
            if target >= len(data):
                break  # tshark keeps the labels read before a pointer that leads nowhere
            if hops > MAX_NAME_HOPS:
                return "<Name contains a pointer that loops>", consumed
            position = target
            continue
        if size == 0:
            if consumed < 0:
                consumed = position + 1 - offset
            break
        label = data[position + 1 : position + 1 + size]
        if len(label) < size:
            raise IndexError("label past the data")
        labels.append(label.decode("ascii", "replace"))
        position += 1 + size
    return (".".join(labels) if labels else "<Root>"), consumed


def classless_routes(cursor: ByteCursor, layer: Layer, item: Field, start: int, length: int) -> bool:
    """Option 121/249 (RFC 3442): width, significant destination octets, router."""
    if length < 5:
        bad_length(layer, "length isn't >= 5", item.offset, item.length)
        return True
    at, end = start, start + length
    while at < end:
        width = cursor.peek(1, at)[0]
        if width > 32:
            layer.problem(
                "dhcp.option.classless_static.route",
                f"Mask width ({width}) > 32",
                Severity.ERROR,
                item.offset,
                item.length,
                "Protocol",
            )
            break
        octets = (width + 7) // 8
        size = 1 + octets + 4
        if at + size > end:
            # tshark's read of the route throws: the rest of the packet is not dissected.
            raise Truncated(at, size, snapped=False)
        raw = cursor.peek(size, at)
        destination = list(raw[1 : 1 + octets]) + [0] * (4 - octets)
        target = "default" if width == 0 else f"{'.'.join(map(str, destination))}/{width}"
        text = f" {target}-{format_ipv4(raw[1 + octets :])}"
        item.add(Field("dhcp.option.classless_static_route", text, raw, raw.hex(), at, size))
        at += size
    return True


AGENT_BYTES = {
    1: "agent_circuit_id",
    2: "agent_remote_id",
    3: "reserved",
    7: "radius_attributes",
    8: "authentication",
    12: "relay_agent_id",
}
AGENT_ADDRESSES = {
    5: "link_selection",
    11: "server_id_override",
    150: "link_selection_cisco",
    152: "server_id_override_cisco",
}


def agent_information(cursor: ByteCursor, layer: Layer, item: Field, start: int, length: int) -> bool:
    """Option 82 (RFC 3046): a sequence of sub-options."""
    prefix = "dhcp.option.agent_information_option"
    at, end = start, start + length
    while at < end:
        code = cursor.peek(1, at)[0]
        if at + 1 >= end:
            layer.problem(
                "dhcp.missing_subopt_length",
                f"Suboption {code}: no room left in option for suboption length",
                Severity.ERROR,
                item.offset,
                item.length,
                "Protocol",
            )
            break
        size = cursor.peek(1, at + 1)[0]
        name = AGENT_SUBOPTION_NAMES.get(code, "Unknown")
        sub = item.add(
            Field(
                f"{prefix}.suboption",
                f"Option 82 Suboption: ({code}) {name}",
                code,
                str(code),
                at,
                min(size + 2, end - at),
            )
        )
        cursor.uint(sub, "dhcp.option.suboption_length", "Length", 1, at=at + 1)
        value_at = at + 2
        if value_at + size > end:
            layer.problem(
                "dhcp.missing_subopt_value",
                f"Suboption {code}: no room left in option for suboption value",
                Severity.ERROR,
                at,
                size + 2,
                "Protocol",
            )
            break
        _agent_value(cursor, layer, sub, code, value_at, size)
        at = value_at + size
    return length > 0


def _agent_value(cursor: ByteCursor, layer: Layer, sub: Field, code: int, at: int, size: int) -> None:
    prefix = "dhcp.option.agent_information_option"
    label = AGENT_SUBOPTION_NAMES.get(code, "")
    raw = cursor.peek(size, at)
    hexed = raw.hex() if raw else "<MISSING>"
    labelled = hex_label(raw) if raw else hexed
    known = code in AGENT_SUBOPTION_NAMES and code != 0
    sub.add(Field(f"{prefix}.value", f"Value: {labelled}", raw, hexed, at, size, hidden=known))
    if code in AGENT_BYTES:
        sub.add(Field(f"{prefix}.{AGENT_BYTES[code]}", f"{label}: {labelled}", raw, hexed, at, size))
    elif code in AGENT_ADDRESSES:
        if size != 4:
            _bad_suboption(layer, sub, code, 4)
            return
        address = cursor.ipv4(sub, f"{prefix}.{AGENT_ADDRESSES[code]}", label, at=at)
        sub.label += f" ({address})"
    elif code == 6:
        text_field(sub, f"{prefix}.subscriber_id", label, raw, at)
    elif code == 4 or code == 10:
        wanted = 4 if code == 4 else 1
        if size != wanted:
            _bad_suboption(layer, sub, code, wanted)
            return
        name = "docsis_device_class" if code == 4 else "flags"
        cursor.uint(sub, f"{prefix}.{name}", label, wanted, at=at, base=Base.HEX)
    elif code == 151:
        if size == 1:
            cursor.uint(sub, f"{prefix}.vrf_name.global", "Global, default VPN", 1, at=at)
        elif size != 7:
            text = raw.decode("utf-8", "replace")
            sub.add(Field(f"{prefix}.vrf_name", f"VRF name: {text}", text, text, at, size))
        else:
            cursor.uint(sub, f"{prefix}.vrf_name.vpn_id.oui", "VRF name/VPN ID OUI", 3, at=at, base=Base.HEX)
            cursor.uint(
                sub, f"{prefix}.vrf_name.vpn_id.index", "VRF name/VPN ID Index", 4, at=at + 3, base=Base.HEX
            )
    elif code == 9:
        # RFC 4243 vendor data is shown as bytes here; Wireshark decodes CableLabs' only.
        sub.add(Field(f"{prefix}.vi", f"{label}: {labelled}", raw, hexed, at, size))


def _bad_suboption(layer: Layer, sub: Field, code: int, wanted: int) -> None:
    bad_length(layer, f"length isn't {wanted}", sub.offset, sub.length)
    layer.problem(
        "dhcp.subopt.unknown_type",
        f"ERROR, please report: Unknown subopt type handler {code}",
        Severity.ERROR,
        sub.offset,
        sub.length,
        "Protocol",
    )
