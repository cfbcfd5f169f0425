"""Summary rows for hand-built frames; expected texts are what tshark 4.0 prints for the same bytes."""

from __future__ import annotations

import io

import pytest

from analyzer.summary import Summarizer, SummaryRow, TimeColumn, write_summary_lines
from captures.pcapfile import RawRecord

ETH_BCAST = "ffffffffffff020000000001"
ETH_UNI = "020000000002020000000001"
IPV4_TCP = "4500002c00010000400600000a0000010a000002"


def rows(*frames: str, linktype: int = 1, resolve_names: bool = False) -> list[SummaryRow]:
    summarizer = Summarizer(resolve_names=resolve_names)
    out = []
    for i, frame in enumerate(frames):
        data = bytes.fromhex(frame.replace(" ", ""))
        out.append(summarizer.feed((-1, 1_000_000_000 + i, len(data), linktype, 6, 0, data)))
    return out


@pytest.mark.parametrize(
    ("frame", "info"),
    [
        # ARP announcement: sender == target, target MAC zero.
        (
            ETH_BCAST + "0806 0001 0800 0604 0001 020000000001 0a000001 000000000000 0a000001",
            "ARP Announcement for 10.0.0.1",
        ),
        (
            ETH_BCAST + "0806 0001 0800 0604 0002 020000000001 0a000001 ffffffffffff 0a000001",
            "Gratuitous ARP for 10.0.0.1 (Reply)",
        ),
        (
            ETH_BCAST + "0806 0001 0800 0604 0001 020000000001 00000000 000000000000 0a000009",
            "Who has 10.0.0.9? (ARP Probe)",
        ),
        (
            ETH_BCAST + "0806 0001 0800 0604 0001 020000000001 0a000001 000000000000 0a000002",
            "Who has 10.0.0.2? Tell 10.0.0.1",
        ),
        (
            ETH_UNI + "0806 0001 0800 0604 0002 020000000001 0a000001 020000000002 0a000002",
            "10.0.0.1 is at 02:00:00:00:00:01",
        ),
    ],
)
def test_arp_forms(frame: str, info: str) -> None:
    (row,) = rows(frame)
    assert (row.protocol, row.info) == ("ARP", info)
    assert row.source == "02:00:00:00:00:01"


def test_unknown_ethertype_and_ip_protocol() -> None:
    unknown, vlan_unknown, proto253 = rows(
        ETH_UNI + "88b5" + "00" * 50,
        ETH_UNI + "8100 0064 88b5" + "00" * 50,
        ETH_UNI + "0800 450000200001000040fd00000a0000010a000002" + "00" * 12,
    )
    assert (unknown.protocol, unknown.info) == ("0x88b5", "Local Experimental Ethertype 1")
    assert (vlan_unknown.protocol, vlan_unknown.info) == ("0x88b5", "Local Experimental Ethertype 1")
    assert (proto253.source, proto253.protocol, proto253.info) == ("10.0.0.1", "IPv4", "Unknown (253)")


def test_tcp_flags_port_reuse_and_relative_numbers() -> None:
    none, every, ack_ae = rows(
        ETH_UNI + "0800" + IPV4_TCP + "04d2 0050 000003e8 00000000 50 00 0200 0000 0000" + "61626364",
        ETH_UNI + "0800" + IPV4_TCP + "04d2 0050 000003e8 00000005 50 ff 0200 0000 0007" + "61626364",
        ETH_UNI + "0800" + IPV4_TCP + "04d2 0050 000003e8 00000005 51 10 0200 0000 0007" + "61626364",
    )
    assert none.info == "1234 → 80 [<None>] Seq=1 Win=512 Len=4"
    # A SYN with a new sequence number starts a new conversation (tshark: port numbers reused).
    assert every.info == "1234 → 80 [FIN, SYN, RST, PSH, ACK, URG, ECE, CWR] Seq=0 Ack=1 Win=512 Urg=7 Len=4"
    assert ack_ae.info == "1234 → 80 [ACK, AE] Seq=0 Ack=1 Win=512 Len=4"


def test_window_scaling_applies_after_the_handshake_only() -> None:
    syn = "4500003c00010000400600000a0000010a000002" + "a000 1f40 00000064 00000000 a0 02 faf0 0000 0000"
    syn += "020405b4 0402 080a0000000100000000 01 030308"  # MSS, SACK_PERM, TS, NOP, WS=8 (x256)
    synack = "4500003c00010000400600000a0000020a000001" + "1f40 a000 000001f4 00000065 a0 12 fe88 0000 0000"
    synack += "020405b4 0402 080a0000000200000001 01 030307"
    ack = "4500003400010000400600000a0000010a000002" + "a000 1f40 00000065 000001f5 80 10 0010 0000 0000"
    ack += "0101080a0000000300000002"
    first, second, third = rows(ETH_UNI + "0800" + syn, ETH_UNI + "0800" + synack, ETH_UNI + "0800" + ack)
    assert first.info == (
        "40960 → 8000 [SYN] Seq=0 Win=64240 Len=0 MSS=1460 SACK_PERM TSval=1 TSecr=0 WS=256"
    )
    assert second.info.startswith("8000 → 40960 [SYN, ACK] Seq=0 Ack=1 Win=65160 Len=0")
    assert third.info == "40960 → 8000 [ACK] Seq=1 Ack=1 Win=4096 Len=0 TSval=3 TSecr=2"


