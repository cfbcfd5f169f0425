"""ICMPv6 dissector: ND, MLD, echo and errors with the quoted packet nested, from hex literals."""

from __future__ import annotations

from analyzer.export.fields import field_text
from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from captures.frame import Frame

# fe80::1 -> ff02::1, hop limit 255; the ICMPv6 message follows.
HEADER = "6000000000{plen}3afffe800000000000000000000000000001ff020000000000000000000000000001"


def dissect(message: str) -> Dissection:
    data = bytes.fromhex(HEADER.format(plen=f"{len(message) // 2:02x}") + message)
    return dissect_frame(Frame(1, 1_795_432_666_000_000_000, data, len(data), 229), strict=True)


def cells(dissection: Dissection, *names: str) -> list[str]:
    return [field_text(dissection, name) for name in names]


def test_neighbor_solicitation_with_source_link_layer_option() -> None:
    d = dissect("8700792400000000fe8000000000000000000000000000010101027700000001")
    assert cells(d, "icmpv6.type", "icmpv6.checksum.status", "icmpv6.nd.ns.target_address") == [
        "135",
        "1",
        "fe80::1",
    ]
    assert cells(d, "icmpv6.opt.type", "icmpv6.opt.length", "icmpv6.opt.src_linkaddr") == [
        "1", "1", "02:77:00:00:00:01",
    ]  # fmt: skip
    option = d.first("icmpv6.opt")
    assert (
        option is not None and option.label == "ICMPv6 Option (Source link-layer address : 02:77:00:00:00:01)"
    )


def test_neighbor_advertisement_flags() -> None:
    d = dissect("88009723e0000000fe8000000000000000000000000000010201027700000001")
    flags = ("icmpv6.nd.na.flag", "icmpv6.nd.na.flag.r", "icmpv6.nd.na.flag.s", "icmpv6.nd.na.flag.o")
    assert cells(d, *flags) == ["0xe0000000", "1", "1", "1"]
    assert cells(d, "icmpv6.opt.target_linkaddr") == ["02:77:00:00:00:01"]


def test_router_advertisement_with_prefix_and_mtu() -> None:
    d = dissect(
        "86001d5840c0070800000000000000000101027700000001030440c000278d0000093a8000000000"
        "fd7700000000000000000000000000000501000000000578"
    )
    assert cells(d, "icmpv6.nd.ra.cur_hop_limit", "icmpv6.nd.ra.flag", "icmpv6.nd.ra.router_lifetime") == [
        "64", "0xc0", "1800",
    ]  # fmt: skip
    assert cells(d, "icmpv6.opt.type", "icmpv6.opt.prefix", "icmpv6.opt.mtu") == ["1,3,5", "fd77::", "1400"]


def test_mldv2_report_records() -> None:
    d = dissect("8f00718e000000010300000100000000000000000000000000000001fe800000000000000000000000000001")
    counts = ("icmpv6.mldr.nb_mcast_records", "icmpv6.mldr.mar.record_type", "icmpv6.mldr.mar.nb_sources")
    assert cells(d, *counts) == ["1", "3", "1"]
    assert cells(d, "icmpv6.mldr.mar.multicast_address", "icmpv6.mldr.mar.source_address") == [
        "::1",
        "fe80::1",
    ]


def test_packet_too_big_quotes_the_packet_as_nested_layers() -> None:
    d = dissect(
        "02000b350000050060000000000811fffe800000000000000000000000000001ff02000000000000000000000000000"
        "18000003500100000"
    )
    assert cells(d, "icmpv6.type", "icmpv6.mtu", "ipv6.nxt") == ["2", "1280", "58,17"]
    nested = [layer.proto for layer in d.layers if layer.depth == 1]
    assert nested[0] == "ipv6"


def test_zero_length_option_is_malformed_not_a_loop() -> None:
    d = dissect("8700792500000000fe8000000000000000000000000000010100027700000001")
    assert "icmpv6.invalid_option_length" in [p.code for p in d.problems]


def test_unknown_type_keeps_its_bytes() -> None:
    d = dissect("c8033a2c00070001")
    assert cells(d, "icmpv6.type", "icmpv6.code", "icmpv6.data") == ["200", "3", "00070001"]
