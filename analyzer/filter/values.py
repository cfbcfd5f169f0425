"""Field types for display filters: how field values are normalized and literals parsed.

Every field type of the catalog falls in one family. Values are compared in one form per family:
integers (unsigned/signed/frame numbers), booleans as 0/1, IPv4/IPv6 addresses as
(integer, netmask) so that a CIDR literal compares with a prefix, MAC addresses and byte strings
as bytes, strings as str, floats, relative times as float seconds, absolute times as int ns, and
protocols as the bytes of their layer.
"""

from __future__ import annotations

import calendar
import ipaddress
import re
import time
from enum import Enum

from analyzer.filter.errors import FilterError


class Family(Enum):
    INT = "int"
    BOOL = "bool"
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    ETHER = "ether"
    BYTES = "bytes"
    STRING = "string"
    DOUBLE = "double"
    RELTIME = "reltime"
    ABSTIME = "abstime"
    PROTOCOL = "protocol"
    NONE = "none"


_INT_SIZES = {"8": 1, "16": 2, "24": 3, "32": 4, "40": 5, "48": 6, "56": 7, "64": 8}
# Wireshark's names for types in error messages (ftype_pretty_name).
_PRETTY = {
    "FT_IPv4": "IPv4 address",
    "FT_IPv6": "IPv6 address",
    "FT_ETHER": "Ethernet or other MAC address",
    "FT_BYTES": "Byte sequence",
    "FT_STRING": "Character string",
    "FT_STRINGZ": "Character string",
    "FT_BOOLEAN": "Boolean",
    "FT_PROTOCOL": "Protocol",
    "FT_NONE": "Label",
    "FT_DOUBLE": "Floating point (double-precision)",
    "FT_FLOAT": "Floating point (single-precision)",
    "FT_RELATIVE_TIME": "Time offset",
    "FT_ABSOLUTE_TIME": "Date and time",
    "FT_FRAMENUM": "Frame number",
}
ORDERED = frozenset(Family) - {Family.NONE}
SLICEABLE = frozenset({Family.IPV4, Family.IPV6, Family.ETHER, Family.BYTES, Family.STRING, Family.PROTOCOL})
CONTAINS = frozenset({Family.ETHER, Family.BYTES, Family.STRING, Family.PROTOCOL})
MATCHES = frozenset({Family.BYTES, Family.STRING, Family.PROTOCOL})
NUMERIC = frozenset({Family.INT, Family.BOOL, Family.DOUBLE, Family.RELTIME})


def family_of(ftype: str) -> Family:
    if ftype.startswith(("FT_UINT", "FT_INT", "FT_FRAMENUM", "FT_CHAR")) and ftype != "FT_UINT_BYTES":
        return Family.INT if not ftype.startswith("FT_UINT_STRING") else Family.STRING
    return {
        "FT_BOOLEAN": Family.BOOL,
        "FT_IPv4": Family.IPV4,
        "FT_IPv6": Family.IPV6,
        "FT_ETHER": Family.ETHER,
        "FT_STRING": Family.STRING,
        "FT_STRINGZ": Family.STRING,
        "FT_STRINGZPAD": Family.STRING,
        "FT_STRINGZTRUNC": Family.STRING,
        "FT_DOUBLE": Family.DOUBLE,
        "FT_FLOAT": Family.DOUBLE,
        "FT_RELATIVE_TIME": Family.RELTIME,
        "FT_ABSOLUTE_TIME": Family.ABSTIME,
        "FT_PROTOCOL": Family.PROTOCOL,
        "FT_NONE": Family.NONE,
    }.get(ftype, Family.BYTES)


def pretty_type(ftype: str) -> str:
    """Wireshark's name of a type: "Unsigned integer (2 bytes)", "IPv4 address"."""
    for prefix, kind in (("FT_UINT", "Unsigned integer"), ("FT_INT", "Signed integer")):
        bits = ftype.removeprefix(prefix)
        if ftype.startswith(prefix) and bits in _INT_SIZES:
            size = _INT_SIZES[bits]
            return f"{kind} ({size} byte{'s' if size > 1 else ''})"
    return _PRETTY.get(ftype, ftype.removeprefix("FT_").title())


