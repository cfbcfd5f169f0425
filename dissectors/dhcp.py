"""DHCP/BOOTP: Dynamic Host Configuration Protocol (RFC 951, RFC 2131, RFC 2132 and option RFCs)."""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.context import PacketContext
from analyzer.cursor import Base, ByteCursor, Truncated, generated
from analyzer.model import Field, Layer, Severity
from analyzer.registry import Next, Protocol, Registry
from dissectors import dhcp_options as values
from dissectors.dhcp_names import BASIC_OPTIONS, MESSAGE_TYPES, OPTION_NAMES, OVERLOAD_NAMES
from dissectors.eth import mac_display
from dissectors.ethertypes import ARP_HARDWARE_NAMES

SERVER_PORT, CLIENT_PORT, PROXY_PORT = 67, 68, 4011
MAGIC_COOKIE = 0x63825363
SNAME_OFFSET, SNAME_LEN = 44, 64
FILE_OFFSET, FILE_LEN = 108, 128
VENDOR_OFFSET = 236
OVERLOAD_FILE, OVERLOAD_SNAME = 1, 2
PAD, END = 0, 255
BOOTP_BROADCAST = 0x8000
OP_NAMES = {1: "Boot Request", 2: "Boot Reply"}


def message_type_text(value: int) -> str:
    return MESSAGE_TYPES.get(value, f"Unknown Message Type (0x{value:02x})")


@dataclass(slots=True)
class Scan:
    """What tshark's first pass over the options learns before the tree is built."""

    message_type: str | None = None
    overload: int = 0
    search_blocks: int = 0


@dataclass(slots=True)
class Area:
    """Per-option-area state: the overload still in force and RFC 3396 option 119 pieces."""

    overload: int
    search_blocks: int
    search_index: int = 0
    search_data: bytes = b""
    search_start: int = -1


def scan_options(data: bytes, start: int, end: int) -> Scan:
    """First pass: message type, overload and the number of option 119 pieces; never raises."""
    scan = Scan()
    at = start
    while at < end:
        code = data[at]
        if code == END:
            break
        if code == PAD:
            at += 1
            continue
        if at + 1 >= end:
            break
        length = data[at + 1]
        if at + 2 + length <= end:
            if code == 52 and length:
                scan.overload = data[at + 2]
            elif code == 53 and length:
                scan.message_type = message_type_text(data[at + 2])
            elif code == 119:
                scan.search_blocks += 1
        at += 2 + length
    return scan


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start = cursor.pos
    data = cursor.data
    end = min(cursor.limit, len(data))
    layer.label = "Dynamic Host Configuration Protocol"
    has_cookie = end - start >= VENDOR_OFFSET + 4 and (
        int.from_bytes(data[start + VENDOR_OFFSET : start + VENDOR_OFFSET + 4], "big") == MAGIC_COOKIE
    )
    options_at = start + VENDOR_OFFSET + (4 if has_cookie else 64)
    scan = scan_options(data, options_at, end)
    if scan.message_type is None:
        layer.short_name = "BOOTP"
    _header(cursor, layer, ctx, start, scan)
    if scan.message_type is None:
        generated(layer, "dhcp.bootp", "Frame is BOOTP: True", True, hidden=True)
    if has_cookie:
        cursor.ipv4(layer, "dhcp.cookie", "Magic cookie", at=start + VENDOR_OFFSET)
        layer.children[-1].label = "Magic cookie: DHCP"
    else:
        cursor.bytes_field(
            layer,
            "dhcp.vendor_specific_options",
            "Bootp vendor specific options",
            64,
            at=start + VENDOR_OFFSET,
        )
    area = Area(scan.overload, scan.search_blocks)
    at, at_end = _options(cursor, layer, layer, ctx, area, options_at, end)
    if scan.message_type is not None and not at_end:
        layer.problem("dhcp.end_option_missing", "End option missing", Severity.ERROR, start, 0, "Protocol")
    if at < end:
        padding = data[at:end]
        layer.add(
            Field(
                "dhcp.option.padding",
                f"Padding: {values.hex_label(padding)}",
                padding,
                padding.hex(),
                at,
                end - at,
            )
        )
    if cursor.limit < cursor.end:
        # The capture stopped inside the message: say so, as tshark's snaplen exception does.
        raise Truncated(cursor.limit, cursor.end - cursor.limit, snapped=True)
    return None


