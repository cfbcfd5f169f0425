"""Protocol prefilter: which packets a filter can possibly match, decided from header facts alone.

A filter whose every way of being true reads a field of protocol P (`dns.qry.name contains "x"`,
`dns && udp.port == 53`) cannot match a packet without P. `required_protocols` finds such
requirements in the syntax tree, as clauses "one of these protocols is present" (a conjunction of
clauses); `ProtocolGate` answers "may this packet contain one of them?" conservatively from the
keys a cheap header scan sees (`header_facts`: link type, ethertypes, IP protocols, TCP/UDP ports,
including those of a packet quoted by an ICMP error), matched against the registry's own bindings.
The gate never says no to a packet whose tree has the protocol: anything the scan does not fully
understand (an unknown link type, a tunnel, a truncated header) is let through, a fragment lets
through whatever its transport could carry, and a table with heuristics for P lets through every
packet that reaches that table (tests/filter/test_prefilter.py checks every packet of every test
capture).

Annotators: a filter reading state-dependent names (tcp.analysis.*, dns.time, http pairing, any
application layer TCP desegmentation may hold back...) needs the session's annotators. Their state
for a packet depends only on the packets of its own conversation (transport and both address/port
pairs) or fragmented datagram, and a gate built from ports and IP protocols lets through whole
conversations, so such a filter feeds the annotators only the packets its gate lets through, unless
it reads a capture-wide numbering (tcp.stream, udp.stream), which needs every packet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from analyzer.filter.catalog import CATALOG
from analyzer.filter.syntax import (
    Arith,
    Call,
    Compare,
    Exists,
    Logical,
    Member,
    Negate,
    Node,
    Slice,
    Word,
)
from analyzer.registry import Registry
from captures.frame import Frame

Clause = frozenset[str]
# A key the tree may look up: (table, key), or (table, None) for "any key of that table".
Fact = tuple[str, int | None]

# Tables the header scan reports every lookup of; a protocol bound anywhere else cannot be gated.
# "tcp.pdu" is keyed by protocol name: the desegmenter dissects there the PDUs of a protocol it
# found through "tcp.port", so it adds no way in.
SCANNED_TABLES = frozenset({"link", "ethertype", "ip.proto", "udp.port", "tcp.port"})
ALIAS_TABLES = frozenset({"tcp.pdu"})
_MAX_CLAUSES = 16
_VLAN_TAGS = frozenset({0x8100, 0x88A8, 0x9100})
_ICMP_ERRORS = frozenset({3, 4, 5, 11, 12})
_IPV6_EXTENSIONS = frozenset({0, 43, 60})
# Link types, ethertypes and IP protocols whose headers the scan walks (or that carry nothing on).
_LINKS = frozenset({1, 101, 228, 229})
_ETHERTYPES = frozenset({0x0800, 0x86DD, 0x0806, 0x8035}) | _VLAN_TAGS
_IP_PROTOS = frozenset({0, 1, 6, 17, 43, 44, 58, 60})
_PORT_TABLES = {6: "tcp.port", 17: "udp.port"}

# Names whose values depend on other packets (set by the session's annotators). Everything outside
# STATELESS_PROTOCOLS counts as stateful too: an application layer over TCP may be held back by
# the desegmenter, pairing adds fields to DNS, DHCP and HTTP, expert infos come from everywhere.
STATELESS_PROTOCOLS = frozenset(
    {"frame", "eth", "vlan", "ieee8021ad", "sll", "null", "raw", "ip", "ipv6", "arp", "tcp", "udp"}
)
STATEFUL_PREFIXES = (
    "frame.protocols",
    "ip.fragment",
    "ip.reassembled",
    "ipv6.fragment",
    "ipv6.reassembled",
    "arp.duplicate",
    "arp.packet-storm",
    "arp.seconds-since",
    "tcp.analysis",
    "tcp.stream",
    "tcp.seq",
    "tcp.ack",
    "tcp.nxtseq",
    "tcp.window_size",
    "tcp.time",
    "tcp.completeness",
    "tcp.reassembled",
    "tcp.segment",
    "tcp.pdu",
    "tcp.payload",
    "tcp.data",
    "udp.stream",
    "udp.time",
    "udp.payload",
)
# Stateless exceptions to the prefixes above (raw numbers and the header's own window).
STATELESS_NAMES = frozenset({"tcp.seq_raw", "tcp.ack_raw", "tcp.window_size_value"})
# Numbering across the whole capture: only a pass over every packet gets it right.
GLOBAL_NAMES = frozenset({"tcp.stream", "udp.stream"})


def is_stateful(name: str) -> bool:
    entry = CATALOG.get(name)
    if entry is None or entry[2] not in STATELESS_PROTOCOLS:
        return True
    return name not in STATELESS_NAMES and name.startswith(STATEFUL_PREFIXES)


def needs_annotators(names: Iterable[str]) -> bool:
    return any(is_stateful(name) for name in names)


def reads_global(names: Iterable[str]) -> bool:
    return any(name in GLOBAL_NAMES for name in names)


# -- requirements from the syntax tree ------------------------------------------------------------


def required_protocols(node: Node) -> list[Clause]:
    """Clauses that hold whenever the filter is true: in each, one of the protocols is present.

    Every comparison, membership and presence test is false when a field it reads has no value
    (Wireshark 4.0's semantics, see compiler.py), so it requires that field's protocol; `and`
    requires what either side requires, `or` what both do; `not` and `not in` require nothing.
    """
    if isinstance(node, Logical):
        left, right = required_protocols(node.left), required_protocols(node.right)
        if node.op == "and":
            return (left + right)[:_MAX_CLAUSES]
        return [a | b for a in left for b in right][:_MAX_CLAUSES]
    if isinstance(node, Exists):
        return _value_requires(node.value)
    if isinstance(node, Compare):
        return _value_requires(node.left) + _value_requires(node.right)
    if isinstance(node, Member):
        return [] if node.negated else _value_requires(node.value)
    return []  # Not, or anything new: no requirement is always safe


def _value_requires(node: Node) -> list[Clause]:
    if isinstance(node, Word):
        entry = CATALOG.get(node.text)
        return [frozenset({entry[2]})] if entry is not None else []  # else a literal
    if isinstance(node, Slice | Negate):
        return _value_requires(node.value)
    if isinstance(node, Arith):
        return _value_requires(node.left) + _value_requires(node.right)
    if isinstance(node, Call):
        return [clause for arg in node.args for clause in _value_requires(arg)]
    return []


# -- header facts ------------------------------------------------------------------------------


def header_facts(frame: Frame, defragment: bool = True) -> list[Fact] | None:
    """The table keys dissection of this frame may look up; None when the scan cannot tell.

    Without `defragment` (Preferences.defragment_ipv4/_ipv6 off), a later fragment's payload is
    opaque data; with it, the datagram it completes may be dissected on it.
    """
    data = frame.data
    linktype = frame.linktype
    facts: list[Fact] = [("link", linktype)]
    if linktype not in _LINKS:
        return None
    if linktype != 1:
        if not data:
            return facts
        version = data[0] >> 4
        return facts if _network(data, 0x0800 if version == 4 else 0x86DD, 0, facts, defragment) else None
    if len(data) < 14:
        return None
    etype, at = data[12] << 8 | data[13], 14
    facts.append(("ethertype", etype))
    while etype in _VLAN_TAGS:
        if len(data) < at + 4:
            return None
        etype, at = data[at + 2] << 8 | data[at + 3], at + 4
        facts.append(("ethertype", etype))
    if etype < 0x0600 or etype not in _ETHERTYPES:
        return None  # 802.3 length (LLC) or a type we do not walk
    return facts if _network(data, etype, at, facts, defragment) else None


def _network(data: bytes, etype: int, at: int, facts: list[Fact], defragment: bool, quoted: int = 0) -> bool:
    """Add the facts of an IP packet at `at`; False when the scan cannot follow it."""
    if etype in (0x0806, 0x8035):
        return True  # ARP carries nothing further
    if len(data) < at + 1:
        return False
    version = data[at] >> 4
    if version == 4 and len(data) >= at + 20:
        facts.append(("ethertype", 0x0800))  # the "ip" dissector hands version 6 on this way
        hlen = (data[at] & 0x0F) * 4
        if hlen < 20:
            return False
        proto, fragment = data[at + 9], (data[at + 6] << 8 | data[at + 7])
        facts.append(("ip.proto", proto))
        if fragment & 0x1FFF:  # a later fragment: the datagram it completes may carry anything
            return _wildcard(proto, facts) if defragment else True
        return _transport(data, proto, at + hlen, facts, defragment, quoted)
    if version == 6 and len(data) >= at + 40:
        facts.append(("ethertype", 0x86DD))
        proto, pos = data[at + 6], at + 40
        while proto in _IPV6_EXTENSIONS or proto == 44:
            facts.append(("ip.proto", proto))
            if len(data) < pos + 8:
                return False
            if proto == 44 and (data[pos + 2] << 8 | data[pos + 3]) & 0xFFF8:
                return _wildcard(data[pos], facts) if defragment else True
            proto, pos = data[pos], pos + (8 if proto == 44 else (data[pos + 1] + 1) * 8)
        facts.append(("ip.proto", proto))
        return _transport(data, proto, pos, facts, defragment, quoted)
    return False


def _wildcard(proto: int, facts: list[Fact]) -> bool:
    """A fragment's transport without its header: any key of the transport's table."""
    table = _PORT_TABLES.get(proto)
    if table is not None:
        facts.append((table, None))
        return True
    return proto not in _IP_PROTOS  # ICMP may quote anything, an extension header lead anywhere


def _transport(data: bytes, proto: int, at: int, facts: list[Fact], defragment: bool, quoted: int) -> bool:
    table = _PORT_TABLES.get(proto)
    if table is not None:
        if len(data) < at + 4:
            facts.append((table, None))
        else:
            facts.append((table, data[at] << 8 | data[at + 1]))
            facts.append((table, data[at + 2] << 8 | data[at + 3]))
        return True
    if proto in (1, 58):
        if len(data) < at + 1:
            return True
        kind = data[at]
        error = kind in _ICMP_ERRORS if proto == 1 else kind < 128
        if not error:
            return True
        if quoted >= 2:
            return False  # errors quoting errors quoting errors: let the tree decide
        return _network(data, 0x0800 if proto == 1 else 0x86DD, at + 8, facts, defragment, quoted + 1)
    return True


# -- the gate ------------------------------------------------------------------------------------


class ProtocolGate:
    """May a packet contain one of a clause's protocols? Built only when the bindings allow it."""

    __slots__ = ("bound_tables", "defragment", "heuristic_tables", "keys", "opaque")

    def __init__(
        self,
        keys: frozenset[tuple[str, int]],
        heuristic_tables: frozenset[str],
        registry: Registry,
        defragment: bool = True,
    ) -> None:
        self.defragment = defragment
        self.keys = keys  # exact (table, key) bindings of the protocols
        self.heuristic_tables = heuristic_tables  # any key of these may lead to them (a heuristic)
        self.bound_tables = frozenset(table for table, _key in keys) | heuristic_tables
        # Bound keys whose payload the scan does not walk: such packets are let through.
        self.opaque = frozenset(
            (table, key)
            for table, walked in (("ip.proto", _IP_PROTOS), ("ethertype", _ETHERTYPES))
            for key in registry.tables.get(table, {})
            if isinstance(key, int) and key not in walked
        )

    @classmethod
    def build(cls, clause: Clause, registry: Registry, defragment: bool = True) -> ProtocolGate | None:
        """The gate for one clause, or None when a protocol in it can be reached some other way."""
        hosts = _hosts(clause, registry)
        if hosts is None:
            return None
        keys: set[tuple[str, int]] = set()
        heuristic_tables: set[str] = set()
        bindings = [
            (table, key, name) for table, bound in registry.tables.items() for key, name in bound.items()
        ]
        bindings += [(table, key, name) for (table, key), name in registry.decode_as.items()]
        for table, key, name in bindings:
            if name not in hosts or table in ALIAS_TABLES:
                continue
            if table not in SCANNED_TABLES or not isinstance(key, int):
                return None
            keys.add((table, key))
        for table, tests in registry.heuristics.items():
            if any(name in hosts for name, _test in tests):
                if table not in SCANNED_TABLES:
                    return None
                heuristic_tables.add(table)
        if not keys and not heuristic_tables:
            return None  # reached by no table we know of (the frame itself, the data fallback)
        return cls(frozenset(keys), frozenset(heuristic_tables), registry, defragment)

    def admits(self, frame: Frame) -> bool:
        facts = header_facts(frame, self.defragment)
        if facts is None:
            return True
        for fact in facts:
            table, key = fact
            if key is None:
                if table in self.bound_tables:
                    return True
            elif fact in self.keys or table in self.heuristic_tables or fact in self.opaque:
                return True
        return False


def _hosts(clause: Clause, registry: Registry) -> set[str] | None:
    """The registered protocols whose layers may hold the clause's fields (mdns and llmnr layers
    hold dns.* fields: they share the DNS dissector)."""
    hosts: set[str] = set()
    for name in clause:
        protocol = registry.protocols.get(name)
        if protocol is None:
            return None
        hosts |= {other.name for other in registry.protocols.values() if other.dissect is protocol.dissect}
    return hosts


def build_gate(
    clauses: list[Clause], registry: Registry, defragment: bool = True
) -> Callable[[Frame], bool] | None:
    """One test for all the clauses that can be gated (a packet must pass each); None if none."""
    gates = [gate for c in clauses if (gate := ProtocolGate.build(c, registry, defragment)) is not None]
    if not gates:
        return None
    if len(gates) == 1:
        return gates[0].admits
    return lambda frame: all(gate.admits(frame) for gate in gates)
