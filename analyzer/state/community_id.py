"""Community ID flow hashing, version 1 (corelight/community-id-spec): "1:" + base64(SHA1(...)).

The hashed record is: seed (2 bytes, network order), source address, destination address,
IP protocol number, one zero pad byte, then source and destination port (2 bytes each) for TCP,
UDP, SCTP, ICMP and ICMPv6 (for ICMP the "ports" are the message type and its counterpart type,
or the code for one-way messages). The endpoints are ordered so the smaller (address, port)
comes first, which gives both directions of a flow the same ID; one-way ICMP is never reordered.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import struct

PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_ICMPV6 = 58
PROTO_SCTP = 132
_PORTED = frozenset({PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ICMPV6, PROTO_SCTP})


def _pairs(*pairs: tuple[int, int]) -> dict[int, int]:
    table: dict[int, int] = {}
    for a, b in pairs:
        table[a] = b
        table[b] = a
    return table


# Request/response message types that form a two-way ICMP "flow".
ICMP_COUNTERPARTS = _pairs((8, 0), (13, 14), (15, 16), (10, 9), (17, 18))
ICMPV6_COUNTERPARTS = _pairs((128, 129), (133, 134), (135, 136), (139, 140), (144, 145), (130, 131))


def icmp_ports(proto: int, icmp_type: int, icmp_code: int) -> tuple[int, int, bool]:
    """The (sport, dport, one_way) that ICMP/ICMPv6 messages hash with."""
    table = ICMPV6_COUNTERPARTS if proto == PROTO_ICMPV6 else ICMP_COUNTERPARTS
    if icmp_type in table:
        return icmp_type, table[icmp_type], False
    return icmp_type, icmp_code, True


def community_id(
    src: str,
    dst: str,
    proto: int,
    sport: int = 0,
    dport: int = 0,
    seed: int = 0,
    one_way: bool = False,
    has_ports: bool = True,
) -> str:
    """The Community ID v1 of a flow; for ICMP pass the values from icmp_ports().

    `has_ports=False` hashes without ports, as tshark does for non-first IPv4 fragments.
    """
    saddr = ipaddress.ip_address(src).packed
    daddr = ipaddress.ip_address(dst).packed
    ported = proto in _PORTED and has_ports
    if not one_way and (saddr, sport if ported else 0) > (daddr, dport if ported else 0):
        saddr, daddr, sport, dport = daddr, saddr, dport, sport
    record = struct.pack("!H", seed & 0xFFFF) + saddr + daddr + struct.pack("!BB", proto, 0)
    if ported:
        record += struct.pack("!HH", sport, dport)
    return "1:" + base64.b64encode(hashlib.sha1(record).digest()).decode("ascii")
