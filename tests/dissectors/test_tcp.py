"""TCP dissector: header, flags, checksum, every option and the malformed cases, against tshark 4.0.

Every packet is a raw IPv4 (link type 228) or IPv6 (229) frame; the expected values were read
from `tshark -V` / `-T fields` on the same bytes.
"""

from __future__ import annotations

import pytest

from analyzer.context import Preferences
from analyzer.export.fields import field_text
from analyzer.model import Dissection, Layer
from analyzer.pipeline import dissect_frame
from captures.frame import Frame

# 10.0.0.1:1234 -> 10.0.0.2:80 SYN, options MSS 1460, SACK permitted, timestamps, NOP, wscale 7.
SYN = (
    "4500003c00010000400666b90a0000010a00000204d20050000003e800000000a002faf030020000"
    "020405b40402080a000000010000000001030307"
)
# ACK with NOP NOP SACK(100-200 300-400) unknown kind 99, EOL padding, payload "hello".
ACK_SACK = (
    "4500004900010000400666ac0a0000010a00000204d20050000003e900001388c01001f55b550000"
    "0101051200000064000000c80000012c00000190630401020000000068656c6c6f"
)
# 10.0.0.1:1234 -> 10.0.0.2:4321, seq 7, ack 5, window 100; variations below.
IP_20 = "4500002800010000400666cd0a0000010a000002"
IP_24 = "4500002c00010000400666c90a0000010a000002"
HDR_LEN_16 = IP_20 + "04d210e100000007000000054010006495af0000"
HDR_LEN_60 = IP_20 + "04d210e10000000700000005f0100064e5ae0000"
OPT_LEN_0 = IP_24 + "04d210e100000007000000056010006473ab000002000000"
OPT_LEN_1 = IP_24 + "04d210e100000007000000056010006473aa000002010000"
OPT_PAST_HEADER = IP_24 + "04d210e10000000700000005601000646da10000080a0000"
UNKNOWN_PAST_HEADER = IP_24 + "04d210e100000007000000056010006411a3000063060102"
RST_WITH_TEXT = (
    "4500002f00010000400666c60a0000010a000002" + "04d210e1000000070000000550140064d89a0000627965206e6f77"
)
URGENT_WITHOUT_URG = IP_20 + "04d210e100000007000000095010006485a60005"
ACK_WITHOUT_ACK_FLAG = IP_20 + "04d210e100000007000000095002006485b90000"
ALL_FLAGS_BAD_CHECKSUM = IP_20 + "04d210e100000007000000055fff006412340000"
WSCALE_15 = IP_24 + "04d210e100000007000000056010006463a7000003030f01"
BYTES_AFTER_EOL = (
    "4500003400010000400666c10a0000010a00000204d210e100000007000000058010006451a10000010101010100010000000000"
)
SACK_LEN_6 = (
    "4500003000010000400666c50a0000010a000002" + "04d210e100000007000000057010006460a000000506000000010000"
)
MSS_LEN_3 = IP_24 + "04d210e100000007000000056010006472a8000002030100"
# ICMP port unreachable from 10.0.0.2 quoting 10.0.0.1:40000 -> :80 (8 bytes, all, 24 bytes).
ICMP_QUOTE_8 = (
    "4500003800010000400166c20a0000020a00000103036065000000004500004600010000400666af0a0000010a000002"
    "9c40005000000007"
)
ICMP_QUOTE_ALL = (
    "4500006200010000400166980a0000020a00000103031138000000004500004600010000400666af0a0000010a000002"
    "9c400050000000070000000580180064e6fc00000101080a0000000100000002474554202f20485454502f312e310d0a0d0a"
)
ICMP_QUOTE_24 = (
    "4500004800010000400166b20a0000020a0000010303efdb000000004500004600010000400666af0a0000010a000002"
    "9c400050000000070000000580180064e6fc00000101080a"
)
# ICMPv6 port unreachable quoting a whole IPv6 TCP segment with payload "xyz".
ICMPV6_QUOTE = (
    "6000000000473a40fe800000000000000000000000000002fe80000000000000000000000000000101049b3b00000000"
    "6000000000170640fe800000000000000000000000000001fe8000000000000000000000000000029c40005000000007"
    "000000055018200003af000078797a"
)
# First fragment (MF set) of a datagram: TCP header + 40 bytes of "z".
FIRST_FRAGMENT = (
    "4500005000012000400646a50a0000010a000002" + "04d210e1000000070000000550100064f3f50000" + "7a" * 40
)


def dissect(hex_bytes: str, linktype: int = 228, cut: int | None = None, **kwargs: bool) -> Dissection:
    data = bytes.fromhex(hex_bytes)
    frame = Frame(1, 0, data[:cut] if cut is not None else data, len(data), linktype)
    prefs = Preferences(**kwargs) if kwargs else None
    return dissect_frame(frame, prefs=prefs, strict=True)