def int_bounds(ftype: str) -> tuple[int, int]:
    for prefix, signed in (("FT_UINT", False), ("FT_INT", True)):
        bits = ftype.removeprefix(prefix)
        if ftype.startswith(prefix) and bits in _INT_SIZES:
            width = int(bits)
            return (-(1 << (width - 1)), (1 << (width - 1)) - 1) if signed else (0, (1 << width) - 1)
    return (0, (1 << 32) - 1) if ftype == "FT_FRAMENUM" else (-(1 << 63), (1 << 64) - 1)


# -- literals ---------------------------------------------------------------------------------

_BYTE_SEPARATED = re.compile(r"[0-9a-fA-F]{1,2}(?:([:.\-])[0-9a-fA-F]{1,2})*\Z")
_HEX_RUN = re.compile(r"(?:[0-9a-fA-F]{2})+\Z")
_MAC_DOTTED = re.compile(r"[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\Z")
_REL_TIME = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)\Z")
_ABS_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%b %d, %Y %H:%M:%S", "%Y-%m-%d")


class LiteralError(ValueError):
    """A literal that does not fit its field type; the message is tshark's."""


def parse_int(text: str) -> int:
    """Decimal, 0x hex, 0 octal or 0b binary, with an optional sign, as Wireshark's strtoll."""
    body = text.lstrip("+-")
    sign = -1 if text.startswith("-") else 1
    try:
        if body[:2].lower() == "0x":
            return sign * int(body[2:], 16)
        if body[:2].lower() == "0b":
            return sign * int(body[2:], 2)
        if len(body) > 1 and body.startswith("0"):
            return sign * int(body[1:], 8)
        if body.isdigit():
            return sign * int(body, 10)
    except ValueError:
        pass
    raise LiteralError(f'"{text}" is not a valid number.')


def parse_bytes(text: str) -> bytes:
    """A byte string: 47:45:54, 47-45-54, 47.45.54, a lone byte 0a, or an even run 474554."""
    match = _BYTE_SEPARATED.match(text)
    if match is not None:
        separator = match.group(1)
        parts = text.split(separator) if separator else [text]
        return bytes(int(part, 16) for part in parts)
    if _HEX_RUN.match(text):
        return bytes.fromhex(text)
    raise LiteralError(f'"{text}" is not a valid byte string.')


def parse_ether(text: str) -> bytes:
    if _MAC_DOTTED.match(text):
        return bytes.fromhex(text.replace(".", ""))
    try:
        value = parse_bytes(text)
    except LiteralError:
        raise LiteralError(f'"{text}" is not a valid hostname or Ethernet address.') from None
    if len(value) < 6:
        raise LiteralError(f'"{text}" contains too few bytes to be a valid Ethernet address.')
    if len(value) > 6:
        raise LiteralError(f'"{text}" contains too many bytes to be a valid Ethernet address.')
    return value


def parse_ipv4(text: str) -> tuple[int, int]:
    address, slash, bits = text.partition("/")
    try:
        value = int(ipaddress.IPv4Address(address))
    except ValueError:
        raise LiteralError(f'"{address}" is not a valid hostname or IPv4 address.') from None
    prefix = 32
    if slash:
        if not bits.isdigit():
            raise LiteralError(f'"{bits}" in "{text}" is not a valid number of netmask bits.')
        prefix = int(bits)
        if prefix > 32:
            raise LiteralError(f"Netmask bits in a CIDR IPv4 address should be <= 32, not {prefix}")
    mask = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
    return value & mask, mask


