"""ICMP dissector: echo, errors with the quoted datagram nested, checksums, from hex literals."""

from __future__ import annotations

from analyzer.export.fields import field_text
from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from captures.frame import Frame


def dissect(hexdata: str, timestamp_ns: int = 1_795_432_666_000_000_000) -> Dissection:
    data = bytes.fromhex(hexdata)
    return dissect_frame(Frame(1, timestamp_ns, data, len(data), 228), strict=True)


def cells(dissection: Dissection, *names: str) -> list[str]:
    return [field_text(dissection, name) for name in names]


def test_echo_request_identifiers_in_both_byte_orders() -> None:
    d = dissect("4500002412340000400154a30a0000010a00000208006667000100026162636465666768")
    assert cells(d, "icmp.type", "icmp.code", "icmp.checksum", "icmp.checksum.status") == [
        "8",
        "0",
        "0x6667",
        "1",
    ]
    assert cells(d, "icmp.ident", "icmp.ident_le", "icmp.seq", "icmp.seq_le") == ["1", "256", "2", "512"]
    assert cells(d, "data.data", "icmp.data_time") == ["6162636465666768", ""]


def test_bad_checksum() -> None:
    d = dissect("4500002012340000400154a70a0000010a000002080033360001000261620000")
    assert cells(d, "icmp.checksum.status") == ["0"]
    assert "icmp.checksum_bad" in [p.code for p in d.problems]


def test_port_unreachable_quotes_the_datagram_as_nested_layers() -> None:
    d = dissect(
        "4500004012340000400154870a0000020a0000010303fcfc000000004500002412342000400134a3"
        "0a0000010a00000208002728000100023132333435363738"
    )
    assert d.protocols == "ip:icmp:ip:icmp:data"
    assert cells(d, "ip.src", "icmp.type", "icmp.unused") == ["10.0.0.2,10.0.0.1", "3,8", "00000000"]
    # The quoted ICMP's checksum is not verified, as in tshark.
    assert cells(d, "icmp.checksum.status") == ["1,2"]
    # The quoted echo's data shows inside the quoted ICMP, as tshark nests it.
    quoted = [(layer.proto, layer.depth) for layer in d.layers if layer.depth >= 1]
    assert quoted == [("ip", 1), ("icmp", 1), ("data", 2)]


def test_quoted_header_with_overlong_total_length_is_not_flagged() -> None:
    d = dissect(
        "45000038123400004001548f0a0000020a00000103037cb700000000450003e812340000401150cf"
        "0a0000010a0000028000003500100000"
    )
    assert cells(d, "ip.len") == ["56,1000"]
    assert "ip.bogus_ip_length" not in [p.code for p in d.problems]


def test_fragmentation_needed_shows_the_mtu_and_redirect_the_gateway() -> None:
    frag = dissect(
        "45000038123400004001548f0a0000020a0000010304cb75000005dc4500001c12340000401100000a0000010a000002"
        "8000003500100000"
    )
    assert cells(frag, "icmp.mtu", "icmp.unused", "ip.checksum.status") == ["1500", "0000", "1,0"]
    redirect = dissect(
        "45000038123400004001548f0a0000020a0000010501c4560a0000fe4500001c12340000401100000a0000010a000002"
        "8000003500100000"
    )
    assert cells(redirect, "icmp.redir_gw", "icmp.code") == ["10.0.0.254", "1"]


def test_too_short_message_adds_no_fields() -> None:
    d = dissect("4500001812340000400154af0a0000020a0000010303fcfc")
    assert cells(d, "icmp.type") == [""]
    assert any(p.code.startswith("icmp.") for p in d.problems)


def test_linux_ping_timestamp_in_the_data() -> None:
    # 8 bytes of little-endian seconds since the epoch, then microseconds, as Linux ping writes.
    stamp = (1_795_432_666).to_bytes(8, "little").hex()
    d = dissect(
        "4500002c12340000400154970a0000010a000002080000000001000" + "2" + stamp + "0102030405060708",
        timestamp_ns=1_795_432_666_500_000_000,
    )
    assert cells(d, "icmp.data_time_relative", "data.len") == ["0.500000000", "8"]
