"""IPv4 dissector: header fields, checksum, options and malformed headers, from hex literals."""

from __future__ import annotations

from analyzer.export.fields import field_text
from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from captures.frame import Frame

# 10.0.0.1 -> 10.0.0.2 ICMP echo request id 1 seq 2 with 8 data bytes "abcdefgh".
ECHO = "4500002412340000400154a30a0000010a00000208006667000100026162636465666768"
ETH = "02770000000b02770000000a0800"


def dissect(hexdata: str, linktype: int = 228) -> Dissection:
    data = bytes.fromhex(hexdata)
    return dissect_frame(Frame(1, 1_795_432_666_000_000_000, data, len(data), linktype), strict=True)


def cells(dissection: Dissection, *names: str) -> list[str]:
    return [field_text(dissection, name) for name in names]


def codes(dissection: Dissection) -> list[str]:
    return [found.code for found in dissection.problems]


def test_header_fields_as_tshark_prints_them() -> None:
    d = dissect(ECHO)
    assert cells(d, "ip.version", "ip.hdr_len", "ip.dsfield", "ip.len", "ip.id", "ip.flags", "ip.ttl") == [
        "4", "20", "0x00", "36", "0x1234", "0x00", "64",
    ]  # fmt: skip
    assert cells(d, "ip.proto", "ip.checksum", "ip.checksum.status", "ip.checksum_calculated") == [
        "1", "0x54a3", "1", "0x54a3",
    ]  # fmt: skip
    assert cells(d, "ip.src", "ip.dst", "ip.addr", "ip.host") == [
        "10.0.0.1", "10.0.0.2", "10.0.0.1,10.0.0.2", "10.0.0.1,10.0.0.2",
    ]  # fmt: skip
    assert d.protocols == "ip:icmp:data"
    layer = d.layer("ip")
    assert layer is not None and layer.label == "Internet Protocol Version 4, Src: 10.0.0.1, Dst: 10.0.0.2"
    # The layer covers its whole PDU: header and the payload it hands on (total length 36).
    assert (layer.offset, layer.length) == (0, 36)


def test_bad_checksum_is_reported_with_the_expected_value() -> None:
    d = dissect(ECHO[:20] + "0000" + ECHO[24:])
    assert cells(d, "ip.checksum", "ip.checksum.status", "ip.checksum_calculated") == [
        "0x0000",
        "0",
        "0x54a3",
    ]
    assert "ip.checksum_bad.expert" in codes(d)


def test_ihl_one_in_a_34_byte_ethernet_frame_is_a_problem_not_a_crash() -> None:
    d = dissect(ETH + "41" + ECHO[2:40], linktype=1)
    assert len(d.frame.data) == 34
    assert "ip.bogus_header_length" in codes(d)
    assert cells(d, "ip.hdr_len", "ip.src", "ip.len") == ["4", "", ""]


def test_total_length_past_the_frame_keeps_dissecting_the_captured_bytes() -> None:
    d = dissect("450000c812340000400153ff" + ECHO[24:])
    assert "ip.bogus_ip_length" in codes(d)
    assert cells(d, "ip.len", "icmp.type", "data.len") == ["200", "8", "8"]


def test_total_length_shorter_than_the_header_stops_after_the_length() -> None:
    d = dissect("4500000c12340000400154bb" + ECHO[24:])
    assert "ip.bogus_ip_length" in codes(d)
    assert cells(d, "ip.len", "ip.id", "icmp.type") == ["12", "", ""]
    assert d.protocols == "ip"


def test_option_running_past_the_header_is_flagged_and_the_payload_still_found() -> None:
    d = dissect("4600002812340000400148770a0000010a0000020728040008006667000100026162636465666768")
    assert "ip.opt.len.invalid" in codes(d)
    assert cells(d, "ip.hdr_len", "icmp.type") == ["24", "8"]


def test_nops_router_alert_and_eol() -> None:
    d = dissect(
        "48000030123400004001bb900a0000010a00000201010101940400000000000008006667000100026162636465666768"
    )
    assert cells(d, "ip.options.nop", "ip.options.routeralert", "ip.opt.type", "ip.opt.ra") == [
        "01,01,01,01", "94040000", "1,1,1,1,148,0", "0",
    ]  # fmt: skip
    assert "ip.nop" in codes(d)
    options = [f for f in d.layers[1].children if f.label.startswith("Options")]
    assert options[0].label == "Options: (12 bytes), Router Alert"


def test_record_route_and_timestamp_options() -> None:
    rr = dissect(
        "4800003012340000400141820a0000010a000002070b080a000001000000000008006667000100026162636465666768"
    )
    assert cells(rr, "ip.opt.ptr", "ip.rec_rt", "ip.empty_rt") == ["8", "10.0.0.1", "0.0.0.0"]
    ts = dissect(
        "480000301234000040014ebb0a0000010a000002440c09010a0000010000abcd08006667000100026162636465666768"
    )
    assert cells(ts, "ip.opt.flag", "ip.opt.time_stamp_addr", "ip.opt.time_stamp") == [
        "0x01",
        "10.0.0.1",
        "43981",
    ]


def test_later_fragment_is_data_and_first_fragment_is_dissected() -> None:
    later = dissect("4500002412342001400134a20a0000010a00000208006667000100026162636465666768")
    assert later.protocols == "ip:data"
    assert cells(later, "ip.frag_offset", "ip.flags.mf") == ["1", "1"]
    first = dissect("4500002412342000400134a30a0000010a00000208006667000100026162636465666768")
    assert first.protocols == "ip:icmp:data"
    assert cells(first, "icmp.checksum.status") == ["2"]


def test_ttl_notes_follow_wireshark() -> None:
    assert "ip.ttl.too_small" in codes(
        dissect("4500002412340000030191a30a0000010a00000208006667000100026162636465666768")
    )
    multicast = dissect("45000024123400000101bda30a000001e000000108006667000100026162636465666768")
    assert "ip.ttl.too_small" not in codes(multicast)


def test_bogus_version() -> None:
    d = dissect("55" + ECHO[2:])
    assert "ip.bogus_ip_version" in codes(d)
    assert cells(d, "ip.version", "ip.src") == ["5", ""]


def test_context_facts_for_transport_checksums() -> None:
    from analyzer.context import PacketContext
    from analyzer.cursor import ByteCursor
    from analyzer.model import Layer
    from dissectors import ipv4

    data = bytes.fromhex(ECHO)
    ctx = PacketContext(frame=Frame(1, 0, data, len(data), 228))
    step = ipv4.dissect(ByteCursor(data), Layer("ip", "", 0, len(data)), ctx)
    assert step is not None and (step.table, step.keys, step.offset, step.end) == ("ip.proto", (1,), 20, 36)
    assert (ctx.ip_version, ctx.ip_src, ctx.ip_dst, ctx.ip_proto, ctx.ip_payload_len) == (
        4, bytes.fromhex("0a000001"), bytes.fromhex("0a000002"), 1, 16,
    )  # fmt: skip