def parse_ipv6(text: str) -> tuple[int, int]:
    address, slash, bits = text.partition("/")
    try:
        value = int(ipaddress.IPv6Address(address))
    except ValueError:
        raise LiteralError(f'"{address}" is not a valid hostname or IPv6 address.') from None
    prefix = 128
    if slash:
        if not bits.isdigit() or int(bits) > 128:
            raise LiteralError(f"Prefix in a IPv6 address should be <= 128, not {bits}")
        prefix = int(bits)
    mask = ((1 << 128) - 1) ^ ((1 << (128 - prefix)) - 1)
    return value & mask, mask


def parse_abs_time(text: str) -> int:
    """Local date and time ("2026-11-01 11:24:48.5", "Nov  1, 2026 11:24:48") as ns since the epoch."""
    body = text.strip()
    utc = body.endswith((" UTC", "Z"))
    body = body.removesuffix(" UTC").removesuffix("Z")
    head, dot, fraction = body.partition(".")
    if dot and not fraction.isdigit():
        raise LiteralError(_abs_time_error(text))
    for fmt in _ABS_FORMATS:
        try:
            parts = time.strptime(" ".join(head.split()), fmt)
        except ValueError:
            continue
        seconds = int(time.mktime(parts) if not utc else _timegm(parts))
        nanos = int((fraction + "000000000")[:9]) if dot else 0
        return seconds * 1_000_000_000 + nanos
    raise LiteralError(_abs_time_error(text))


def _abs_time_error(text: str) -> str:
    example = '"Nov 12, 1999 08:55:44.123" or "2011-07-04 12:34:56"'
    return f'"{text}" is not a valid absolute time. Example: {example}'


def _timegm(parts: time.struct_time) -> float:
    return calendar.timegm(parts)


def parse_literal(text: str, ftype: str, family: Family, quoted: bool, field_name: str) -> object:
    """The value of a literal written next to a field of `ftype`; LiteralError with tshark's words."""
    if family in (Family.INT, Family.BOOL):
        if quoted:
            raise LiteralError(f'{pretty_type(ftype)} cannot be converted from a string ("{text}").')
        if family is Family.BOOL and text in ("True", "TRUE", "False", "FALSE"):
            return int(text in ("True", "TRUE"))
        if not (text[:1].isdigit() or text[:1] in "+-"):
            raise LiteralError(f'"{text}" cannot be found among the possible values for {field_name}.')
        value = parse_int(text)
        if family is Family.BOOL:
            return int(value != 0)
        low, high = int_bounds(ftype)
        if value > high:
            raise LiteralError(f'"{text}" too big for this field, maximum {high}.')
        if value < low and low < 0:
            raise LiteralError(f'"{text}" too small for this field, minimum {low}.')
        return value
    if family is Family.IPV4:
        if quoted:
            raise LiteralError(f'IPv4 address cannot be converted from a string ("{text}").')
        return parse_ipv4(text)
    if family is Family.IPV6:
        if quoted:
            raise LiteralError(f'IPv6 address cannot be converted from a string ("{text}").')
        return parse_ipv6(text)
    if family is Family.ETHER:
        return parse_ether(text)
    if family in (Family.BYTES, Family.PROTOCOL):
        return text.encode("utf-8", "surrogateescape") if quoted else parse_bytes(text)
    if family is Family.STRING:
        return text
    if family in (Family.DOUBLE, Family.RELTIME):
        if family is Family.RELTIME and not _REL_TIME.match(text):
            raise LiteralError(f'"{text}" is not a valid time.')
        try:
            return float(text)
        except ValueError:
            raise LiteralError(f'"{text}" is not a valid number.') from None
    if family is Family.ABSTIME:
        return parse_abs_time(text)
    raise LiteralError(f"{field_name} (type={pretty_type(ftype)}) cannot be compared to a value.")


def to_bytes(family: Family, value: object) -> bytes:
    """The byte form of a value, for slices and len()."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if family is Family.IPV4 and isinstance(value, tuple):
        return int(value[0]).to_bytes(4, "big")
    if family is Family.IPV6 and isinstance(value, tuple):
        return int(value[0]).to_bytes(16, "big")
    return b""


def filter_error(problem: LiteralError, start: int, end: int) -> FilterError:
    return FilterError(str(problem), start, end)
