"""The protocol prefilter never rejects a packet that has the protocol, and -Y selections are unchanged.

Every packet of every test capture: for each gateable protocol, a packet whose annotated tree holds
a layer or a field of that protocol is let through. Then a battery of filters selects the same
frames through select_frames (fast path, prefilter, annotators on admitted frames only) as a plain
match on every fully annotated tree.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.context import Preferences
from analyzer.filter import compile_filter
from analyzer.filter.apply import select_frames
from analyzer.filter.catalog import CATALOG
from analyzer.filter.prefilter import (
    ProtocolGate,
    header_facts,
    is_stateful,
    required_protocols,
)
from analyzer.filter.syntax import parse
from analyzer.pipeline import default_registry
from analyzer.session import iter_dissections
from captures.frame import Frame
from captures.pcapfile import open_capture

DATA = Path(__file__).resolve().parents[1] / "data"
CAPTURES = sorted(
    p for p in DATA.iterdir() if p.name.endswith((".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz"))
)
FILTERS = (
    "dns",
    'dns.qry.name contains "lab"',
    "dns.flags.response == 1 && udp",
    "dns.time > 0",
    "dns || dhcp",
    "dhcp.option.dhcp == 1",
    "http.request",
    "http.response.code == 200 || dns.a",
    "tcp.flags.syn == 1 && tcp.flags.ack == 0",
    "tcp.analysis.retransmission",
    "tcp.stream == 1 && dns",
    "udp && !dns",
    "icmp.type == 3",
    "icmpv6 && ipv6.nxt == 58",
    "arp.opcode == 2",
    "ip.flags.mf == 1 || ipv6.fraghdr.more == 1",
    "len(dns.qry.name) > 5",
    "not dns",
    'dns.qry.name in {"lab.test"}',
    'dns.qry.name not in {"lab.test"}',
)


def _frame(data: bytes, linktype: int = 1) -> Frame:
    return Frame(1, 0, data, len(data), linktype)


def test_requirements_of_the_syntax_tree() -> None:
    def req(text: str) -> list[set[str]]:
        return [set(c) for c in required_protocols(parse(text))]

    assert req('dns.qry.name contains "x"') == [{"dns"}]
    assert req("tcp.flags.syn==1 && tcp.flags.ack==0") == [{"tcp"}, {"tcp"}]
    assert req("dns || http.request") == [{"dns", "http"}]
    assert req("dns || !udp") == []
    assert req("not dns") == []
    assert req("udp.port not in {53}") == []
    assert req("count(dns.qry.name) == 0") == [{"dns"}]
    assert req("ip.ttl == 64 && 1 == 1") == [{"ip"}]


def test_gate_rules() -> None:
    registry = default_registry()
    dns = ProtocolGate.build(frozenset({"dns"}), registry)
    tcp = ProtocolGate.build(frozenset({"tcp"}), registry)
    assert dns is not None and tcp is not None
    assert ProtocolGate.build(frozenset({"ip"}), registry) is None  # also reached from raw.version
    assert ProtocolGate.build(frozenset({"frame"}), registry) is None
    assert ProtocolGate.build(frozenset({"media"}), registry) is None  # behind a media_type
    udp = bytes.fromhex("00" * 12 + "0800" + "4500001c0001000040110000" + "0a000001" + "0a000002")
    to_53 = _frame(udp + bytes.fromhex("c000003500080000"))
    to_5353 = _frame(udp + bytes.fromhex("c00014e900080000"))  # mdns layers hold dns.* fields
    to_99 = _frame(udp + bytes.fromhex("c000006300080000"))
    assert dns.admits(to_53) and dns.admits(to_5353) and not dns.admits(to_99)
    assert not tcp.admits(to_53)
    later_fragment = bytearray(to_99.data)
    later_fragment[20] = 0x01  # fragment offset 8 * 256: a later fragment of some UDP datagram
    assert dns.admits(_frame(bytes(later_fragment)))
    without_defragmentation = ProtocolGate.build(frozenset({"dns"}), registry, defragment=False)
    assert without_defragmentation is not None
    assert not without_defragmentation.admits(_frame(bytes(later_fragment)))  # opaque data then
    assert header_facts(_frame(b"\x00" * 20, linktype=113)) is None  # a link type the scan skips


def test_stateful_names() -> None:
    assert is_stateful("tcp.analysis.retransmission") and is_stateful("tcp.stream")
    assert is_stateful("tcp.seq") and not is_stateful("tcp.seq_raw")
    assert is_stateful("dns.qry.name") and is_stateful("frame.protocols")
    assert not is_stateful("tcp.flags.syn") and not is_stateful("ip.flags.df")


@pytest.mark.parametrize("defragment", [False, True], ids=["defrag-off", "defrag-on"])
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_gate_never_rejects_a_packet_with_the_protocol(capture: Path, defragment: bool) -> None:
    registry = default_registry()
    prefs = Preferences(resolve_names=False, defragment_ipv4=defragment, defragment_ipv6=defragment)
    gates = {
        name: gate
        for name in sorted({entry[2] for entry in CATALOG.values()})
        if (gate := ProtocolGate.build(frozenset({name}), registry, defragment)) is not None
    }
    assert {"tcp", "udp", "dns", "dhcp", "http", "icmp", "arp"} <= set(gates)
    for dissection in iter_dissections(capture, prefs=prefs, strict=True):
        present = {layer.proto for layer in dissection.layers}
        present |= {CATALOG[item.name][2] for item in dissection.walk() if item.name in CATALOG}
        for name, gate in gates.items():
            hosts = {
                p.name for p in registry.protocols.values() if p.dissect is registry.protocols[name].dissect
            }
            if present & (hosts | {name}):
                assert gate.admits(dissection.frame), f"frame {dissection.frame.number}: {name} rejected"


@pytest.mark.parametrize("defragment", [False, True], ids=["defrag-off", "defrag-on"])
@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_selection_equals_matching_every_annotated_tree(capture: Path, defragment: bool) -> None:
    prefs = Preferences(resolve_names=False, defragment_ipv4=defragment, defragment_ipv6=defragment)
    dissections = list(iter_dissections(capture, prefs=prefs, strict=True))
    for text in FILTERS:
        display_filter = compile_filter(text)
        want = [d.frame.number for d in dissections if display_filter.matches(d)]
        with open_capture(capture) as reader:
            got = [
                s.frame.number
                for s in select_frames(reader, display_filter, prefs=prefs, strict=True)
                if s.shown
            ]
        assert got == want, text