def tcp(dissection: Dissection) -> Layer:
    found = dissection.layer("tcp")
    assert found is not None
    return found


def cells(dissection: Dissection, *names: str) -> list[str]:
    return [field_text(dissection, name) for name in names]


def codes(layer: Layer) -> list[str]:
    return [found.code for found in layer.problems]


def test_syn_header() -> None:
    found = dissect(SYN)
    layer = tcp(found)
    assert layer.label == "Transmission Control Protocol, Src Port: 1234, Dst Port: 80, Seq: 1000, Len: 0"
    names = ("tcp.srcport", "tcp.dstport", "tcp.port", "tcp.len", "tcp.seq_raw", "tcp.ack_raw", "tcp.hdr_len")
    assert cells(found, *names) == ["1234", "80", "1234,80", "0", "1000", "0", "40"]
    assert cells(found, "tcp.flags", "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.str") == [
        "0x0002",
        "1",
        "0",
        "··········S·",
    ]
    assert cells(found, "tcp.window_size_value", "tcp.window_size", "tcp.urgent_pointer") == [
        "64240",
        "64240",
        "0",
    ]
    assert cells(found, "tcp.checksum", "tcp.checksum.status", "tcp.checksum_calculated") == [
        "0x3002",
        "1",
        "0x3002",
    ]
    # Relative numbers and the stream index need connection state: left to the tracker.
    assert cells(found, "tcp.seq", "tcp.ack", "tcp.nxtseq", "tcp.stream") == ["", "", "", ""]
    labels = [item.label for item in layer.children]
    assert "1010 .... = Header Length: 40 bytes (10)" in labels
    assert "Flags: 0x002 (SYN)" in labels
    assert "Checksum: 0x3002 [correct]" in labels
    assert codes(layer) == ["tcp.connection.syn"]
    assert layer.problems[0].message == "Connection establish request (SYN): server port 80"


def test_syn_options() -> None:
    found = dissect(SYN)
    assert cells(found, "tcp.options", "tcp.option_kind", "tcp.option_len") == [
        "020405b40402080a000000010000000001030307",
        "2,4,8,1,3",
        "4,2,10,3",
    ]
    assert cells(found, "tcp.options.mss", "tcp.options.mss_val", "tcp.options.sack_perm") == [
        "020405b4",
        "1460",
        "0402",
    ]
    assert cells(found, "tcp.options.wscale.shift", "tcp.options.wscale.multiplier") == ["7", "128"]
    assert cells(found, "tcp.options.timestamp.tsval", "tcp.options.timestamp.tsecr", "tcp.options.nop") == [
        "1",
        "0",
        "01",
    ]
    options = tcp(found).find("tcp.options")
    assert options is not None
    assert options.label == (
        "Options: (20 bytes), Maximum segment size, SACK permitted, Timestamps, No-Operation (NOP),"
        " Window scale"
    )
    assert [item.label for item in options.children] == [
        "TCP Option - Maximum segment size: 1460 bytes",
        "TCP Option - SACK permitted",
        "TCP Option - Timestamps: TSval 1, TSecr 0",
        "TCP Option - No-Operation (NOP)",
        "TCP Option - Window scale: 7 (multiply by 128)",
    ]
    assert options.children[0].children[0].label == "Kind: Maximum Segment Size (2)"


def test_sack_unknown_eol_and_payload() -> None:
    found = dissect(ACK_SACK)
    layer = tcp(found)
    assert layer.label.endswith("Seq: 1001, Ack: 5000, Len: 5")
    assert cells(found, "tcp.option_kind", "tcp.option_len") == ["1,1,5,99,0,0,0,0", "18,4"]
    assert cells(found, "tcp.options.sack_le", "tcp.options.sack_re", "tcp.options.sack.count") == [
        "100,300",
        "200,400",
        "2",
    ]
    assert cells(found, "tcp.options.unknown", "tcp.options.unknown.payload", "tcp.options.eol") == [
        "63040102",
        "0102",
        "00,00,00,00",
    ]
    # A non-SYN window's scale is only known from the handshake.
    assert cells(found, "tcp.window_size_value", "tcp.window_size", "tcp.payload") == [
        "501",
        "",
        "68656c6c6f",
    ]
    payload = layer.find("tcp.payload")
    assert payload is not None and payload.label == "TCP payload (5 bytes)"
    assert found.layers[-1].offset == 20 + 48


