"""Link-layer dissectors (eth, vlan, arp, sll, null, raw) on hand-built frames, checked against tshark 4.0."""

from __future__ import annotations

from analyzer.context import Preferences
from analyzer.export.fields import field_text
from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from captures.frame import Frame

BROADCAST = "ffffffffffff"
HOST_A = "02770000000a"
ARP_REQUEST = "0001080006040001" + HOST_A + "0a4d0001" + "000000000000" + "0a4d0002"


def dissect(hex_bytes: str, linktype: int = 1, resolve: bool = False) -> Dissection:
    data = bytes.fromhex(hex_bytes)
    frame = Frame(1, 1_000_000_000, data, len(data), linktype)
    return dissect_frame(frame, prefs=Preferences(resolve_names=resolve), strict=True)


def cell(dissection: Dissection, name: str) -> str:
    return field_text(dissection, name)


def test_ethernet_arp_request_fields_and_protocols() -> None:
    d = dissect(BROADCAST + HOST_A + "0806" + ARP_REQUEST)
    assert d.protocols == "eth:ethertype:arp"
    assert cell(d, "eth.dst") == "ff:ff:ff:ff:ff:ff"
    assert cell(d, "eth.addr") == "ff:ff:ff:ff:ff:ff,02:77:00:00:00:0a"
    assert cell(d, "eth.ig") == "1,0"
    assert cell(d, "eth.lg") == "1,1"
    assert cell(d, "eth.dst.oui") == "16777215"
    assert cell(d, "eth.type") == "0x0806"
    assert cell(d, "arp.opcode") == "1"
    assert cell(d, "arp.src.proto_ipv4") == "10.77.0.1"
    assert cell(d, "arp.isgratuitous") == ""
    assert d.layers[1].label == "Ethernet II, Src: 02:77:00:00:00:0a, Dst: ff:ff:ff:ff:ff:ff"
    assert d.layers[2].label == "Address Resolution Protocol (request)"
    assert d.layers[2].length == 28


def test_names_resolved_like_tshark() -> None:
    d = dissect(BROADCAST + "001b21aabbcc" + "0806" + ARP_REQUEST, resolve=True)
    eth = d.layers[1]
    assert eth.label.endswith("Dst: Broadcast (ff:ff:ff:ff:ff:ff)")
    assert cell(d, "eth.dst_resolved") == "Broadcast"
    assert cell(d, "eth.src.oui_resolved") == "Intel Corporate"
    assert cell(d, "eth.src_resolved").endswith("_aa:bb:cc")
    multicast = dissect("333300000016" + HOST_A + "86dd", resolve=True)
    assert cell(multicast, "eth.dst_resolved") == "IPv6mcast_16"
    ipv4_multicast = dissect("01005e0000fb" + HOST_A + "0800", resolve=True)
    assert cell(ipv4_multicast, "eth.dst_resolved") == "IPv4mcast_fb"


def test_zero_padding_is_eth_padding() -> None:
    d = dissect(BROADCAST + HOST_A + "0806" + ARP_REQUEST + "00" * 18)
    assert cell(d, "eth.padding") == "00" * 18
    assert cell(d, "eth.trailer") == ""
    padding = d.first("eth.padding")
    assert padding is not None and (padding.offset, padding.length) == (42, 18)


def test_non_zero_padding_becomes_a_trailer_with_a_note() -> None:
    d = dissect(BROADCAST + HOST_A + "0806" + ARP_REQUEST + "00" * 10 + "deadbeef01020304")
    assert cell(d, "eth.padding") == ""
    assert cell(d, "eth.trailer") == "00" * 10 + "deadbeef01020304"
    assert [p.code for p in d.problems] == ["eth.padding_bad"]


def test_ten_byte_frame_has_no_ethernet_fields() -> None:
    d = dissect(BROADCAST + "02770000")
    assert cell(d, "eth.dst") == ""
    assert [p.code for p in d.problems] == ["eth.malformed"]


def test_8023_length_frame_and_invalid_type() -> None:
    d = dissect(BROADCAST + HOST_A + "0026" + "424203" + "00" * 35 + "00" * 8)
    assert d.layers[1].label == "IEEE 802.3 Ethernet "
    assert cell(d, "eth.len") == "38"
    assert cell(d, "eth.padding") == "00" * 8
    bad = dissect(BROADCAST + HOST_A + "05ff" + "00" * 50)
    assert cell(bad, "eth.invalid_lentype") == "0x05ff"
    assert bad.protocols == "eth:data"
    assert "eth.invalid_lentype" in [p.code for p in bad.problems]


