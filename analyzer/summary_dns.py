"""The Info column of DNS, mDNS and LLMNR messages, as tshark 4.0 writes it, without Fields.

Call `dns_info(data, offset, end)` with the UDP payload's range (`mdns=True` on port 5353),
or `dns_tcp_info(data, offset, end)` with a TCP segment's payload on port 53. Both return
None when there is no DNS message to describe; they never raise. `protocol_name(port)` gives
the Protocol column ("DNS", "MDNS", "LLMNR").
"""

from __future__ import annotations

import struct

from analyzer.cursor import Truncated, format_ipv6
from dissectors.dns_names import OPCODE_NAMES, RCODE_NAMES, BadLabel, NameReader, type_name

MALFORMED = "[Malformed Packet]"
_HEADER = struct.Struct("!HHHHHH")
_U16 = struct.Struct("!H")
_RR = struct.Struct("!HHIH")
PROTOCOL_NAMES = {53: "DNS", 5353: "MDNS", 5355: "LLMNR"}


def protocol_name(port: int) -> str:
    return PROTOCOL_NAMES.get(port, "DNS")


class _Cut(Exception):
    """The message ends before a read: tshark appends "[Malformed Packet]" there."""


def dns_info(data: bytes, offset: int, end: int, mdns: bool = False) -> str | None:
    """Info text of one DNS message in data[offset:end]."""
    end = min(end, len(data))
    if end - offset < 4:
        return None
    ident, flags = _U16.unpack_from(data, offset)[0], _U16.unpack_from(data, offset + 2)[0]
    opcode, rcode = flags >> 11 & 0xF, flags & 0xF
    parts = [
        OPCODE_NAMES.get(opcode, f"Unknown operation ({opcode})")
        + (" response" if flags & 0x8000 else "")
        + f" 0x{ident:04x}"
    ]
    if flags & 0x8000 and rcode:
        parts.append(" " + RCODE_NAMES.get(rcode, f"Unknown error ({rcode})"))
    try:
        _sections(data, offset, end, mdns, parts)
    except (_Cut, Truncated, BadLabel):
        parts.append(MALFORMED)
    except Exception:  # never raise into the packet list
        return None
    return "".join(parts)


def dns_tcp_info(data: bytes, offset: int, end: int) -> str | None:
    """Info text of the last whole length-prefixed message in a TCP payload (tshark keeps the last)."""
    end = min(end, len(data))
    info: str | None = None
    while end - offset >= 2:
        length = _U16.unpack_from(data, offset)[0]
        if offset + 2 + length > end:
            break
        info = dns_info(data, offset + 2, offset + 2 + length)
        offset += 2 + length
    return info


def _sections(data: bytes, start: int, end: int, mdns: bool, parts: list[str]) -> None:
    if end - start < 12:
        raise _Cut
    _, _, questions, answers, authority, additional = _HEADER.unpack_from(data, start)
    names = NameReader(data, start, end)
    at = start + 12
    for _ in range(questions):
        text, used, _, _ = names.read(at)
        at += used
        if at + 4 > end:
            raise _Cut
        rtype, rclass = _U16.unpack_from(data, at)[0], _U16.unpack_from(data, at + 2)[0]
        at += 4
        parts.append(f" {type_name(rtype)} {text}")
        if mdns:
            parts.append(f', "{"QU" if rclass & 0x8000 else "QM"}" question')
    for _ in range(answers + authority + additional):
        at = _record(data, names, start, end, at, mdns, parts)


def _record(
    data: bytes, names: NameReader, start: int, end: int, at: int, mdns: bool, parts: list[str]
) -> int:
    _, used, _, _ = names.read(at)
    at += used
    if at + 10 > end:
        raise _Cut
    rtype, rclass, _, size = _RR.unpack_from(data, at)
    at += 10
    parts.append(f" {type_name(rtype)}")
    if mdns and rclass & 0x8000:
        parts.append(", cache flush")
        rclass &= 0x7FFF
    if at + size > end:
        raise _Cut  # tshark cannot size the record's tree item
    if size:
        parts.append(_data_text(data, names, end, at, size, rtype, rclass))
    end_of_record: int = at + size
    return end_of_record


def _data_text(data: bytes, names: NameReader, end: int, at: int, size: int, rtype: int, rclass: int) -> str:
    def need(size: int) -> None:
        if at + size > end:
            raise _Cut

    if rtype == 1 and rclass == 1:
        need(4)
        return " " + ".".join(str(b) for b in data[at : at + 4])
    if rtype == 28:
        need(16)
        return " " + format_ipv6(data[at : at + 16])
    if rtype in (2, 5, 12, 6):
        return " " + names.read(at)[0]
    if rtype == 15:
        need(2)
        return f" {_U16.unpack_from(data, at)[0]} {names.read(at + 2)[0]}"
    if rtype == 33:
        need(6)
        priority, weight, port = struct.unpack_from("!HHH", data, at)
        return f" {priority} {weight} {port} {names.read(at + 6)[0]}"
    if rtype in (16, 99, 41):
        _walk(data, end, at, size, rtype == 41)
    return ""


def _walk(data: bytes, end: int, at: int, size: int, options: bool) -> None:
    """TXT strings or OPT options add nothing to Info, but tshark throws if they run off the message."""
    stop = at + size
    while at < stop:
        if options:
            if at + 4 > end:
                raise _Cut
            at += 4 + _U16.unpack_from(data, at + 2)[0]
        else:
            if at >= end:
                raise _Cut
            at += 1 + data[at]
        if at > end:
            raise _Cut