def _header(cursor: ByteCursor, layer: Layer, ctx: PacketContext, start: int, scan: Scan) -> None:
    cursor.uint(layer, "dhcp.type", "Message type", 1, names=OP_NAMES)
    hw_type = cursor.uint(layer, "dhcp.hw.type", "Hardware type", 1, base=Base.HEX, names=ARP_HARDWARE_NAMES)
    hw_len = cursor.uint(layer, "dhcp.hw.len", "Hardware address length", 1)
    cursor.uint(layer, "dhcp.hops", "Hops", 1)
    cursor.uint(layer, "dhcp.id", "Transaction ID", 4, base=Base.HEX)
    secs_le = cursor.peek_uint(2, little=True)
    if 0 < secs_le <= 0xFF:
        # Windows sends the seconds little-endian; tshark believes it when the value is small.
        cursor.uint(layer, "dhcp.secs", "Seconds elapsed", 2, little=True)
        layer.problem(
            "dhcp.secs_le",
            "Seconds elapsed appears to be encoded as little-endian",
            Severity.NOTE,
            start + 8,
            2,
            "Protocol",
        )
    else:
        cursor.uint(layer, "dhcp.secs", "Seconds elapsed", 2)
    flags = cursor.peek_uint(2)
    kind = "Broadcast" if flags & BOOTP_BROADCAST else "Unicast"
    cursor.uint(layer, "dhcp.flags", "Bootp flags", 2, base=Base.HEX)
    flag_field = layer.children[-1]
    flag_field.label += f"{', Broadcast flag' if flags & BOOTP_BROADCAST else ''} ({kind})"
    at = start + 10
    cursor.flag(
        flag_field,
        "dhcp.flags.bc",
        "Broadcast flag",
        2,
        BOOTP_BROADCAST,
        at=at,
        true_text="Broadcast",
        false_text="Unicast",
    )
    cursor.bits(flag_field, "dhcp.flags.reserved", "Reserved flags", 2, 0x7FFF, at=at, base=Base.HEX)
    for name, label in (
        ("dhcp.ip.client", "Client IP address"),
        ("dhcp.ip.your", "Your (client) IP address"),
        ("dhcp.ip.server", "Next server IP address"),
        ("dhcp.ip.relay", "Relay agent IP address"),
    ):
        cursor.ipv4(layer, name, label)
    chaddr = start + 28
    if 0 < hw_len <= 16:
        if hw_type in values.ETHERNET_TYPES and hw_len == 6:
            mac = cursor.peek(6, chaddr)
            cursor.ether(
                layer, "dhcp.hw.mac_addr", "Client MAC address", at=chaddr, text=mac_display(mac, ctx)
            )
        else:
            raw = cursor.peek(hw_len, chaddr)
            cursor.bytes_field(
                layer, "dhcp.hw.addr", "Client hardware address", 16, at=chaddr, text=raw.hex()
            )
        if hw_len < 16:
            cursor.bytes_field(
                layer,
                "dhcp.hw.addr_padding",
                "Client hardware address padding",
                16 - hw_len,
                at=chaddr + hw_len,
            )
    else:
        cursor.check(chaddr, 16)
        expert_item(
            layer,
            layer,
            "dhcp.client_address_not_given",
            "Client address not given",
            Severity.NOTE,
            chaddr,
            16,
        )
    _name_field(
        cursor,
        layer,
        scan.overload & OVERLOAD_SNAME,
        "dhcp.server",
        "Server host name",
        start + SNAME_OFFSET,
        SNAME_LEN,
    )
    _name_field(
        cursor,
        layer,
        scan.overload & OVERLOAD_FILE,
        "dhcp.file",
        "Boot file name",
        start + FILE_OFFSET,
        FILE_LEN,
    )


def expert_item(
    layer: Layer, parent: Layer | Field, code: str, message: str, severity: Severity, at: int, size: int
) -> None:
    """tshark's proto_tree_add_expert: a tree line carrying its expert info."""
    node = parent.add(Field("", message, None, "", at, size))
    found = layer.problem(code, message, severity, at, size, "Protocol")
    found.about = node