def test_gratuitous_probe_and_announcement() -> None:
    header = BROADCAST + HOST_A + "0806" + "00010800060400"
    announcement = dissect(header + "01" + HOST_A + "0a4d0001" + "00" * 6 + "0a4d0001")
    assert announcement.layers[2].label == "Address Resolution Protocol (ARP Announcement)"
    assert (cell(announcement, "arp.isgratuitous"), cell(announcement, "arp.isannouncement")) == ("1", "1")
    reply = dissect(header + "02" + HOST_A + "0a4d0001" + BROADCAST + "0a4d0001")
    assert reply.layers[2].label == "Address Resolution Protocol (reply/gratuitous ARP)"
    request = dissect(header + "01" + HOST_A + "0a4d0001" + HOST_A + "0a4d0001")
    assert request.layers[2].label == "Address Resolution Protocol (request/gratuitous ARP)"
    probe = dissect(header + "01" + HOST_A + "00000000" + "00" * 6 + "0a4d0002")
    assert probe.layers[2].label == "Address Resolution Protocol (ARP Probe)"
    assert cell(probe, "arp.isprobe") == "1"


def test_arp_with_hardware_size_200_is_malformed_after_the_opcode() -> None:
    d = dissect(BROADCAST + HOST_A + "0806" + "00010800c8040001" + HOST_A + "0a4d0001" + "00" * 10)
    arp = d.layers[2]
    assert arp.label == "Address Resolution Protocol"
    assert cell(d, "arp.hw.size") == "200"
    assert cell(d, "arp.src.hw_mac") == ""
    assert [p.code for p in arp.problems] == ["arp.malformed"]


def test_arp_non_ipv4_addresses_are_bytes() -> None:
    d = dissect(BROADCAST + HOST_A + "0806" + "000686dd06040001" + HOST_A + "0a4d0001" + HOST_A + "0a4d0002")
    assert cell(d, "arp.hw.type") == "6"
    assert cell(d, "arp.src.hw_mac") == "02:77:00:00:00:0a"
    assert cell(d, "arp.src.proto") == "0a4d0001"
    assert cell(d, "arp.src.proto_ipv4") == ""


def test_vlan_tag_with_padding_in_the_vlan_layer() -> None:
    d = dissect(BROADCAST + HOST_A + "8100" + "a064" + "0806" + ARP_REQUEST + "00" * 14)
    assert d.protocols == "eth:ethertype:vlan:ethertype:arp"
    assert (cell(d, "vlan.priority"), cell(d, "vlan.dei"), cell(d, "vlan.id")) == ("5", "0", "100")
    vlan = d.layers[2]
    assert vlan.label == "802.1Q Virtual LAN, PRI: 5, DEI: 0, ID: 100"
    assert vlan.find("eth.padding") is not None
    assert vlan.children[0].label == "101. .... .... .... = Priority: Voice, < 10ms latency and jitter (5)"


def test_qinq_nesting() -> None:
    d = dissect(BROADCAST + HOST_A + "88a8" + "00c8" + "8100" + "012c" + "0806" + ARP_REQUEST)
    assert d.protocols == "eth:ethertype:ieee8021ad:ethertype:vlan:ethertype:arp"
    assert cell(d, "ieee8021ad.id") == "200"
    assert cell(d, "ieee8021ah.etype") == "0x8100"
    assert cell(d, "vlan.id") == "300"


def test_sll_v1_and_v2() -> None:
    v1 = dissect("0004" + "0001" + "0006" + HOST_A + "0000" + "0806" + ARP_REQUEST, linktype=113)
    assert v1.protocols == "sll:ethertype:arp"
    assert [cell(v1, n) for n in ("sll.pkttype", "sll.hatype", "sll.src.eth", "sll.unused", "sll.etype")] == [
        "4",
        "1",
        "02:77:00:00:00:0a",
        "0000",
        "0x0806",
    ]
    assert v1.layers[1].label == "Linux cooked capture v1"
    v2 = dissect(
        "0806" + "0000" + "00000002" + "0001" + "04" + "06" + HOST_A + "0000" + ARP_REQUEST, linktype=276
    )
    assert v2.protocols == "sll:ethertype:arp"
    assert [cell(v2, n) for n in ("sll.etype", "sll.ifindex", "sll.pkttype", "sll.halen")] == [
        "0x0806",
        "2",
        "4",
        "6",
    ]
    assert v2.layers[1].children[0].name == "sll.etype"


def test_null_host_order_and_loop_network_order() -> None:
    little = dissect("02000000" + "45", linktype=0)
    assert cell(little, "null.family") == "2"
    assert little.layers[1].children[0].label == "Family: IP (2)"
    big = dissect("00000002" + "45", linktype=0)
    assert cell(big, "null.family") == "2"
    loop = dissect("00000018" + "60", linktype=108)
    assert cell(loop, "null.family") == "24"
    assert loop.layers[1].children[0].label == "Family: IPv6 (24)"
    assert cell(loop, "frame.encap_type") == "174"


def test_raw_ip_layer_only_for_linktype_101() -> None:
    raw = dissect("4500", linktype=101)
    assert raw.layers[1].proto == "raw"
    assert raw.layers[1].label == "Raw packet data"
    assert raw.protocols.startswith("raw")
    explicit = dissect("4500", linktype=228)
    assert not explicit.protocols.startswith("raw")