def test_header_length_below_minimum() -> None:
    found = dissect(HDR_LEN_16)
    layer = tcp(found)
    assert layer.label == "Transmission Control Protocol, Src Port: 1234, Dst Port: 4321, Seq: 7"
    assert cells(found, "tcp.len", "tcp.seq_raw", "tcp.hdr_len", "tcp.ack_raw", "tcp.flags") == [
        "4",
        "7",
        "16",
        "",
        "",
    ]
    assert codes(layer) == ["tcp.bogus_header_length"]
    assert layer.problems[0].message == "Bogus TCP header length (16, must be at least 20)"
    assert found.layers[-1] is layer


def test_header_length_past_segment() -> None:
    found = dissect(HDR_LEN_60)
    layer = tcp(found)
    assert layer.label.endswith("Seq: 7, Ack: 5")
    assert cells(found, "tcp.len", "tcp.hdr_len", "tcp.options") == ["", "60", "<MISSING>"]
    assert codes(layer) == ["tcp.short_segment", "tcp.malformed"]


@pytest.mark.parametrize(
    ("packet", "message"),
    [
        (OPT_LEN_0, "Maximum segment size (with too-short option length = 0 bytes)"),
        (OPT_LEN_1, "Maximum segment size (with too-short option length = 1 byte)"),
        (OPT_PAST_HEADER, "Timestamps (option length = 10 bytes says option goes past end of options)"),
        (
            UNKNOWN_PAST_HEADER,
            "Unknown (0x63) (option length = 6 bytes says option goes past end of options)",
        ),
    ],
)
def test_impossible_option_length_stops_the_list(packet: str, message: str) -> None:
    found = dissect(packet)
    layer = tcp(found)
    assert [(found.code, found.message) for found in layer.problems] == [("tcp.option.len.invalid", message)]
    options = layer.find("tcp.options")
    assert options is not None and options.label == "Options: (4 bytes)"
    assert cells(found, "tcp.option_kind", "tcp.options", "tcp.checksum.status") == ["", packet[-8:], "1"]


def test_reset_carries_text_not_payload() -> None:
    found = dissect(RST_WITH_TEXT)
    layer = tcp(found)
    assert cells(found, "tcp.reset_cause", "tcp.payload", "tcp.flags.reset", "tcp.len") == [
        "bye now",
        "",
        "1",
        "7",
    ]
    assert found.layers[-1] is layer
    assert codes(layer) == ["tcp.connection.rst"]


def test_urgent_pointer_and_ack_without_their_flags() -> None:
    assert codes(tcp(dissect(URGENT_WITHOUT_URG))) == ["tcp.urgent_pointer.non_zero"]
    assert codes(tcp(dissect(ACK_WITHOUT_ACK_FLAG))) == ["tcp.ack.nonzero", "tcp.connection.syn"]


def test_all_flags_and_bad_checksum() -> None:
    found = dissect(ALL_FLAGS_BAD_CHECKSUM)
    layer = tcp(found)
    flags = layer.find("tcp.flags")
    assert flags is not None
    assert flags.label == "Flags: 0xfff (FIN, SYN, RST, PSH, ACK, URG, ECE, CWR, AE, Reserved)"
    assert [child.label for child in flags.children[:2]] == [
        "111. .... .... = Reserved: Set",
        "...1 .... .... = Accurate ECN: Set",
    ]
    assert cells(found, "tcp.flags", "tcp.flags.str", "tcp.flags.res", "tcp.flags.ae") == [
        "0x0fff",
        "RRRACEUAPRSF",
        "1",
        "1",
    ]
    assert cells(found, "tcp.checksum", "tcp.checksum.status", "tcp.checksum_calculated") == [
        "0x1234",
        "0",
        "0x75c0",
    ]
    checksum = layer.find("tcp.checksum")
    assert checksum is not None
    assert (
        checksum.label
        == 'Checksum: 0x1234 incorrect, should be 0x75c0(maybe caused by "TCP checksum offload"?)'
    )
    assert "tcp.checksum_bad.expert" in codes(layer)


def test_checksum_not_verified_when_the_preference_is_off() -> None:
    found = dissect(ALL_FLAGS_BAD_CHECKSUM, check_checksums=False)
    assert cells(found, "tcp.checksum.status", "tcp.checksum_calculated") == ["2", ""]
    assert "tcp.checksum_bad.expert" not in codes(tcp(found))


def test_window_scale_shift_over_14() -> None:
    found = dissect(WSCALE_15)
    assert cells(found, "tcp.options.wscale.shift", "tcp.options.wscale.multiplier", "tcp.option_kind") == [
        "15",
        "16384",
        "3,1",
    ]
    assert codes(tcp(found)) == ["tcp.options.wscale.shift.invalid"]