def _name_field(
    cursor: ByteCursor, layer: Layer, overloaded: int, name: str, label: str, at: int, size: int
) -> None:
    raw = cursor.peek(size, at)
    if overloaded:
        what = "Server name" if name == "dhcp.server" else "Boot file name"
        code = (
            "dhcp.server_name_overloaded_by_dhcp"
            if name == "dhcp.server"
            else "dhcp.boot_filename_overloaded_by_dhcp"
        )
        expert_item(layer, layer, code, f"{what} option overloaded by DHCP", Severity.NOTE, at, size)
    elif raw[0] == 0:
        layer.add(Field(name, f"{label} not given", "", "", at, size))
    else:
        values.text_field(layer, name, label, raw, at)


def _options(
    cursor: ByteCursor,
    layer: Layer,
    parent: Layer | Field,
    ctx: PacketContext,
    area: Area,
    at: int,
    end: int,
) -> tuple[int, bool]:
    """Decode options from `at` to `end`; returns where decoding stopped and whether END was met."""
    data = cursor.data
    while at < end:
        code = cursor.peek(1, at)[0]
        if code == PAD:
            run = at + 1
            while run < end and data[run] == 0:
                run += 1
            item = parent.add(Field("dhcp.option.type", "Option: (0) Padding", 0, "0", at, 1))
            padding = data[at:run]
            item.add(
                Field(
                    "dhcp.option.padding",
                    f"Padding: {values.hex_label(padding)}",
                    padding,
                    padding.hex(),
                    at,
                    run - at,
                )
            )
            at = run
            continue
        if code == END:
            item = parent.add(Field("dhcp.option.type", "Option: (255) End", 0, "0", at, 1))
            label = "Option End (Overload)" if area.overload else "Option End"
            item.add(Field("dhcp.option.end", f"{label}: 255", 255, "255", at, 1))
            return at + 1, True
        at = _option(cursor, layer, parent, ctx, area, code, at, end)
    return at, False


def _option(
    cursor: ByteCursor,
    layer: Layer,
    parent: Layer | Field,
    ctx: PacketContext,
    area: Area,
    code: int,
    at: int,
    end: int,
) -> int:
    length = cursor.peek(1, at + 1)[0]
    item = parent.add(
        # Clamped to the bytes present, so an option claiming more still lies inside the frame.
        Field(
            "dhcp.option.type",
            f"Option: ({code}) {OPTION_NAMES[code]}",
            code,
            str(code),
            at,
            min(length + 2, cursor.limit - at),
        )
    )
    cursor.uint(item, "dhcp.option.length", "Length", 1, at=at + 1)
    value_at = at + 2
    # An option may run past its area (sname into file) as in tshark, never past the packet:
    # there the read raises Truncated and the pipeline records the malformed option.
    raw = cursor.peek(length, value_at)
    hexed = raw.hex() if raw else "<MISSING>"
    label = values.hex_label(raw) if raw else hexed
    shown = Field("dhcp.option.value", f"Value: {label}", raw, hexed, value_at, length, hidden=True)
    item.add(shown)
    handled = _option_value(cursor, layer, item, ctx, area, code, value_at, length)
    shown.hidden = handled
    return value_at + length


def _option_value(
    cursor: ByteCursor,
    layer: Layer,
    item: Field,
    ctx: PacketContext,
    area: Area,
    code: int,
    at: int,
    length: int,
) -> bool:
    """Decode one option's value; False when tshark would show it as plain bytes."""
    if code == 53:
        if length != 1:
            values.bad_length(layer, "length isn't 1", item.offset, item.length)
            return False
        kind = cursor.peek(1, at)[0]
        cursor.uint(item, "dhcp.option.dhcp", "DHCP", 1, at=at, names=MESSAGE_TYPES)
        text = message_type_text(kind)
        item.label += f" ({text})"
        layer.label += f" ({text})"
        return True
    if code in BASIC_OPTIONS:
        return values.basic_option(cursor, layer, item, code, at, length)
    if code == 52:
        return _overload(cursor, layer, item, ctx, area, at, length)
    if code == 55:
        return values.request_list(cursor, item, at, length)
    if code == 61:
        return values.client_identifier(cursor, layer, item, ctx, at, length)
    if code == 81:
        return values.client_fqdn(cursor, layer, item, at, length)
    if code == 82:
        return values.agent_information(cursor, layer, item, at, length)
    if code == 119:
        return _domain_search(cursor, layer, item, area, at, length)
    if code in (121, 249):
        return values.classless_routes(cursor, layer, item, at, length)
    return False


