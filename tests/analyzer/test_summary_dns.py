"""DNS Info column (analyzer.summary_dns) against tshark 4.0's `_ws.col.Info` on the same bytes."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.summary_dns import MALFORMED, dns_info, dns_tcp_info, protocol_name

# (DNS payload hex, tshark's Info) (from tests/dissectors/test_dns.py's frames and dns.pcap frames).
CASES = [
    (
        "1fb585800001000100000002036c6162047465737400000f0001c00c000f0001000000000011000a046d61696c036c61"
        "62047465737400c028000100010000000000040a4d001900002904d0000000000000",
        "Standard query response 0x1fb5 MX lab.test MX 10 mail.lab.test A 10.77.0.25 OPT",
    ),
    (
        "beef858300010003000000000178036c616204746573740000010001c00c000100018000001000040a000001c00c0001"
        "000100016e5800040a000002c00c0005000100000e1000040179c00c",
        "Standard query response 0xbeef No such name A x.lab.test A 10.0.0.1 A 10.0.0.2 CNAME y.x.lab.test",
    ),
    (
        "000928000001000100010000036c6162047465737400000600010161036c616204746573740000ff00ff000000000000"
        "0162036c6162047465737400000100010000003c000401020304",
        "Dynamic update 0x0009 SOA lab.test ANY A 1.2.3.4",
    ),
    (
        "005584000001000100000000047770616400001c0001c00c001c00010000001e00100000000000000000000000000000"
        "0001",
        "Standard query response 0x0055 AAAA wpad AAAA ::1",
    ),
    (
        "beef81800001000100000000025f73025f7001610162036c616204746573740000210001c00c0021000100000e100007"
        "00010002000300",
        "Standard query response 0xbeef SRV _s._p.a.b.lab.test SRV 1 2 3 <Root>",
    ),
    (
        "beef81800001000100000000036c616204746573740000060001c00c0006000100000e100037036e7331036c61620474"
        "657374000a686f73746d6173746572036c616204746573740078a3f17500000e1000000258000151800000012c",
        "Standard query response 0xbeef SOA lab.test SOA ns1.lab.test",
    ),
    (
        "8cce8185000100000000000103777777076578616d706c65036f7267000001000100002904d0000000000006000f0002"
        "000e",
        "Standard query response 0x8cce Refused A www.example.org OPT",
    ),
    (
        "123401000001000000000000c00c00010001",
        "Standard query 0x1234 A <Name contains a pointer that loops>",
    ),
    (
        "123401000001000000000000816162630000010001",
        "Standard query 0x1234" + MALFORMED,
    ),
    (
        "123481800001000100000000016101620000010001c00c000100010000003c00280a000001",
        "Standard query response 0x1234 A a.b A" + MALFORMED,
    ),
    (
        "1234010000010000000000010161016200000100010000291000000000000008000a001401020304",
        "Standard query 0x1234 A a.b OPT" + MALFORMED,
    ),
    (
        "12348003",
        "Standard query response 0x1234 No such name" + MALFORMED,
    ),
]
MDNS = (
    "00008400000000020000000104686f7374056c6f63616c0000018001000000780004c0a801020178055f68747470045f746370"
    "056c6f63616c000021800100000e10000d00000000005004686f7374c01100002905a000000e100000"
)


def test_info_equals_tshark() -> None:
    for payload, want in CASES:
        data = b"\xff" * 5 + bytes.fromhex(payload)
        assert dns_info(data, 5, len(data)) == want, payload


def test_mdns_info() -> None:
    data = bytes.fromhex(MDNS)
    want = "Standard query response 0x0000 A, cache flush 192.168.1.2 SRV, cache flush 0 0 80 host.local OPT"
    assert dns_info(data, 0, len(data), mdns=True) == want
    query = bytes.fromhex("00000000000100000000000004686f7374056c6f63616c0000018001")
    assert dns_info(query, 0, len(query), mdns=True) == 'Standard query 0x0000 A host.local, "QU" question'


def test_tcp_info_is_the_last_whole_message() -> None:
    first = bytes.fromhex("111101000001000000000000016104746573740000010001")
    second = bytes.fromhex("222201000001000000000000016204746573740000010001")
    segment = b"".join(struct.pack("!H", len(m)) + m for m in (first, second))
    assert dns_tcp_info(segment, 0, len(segment)) == "Standard query 0x2222 A b.test"
    assert dns_tcp_info(segment[:10], 0, 10) is None


def test_short_header_and_protocol_names() -> None:
    assert dns_info(b"\x00\x01\x02", 0, 3) is None
    assert [protocol_name(p) for p in (53, 5353, 5355)] == ["DNS", "MDNS", "LLMNR"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_never_raises(payload: bytes) -> None:
    result = dns_info(payload, 0, len(payload))
    assert result is None or isinstance(result, str)
    dns_tcp_info(payload, 0, len(payload))