def test_unknown_window_scale_shows_the_raw_window() -> None:
    (mid_stream,) = rows(
        ETH_UNI + "0800" + IPV4_TCP + "04d2 0050 000003e8 00000005 50 10 0200 0000 0000" + "00" * 4
    )
    assert mid_stream.info == "1234 → 80 [ACK] Seq=1 Ack=1 Win=512 Len=4"


def test_echo_pairing_needs_the_same_address_pair() -> None:
    request = "450000540001000040010000 0a000001 0a000002 0800 0000 1960 0001" + "00" * 56
    reply = "450000540001000040010000 0a000002 0a000001 0000 0000 1960 0001" + "00" * 56
    other = "450000540001000040010000 0a000003 0a000001 0000 0000 1960 0001" + "00" * 56
    got = rows(*(ETH_UNI + "0800" + ip for ip in (request, reply, other)))
    assert got[0].info == "Echo (ping) request  id=0x1960, seq=1/256, ttl=64"
    assert got[1].info == "Echo (ping) reply    id=0x1960, seq=1/256, ttl=64 (request in 1)"
    assert got[2].info == "Echo (ping) reply    id=0x1960, seq=1/256, ttl=64"


def test_ipv4_fragment_and_ipv6_fragment() -> None:
    v4 = "450005dc d42f 00b9 4001 0000 0a000001 0a000002" + "00" * 40
    v6 = (
        "6000000000102c40"
        + "fd77"
        + "00" * 13
        + "01"
        + "fd77"
        + "00" * 13
        + "02"
        + "3a 00 05a9 134d8640"
        + "00" * 8
    )
    frag4, frag6 = rows(ETH_UNI + "0800" + v4, ETH_UNI + "86dd" + v6)
    assert (frag4.protocol, frag4.info) == (
        "IPv4",
        "Fragmented IP protocol (proto=ICMP 1, off=1480, ID=d42f)",
    )
    assert (frag6.protocol, frag6.source) == ("IPv6", "fd77::1")
    assert frag6.info == "IPv6 fragment (off=1448 more=y ident=0x134d8640 nxt=58)"


def test_short_frames_are_malformed_not_errors() -> None:
    (short,) = rows(ETH_UNI + "08")
    assert (short.protocol, short.info, short.source) == (
        "Ethernet",
        "[Malformed Packet]",
        "02:00:00:00:00:01",
    )
    (cut_tcp,) = rows(ETH_UNI + "0800" + IPV4_TCP + "04d2")
    assert cut_tcp.protocol == "TCP" and cut_tcp.info.endswith("[Malformed Packet]")


def test_null_loopback_family_in_either_byte_order() -> None:
    ip = "4500001c0001000040110000 0a000001 0a000002 0001 0002 0008 0000"
    (little,) = rows("02000000" + ip, linktype=0)
    (big,) = rows("00000002" + ip, linktype=108)
    assert little.info == big.info == "1 → 2 Len=0"


def test_resolved_names_for_broadcast() -> None:
    (row,) = rows(
        ETH_BCAST + "0806 0001 0800 0604 0001 020000000001 0a000001 000000000000 0a000002", resolve_names=True
    )
    assert row.destination == "Broadcast"


@pytest.mark.parametrize(
    ("fmt", "texts"),
    [
        ("r", ["0.000000", "1.500000", "-0.250000"]),
        ("d", ["0.000000", "1.500000", "-1.750000"]),
        ("e", ["1700000000.000000", "1700000001.500000", "1699999999.750000"]),
        ("u", ["22:13:20.000000", "22:13:21.500000", "22:13:19.750000"]),
        ("ud", ["2023-11-14 22:13:20.000000", "2023-11-14 22:13:21.500000", "2023-11-14 22:13:19.750000"]),
    ],
)
def test_time_formats(fmt: str, texts: list[str]) -> None:
    clock = TimeColumn(fmt)
    stamps = [1_700_000_000_000_000_000, 1_700_000_001_500_000_000, 1_699_999_999_750_000_000]
    assert [clock.text(stamp, 6) for stamp in stamps] == texts


def test_write_summary_lines_limit_and_nanosecond_digits() -> None:
    data = bytes.fromhex(ETH_UNI + "88b5" + "00" * 50)
    records: list[RawRecord] = [(-1, 5_000_000_123 + i, 64, 1, 9, 0, data) for i in range(3)]
    out = io.StringIO()
    assert write_summary_lines(records, out, limit=2) == 2
    lines = out.getvalue().splitlines()
    assert lines[1] == (
        "    2 0.000000001 02:00:00:00:00:01 → 02:00:00:00:00:02 0x88b5 64 Local Experimental Ethertype 1"
    )