def test_nop_run_and_bytes_after_eol() -> None:
    found = dissect(BYTES_AFTER_EOL)
    assert cells(found, "tcp.option_kind") == ["1,1,1,1,1,0"]
    assert codes(tcp(found)) == ["tcp.nop", "tcp.non_zero_bytes_after_eol"]


def test_sack_with_half_a_block_is_malformed() -> None:
    found = dissect(SACK_LEN_6)
    assert cells(found, "tcp.options.sack_le", "tcp.options.sack.count", "tcp.option_kind") == ["1", "0", "5"]
    assert codes(tcp(found)) == ["tcp.suboption_malformed", "tcp.malformed"]


def test_option_of_the_wrong_fixed_length() -> None:
    found = dissect(MSS_LEN_3)
    layer = tcp(found)
    assert cells(found, "tcp.option_kind", "tcp.option_len", "tcp.options.mss_val") == ["2,0", "3", ""]
    assert codes(layer) == ["tcp.options.mss.present", "tcp.option.len.invalid"]
    assert layer.problems[1].message == "option length should be 4"


def test_icmp_quote_of_eight_bytes() -> None:
    found = dissect(ICMP_QUOTE_8)
    layer = tcp(found)
    assert layer.depth == 1
    assert layer.label == "Transmission Control Protocol, Src Port: 40000, Dst Port: 80"
    # Inside an ICMPv4 error tshark shows the raw sequence number first, and nothing it lacks.
    assert cells(found, "tcp.seq", "tcp.seq_raw", "tcp.ack_raw", "tcp.checksum") == ["7", "", "", ""]
    assert layer.problems == []


def test_icmp_quote_of_the_whole_segment() -> None:
    found = dissect(ICMP_QUOTE_ALL)
    layer = tcp(found)
    assert layer.label.endswith("Dst Port: 80, Seq: 7, Ack: 5")
    assert cells(found, "tcp.seq", "tcp.ack", "tcp.seq_raw", "tcp.ack_raw", "tcp.len") == [
        "7",
        "5",
        "",
        "5",
        "",
    ]
    assert cells(found, "tcp.checksum.status", "tcp.window_size", "tcp.payload") == [
        "1",
        "100",
        "474554202f20485454502f312e310d0a0d0a",
    ]


def test_icmp_quote_cut_inside_the_options() -> None:
    found = dissect(ICMP_QUOTE_24)
    # tshark checksums the bytes the quote holds, and walks the options the header declares.
    assert cells(found, "tcp.checksum.status", "tcp.checksum_calculated") == ["0", "0xc5ba"]
    assert cells(found, "tcp.options", "tcp.option_kind", "tcp.option_len") == ["0101080a", "1,1,8", "10"]
    assert "tcp.malformed" not in codes(tcp(found))


def test_icmpv6_quote() -> None:
    found = dissect(ICMPV6_QUOTE, linktype=229)
    layer = tcp(found)
    seq = layer.find("tcp.seq")
    assert seq is not None and seq.label == "Sequence Number: 7    (relative sequence number)"
    assert cells(found, "tcp.seq", "tcp.seq_raw", "tcp.ack", "tcp.checksum.status", "tcp.payload") == [
        "7",
        "7",
        "5",
        "1",
        "78797a",
    ]


def test_first_fragment_is_not_checksummed() -> None:
    found = dissect(FIRST_FRAGMENT)
    layer = tcp(found)
    assert layer.label.endswith("Seq: 7, Ack: 5")
    assert cells(found, "tcp.seq", "tcp.ack", "tcp.len", "tcp.checksum.status") == ["7", "5", "", "2"]
    assert cells(found, "tcp.payload") == ["7a" * 40]


@pytest.mark.parametrize("packet", [SYN, ACK_SACK, RST_WITH_TEXT, ICMP_QUOTE_ALL])
def test_truncated_at_every_length(packet: str) -> None:
    whole = bytes.fromhex(packet)
    tcp_start = 48 if packet is ICMP_QUOTE_ALL else 20
    header_end = tcp_start + (whole[tcp_start + 12] >> 4) * 4
    for cut in range(tcp_start, len(whole)):
        found = dissect(packet, cut=cut)
        for item in found.walk():
            assert item.offset < 0 or item.offset + item.length <= cut, (cut, item)
        if cut < tcp_start + 4:
            continue
        layer = tcp(found)
        assert field_text(found, "tcp.srcport") == str(
            int.from_bytes(whole[tcp_start : tcp_start + 2], "big")
        )
        all_codes = [problem.code for problem in found.problems]
        assert any(code.endswith(".truncated") for code in all_codes), (cut, all_codes)
        if cut < header_end:
            assert "tcp.truncated" in codes(layer), (cut, codes(layer))
        if cut >= tcp_start + 18:
            assert field_text(found, "tcp.checksum.status") == "2", cut