def _overload(
    cursor: ByteCursor, layer: Layer, item: Field, ctx: PacketContext, area: Area, at: int, length: int
) -> bool:
    """Option 52 (RFC 2132 9.3): the options continue in the file and/or sname fields."""
    if length < 1:
        values.bad_length(layer, "length isn't >= 1", item.offset, item.length)
        return True
    value = cursor.uint(
        item, "dhcp.option.option_overload", "Option Overload", 1, at=at, names=OVERLOAD_NAMES
    )
    # Only the main option area's overload counts; one found inside sname/file is not followed.
    if not 1 <= area.overload <= 3:
        return True
    base = layer.offset
    for bit, offset, size, title, code in (
        (OVERLOAD_SNAME, SNAME_OFFSET, SNAME_LEN, "Server host name option overload", "sname"),
        (OVERLOAD_FILE, FILE_OFFSET, FILE_LEN, "Boot file name option overload", "file"),
    ):
        if not value & bit:
            continue
        cursor.check(base + offset, size)
        node = item.add(Field("", title, None, "", base + offset, size))
        inner = Area(0, area.search_blocks)
        _, at_end = _options(cursor, layer, node, ctx, inner, base + offset, base + offset + size)
        if not at_end:
            found = layer.problem(
                f"dhcp.option.option_overload.{code}_end_missing",
                f"{code} overload end option missing",
                Severity.ERROR,
                base + offset,
                size,
                "Protocol",
            )
            found.about = node
    area.overload = 0  # the END of the main area is no longer "in overload"
    return True


def _domain_search(cursor: ByteCursor, layer: Layer, item: Field, area: Area, at: int, length: int) -> bool:
    """Option 119 (RFC 3397): DNS names with compression, possibly split over options (RFC 3396)."""
    area.search_index += 1
    total = max(area.search_blocks, area.search_index)
    if total > 1:
        progress = f"{area.search_index}/{total}"
        item.add(
            Field(
                "dhcp.option.dhcp_dns_domain_search_list_rfc_3396_detected",
                f"Encoding Long Options detected (RFC 3396): {progress}",
                progress,
                progress,
                at,
                length,
            )
        )
        if area.search_index != total:
            last = f"{total}/{total}"
            item.add(
                Field(
                    "dhcp.option.dhcp_dns_domain_search_list_refer_last_option",
                    f"For the data, please refer to last option 119: {last}",
                    last,
                    last,
                    at,
                    length,
                )
            )
    if area.search_start < 0:
        area.search_start = at
    area.search_data += cursor.peek(length, at)
    if area.search_index != total or not area.search_data:
        return length > 0
    data, position = area.search_data, 0
    while position < len(data):
        try:
            name, used = values.dns_name(data, position)
        except IndexError:
            # A label runs past the list: tshark throws and stops dissecting here.
            raise Truncated(item.offset, item.length, snapped=False) from None
        field_at, field_len = (at + position, used) if total == 1 else (-1, 0)
        item.add(
            Field(
                "dhcp.option.dhcp_dns_domain_search_list_fqdn",
                f"FQDN: {name}",
                name,
                name,
                field_at,
                field_len,
            )
        )
        position += used
    area.search_data = b""
    return length > 0


def is_dhcp(data: bytes, offset: int, end: int, ctx: PacketContext) -> bool:
    """Heuristic for other UDP ports: a BOOTP op code and the magic cookie at offset 236."""
    cookie_at = offset + VENDOR_OFFSET
    return (
        end - offset >= VENDOR_OFFSET + 4
        and data[offset] in (1, 2)
        and int.from_bytes(data[cookie_at : cookie_at + 4], "big") == MAGIC_COOKIE
    )


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("dhcp", "DHCP", "Dynamic Host Configuration Protocol", dissect))
    registry.bind_many("udp.port", (SERVER_PORT, CLIENT_PORT), "dhcp")
    registry.add_heuristic("udp.port", "dhcp", is_dhcp)
