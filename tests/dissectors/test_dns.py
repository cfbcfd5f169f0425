"""DNS dissector: every record type and every hostile case, against tshark 4.0 on the same bytes.

Each DNS payload below is a hex literal wrapped in Ethernet/IPv4/UDP (or TCP) headers by
`frame()`; the expected texts were read from `tshark -V` / `-T fields` on those frames.
"""

from __future__ import annotations

import struct
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.export.fields import field_text
from analyzer.model import Dissection, Field, Layer
from analyzer.pipeline import dissect_frame
from captures.frame import Frame

SOA = (
    "beef81800001000100000000036c616204746573740000060001c00c0006000100000e100037036e7331036c61620474657374"
    "000a686f73746d6173746572036c616204746573740078a3f17500000e1000000258000151800000012c"
)
NS = (
    "beef81800001000200010000036c616204746573740000020001c00c0002000100000e10000e036e7331036c61620474657374"
    "00c00c0002000100000e100006036e7332c00cc00c0006000100000e100037036e7331036c61620474657374000a686f73746d"
    "6173746572036c616204746573740078a3f17500000e1000000258000151800000012c"
)
CAA = (
    "beef81800001000400000000036c616204746573740001010001c00c0101000100000e100016000569737375656c657473656e"
    "63727970742e6f7267c00c0101000100000e10000c8009697373756577696c643bc00c0101000100000e10001a0005696f6465"
    "666d61696c746f3a736563406c61622e74657374c00c0101000100000e1000080003666f6f424152"
)
SVCB = (
    "beef81800001000100000000025f78036c616204746573740000400001c00c0040000100000e10004d00010000010006026832"
    "0268330003000220fb000400080a0000010a000002000600100000000000000000000000000000000100000004000100030002"
    "0000000900036162630005000378797a"
)
HTTPS = (
    "beef81800001000100000000036c616204746573740000410001c00c0041000100000e10001000000373766303"
    "6c6162047465737400"
)
OPT = (
    "000701000001000000000001036c6162047465737400000100010000291000000180000043000a0018000102030405060708090a"
    "0b0c0d0e0f1011121314151617000c000400000000000b00020064000f000600126f6f70730003000000080007000118000a0102"
)
NXDOMAIN_A_CNAME = (
    "beef858300010003000000000178036c616204746573740000010001c00c000100018000001000040a000001c00c00010001"
    "00016e5800040a000002c00c0005000100000e1000040179c00c"
)
MDNS_QUERY = (
    "00000000000200000000000004686f7374056c6f63616c0000018001055f68747470045f746370056c6f63616c00000c0001"
)
MDNS_RESPONSE = (
    "00008400000000020000000104686f7374056c6f63616c0000018001000000780004c0a801020178055f68747470045f746370"
    "056c6f63616c000021800100000e10000d00000000005004686f7374c01100002905a000000e100000"
)
LLMNR_RESPONSE = (
    "005584000001000100000000047770616400001c0001c00c001c00010000001e001000000000000000000000000000000001"
)
UPDATE = (
    "000928000001000100010000036c6162047465737400000600010161036c616204746573740000ff00ff00000000000001"
    "62036c6162047465737400000100010000003c000401020304"
)
TXT = "beef81800001000100000000036c616204746573740000100001c00c0010000100000e100007000568656c6c6f"
UNKNOWN = "beef81800001000100000000036c616204746573740010920001c00c1092000100000e100003010203"
QUERY_A = "1234010000010000000000000377777703" + "6c6162047465737400" + "00010001"


def checksum(data: bytes) -> int:
    data += b"\0" * (len(data) % 2)
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    result: int = ~total & 0xFFFF
    return result


def frame(payload_hex: str, sport: int = 53, dport: int = 40000, tcp: bool = False) -> Frame:
    """Ethernet + IPv4 10.77.0.1 -> 10.77.0.2 + UDP (zero checksum) or TCP around the payload."""
    payload = bytes.fromhex(payload_hex)
    if tcp:
        segment = struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 0x50, 0x18, 65535, 0, 0) + payload
        proto = 6
    else:
        segment = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        proto = 17
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(segment), 1, 0, 64, proto, 0, b"\x0a\x4d\0\x01", b"\x0a\x4d\0\x02"
    )
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    if tcp:
        pseudo = ip[12:20] + struct.pack("!BBH", 0, 6, len(segment))
        segment = segment[:16] + struct.pack("!H", checksum(pseudo + segment)) + segment[18:]
    data = bytes.fromhex("02770000000b02770000000a0800") + ip + segment
    return Frame(1, 1_700_000_000_000_000_000, data, len(data), 1)


def dissect(payload_hex: str, **kw: int | bool) -> Dissection:
    return dissect_frame(frame(payload_hex, **kw), strict=True)  # type: ignore[arg-type]


def dns_layer(d: Dissection, proto: str = "dns") -> Layer:
    layer = d.layer(proto)
    assert layer is not None, d.protocols
    return layer


def labels(node: Layer | Field) -> list[str]:
    return [item.label for item in node.walk()]


def test_soa_record_fields_and_labels() -> None:
    d = dissect(SOA)
    layer = dns_layer(d)
    assert layer.label == "Domain Name System (response)"
    assert "lab.test: type SOA, class IN, mname ns1.lab.test" in labels(layer)
    assert field_text(d, "dns.soa.rname") == "hostmaster.lab.test"
    assert field_text(d, "dns.soa.serial_number") == "2024010101"
    for line in (
        "Refresh Interval: 3600 (1 hour)",
        "Retry Interval: 600 (10 minutes)",
        "Expire limit: 86400 (1 day)",
        "Minimum TTL: 300 (5 minutes)",
        "Time to live: 3600 (1 hour)",
        "Type: SOA (Start Of a zone of Authority) (6)",
    ):
        assert line in labels(layer)
    assert not layer.problems


def test_ns_records_with_compression_and_authority_section() -> None:
    d = dissect(NS)
    assert field_text(d, "dns.ns") == "ns1.lab.test,ns2.lab.test"
    assert "Authoritative nameservers" in labels(dns_layer(d))
    assert "lab.test: type NS, class IN, ns ns2.lab.test" in labels(dns_layer(d))


def test_caa_tags() -> None:
    d = dissect(CAA)
    assert field_text(d, "dns.caa.issue") == "letsencrypt.org"
    assert field_text(d, "dns.caa.issuewild") == ";"
    assert field_text(d, "dns.caa.iodef") == "mailto:sec@lab.test"
    assert field_text(d, "dns.caa.unknown") == "BAR"
    assert field_text(d, "dns.caa.tag") == "issue,issuewild,iodef,foo"
    assert field_text(d, "dns.caa.flags") == "0x00,0x80,0x00,0x00"
    assert "1... .... = Issuer Critical: Critical" in labels(dns_layer(d))


def test_svcb_params() -> None:
    d = dissect(SVCB)
    params = [line for line in labels(dns_layer(d)) if line.startswith("SvcParam:")]
    assert params == [
        "SvcParam: alpn=h2,h3",
        "SvcParam: port=8443",
        "SvcParam: ipv4hint=10.0.0.1,10.0.0.2",
        "SvcParam: ipv6hint=::1",
        "SvcParam: mandatory=alpn,port",
        "SvcParam: no-default-alpn",
        "SvcParam: key9=abc",
        "SvcParam: echconfig=eHl6",
    ]
    assert field_text(d, "dns.svcb.svcpriority") == "1"
    assert field_text(d, "dns.svcb.targetname") == "<Root>"
    assert field_text(d, "dns.svcb.svcparam.alpn") == "h2,h3"


def test_https_alias_form() -> None:
    d = dissect(HTTPS)
    assert field_text(d, "dns.svcb.svcpriority") == "0"
    assert field_text(d, "dns.svcb.targetname") == "svc.lab.test"
    assert "Type: HTTPS (HTTPS Specific Service Endpoints) (65)" in labels(dns_layer(d))


def test_opt_options() -> None:
    d = dissect(OPT, sport=40000, dport=53)
    layer = dns_layer(d)
    assert layer.label == "Domain Name System (query)"
    assert field_text(d, "dns.rr.udp_payload_size") == "4096"
    assert field_text(d, "dns.resp.ext_rcode") == "0x00"
    assert field_text(d, "dns.resp.edns0_version") == "1"
    assert field_text(d, "dns.resp.z.do") == "1"
    assert field_text(d, "dns.opt.code") == "10,12,11,15,3,8"
    assert field_text(d, "dns.opt.cookie.client") == "0001020304050607"
    assert field_text(d, "dns.opt.cookie.server") == "08090a0b0c0d0e0f1011121314151617"
    assert field_text(d, "dns.opt.padding") == "00000000"
    assert field_text(d, "dns.opt.edns_tcp_keepalive.timeout") == "100"
    assert field_text(d, "dns.opt.ext_error.extra_text") == "oops"
    assert field_text(d, "dns.opt.client.addr4") == "10.1.2.0"
    assert "Info Code: Network Error (18)" not in labels(layer)  # 18 is "Prohibited"
    assert "Info Code: Prohibited (18)" in labels(layer)
    assert "Option: NSID - Name Server Identifier" in labels(layer)
    assert "Family: IPv4 (1)" in labels(layer)


def test_a_cname_nxdomain_and_high_ttl_bit() -> None:
    d = dissect(NXDOMAIN_A_CNAME)
    layer = dns_layer(d)
    assert field_text(d, "dns.flags.rcode") == "3"
    assert "Flags: 0x8583 Standard query response, No such name" in labels(layer)
    assert field_text(d, "dns.a") == "10.0.0.1,10.0.0.2"
    assert field_text(d, "dns.cname") == "y.x.lab.test"
    assert "Time to live: 93784 (1 day, 2 hours, 3 minutes, 4 seconds)" in labels(layer)
    assert [p.code for p in layer.problems] == ["dns.ttl.high_bit_set"]


def test_mdns_query_and_response() -> None:
    d = dissect(MDNS_QUERY, sport=5353, dport=5353)
    layer = dns_layer(d, "mdns")
    assert d.protocols == "eth:ethertype:ip:udp:mdns"
    assert layer.label == "Multicast Domain Name System (query)"
    assert 'host.local: type A, class IN, "QU" question' in labels(layer)
    assert field_text(d, "dns.qry.qu") == "1,0"
    d = dissect(MDNS_RESPONSE, sport=5353, dport=5353)
    layer = dns_layer(d, "mdns")
    assert "host.local: type A, class IN, cache flush, addr 192.168.1.2" in labels(layer)
    assert field_text(d, "dns.srv.service") == "x"
    assert field_text(d, "dns.rr.udp_payload_size") == "0x05a0"


def test_llmnr_flags() -> None:
    d = dissect(LLMNR_RESPONSE, sport=5355, dport=50000)
    layer = dns_layer(d, "llmnr")
    assert layer.label == "Link-local Multicast Name Resolution (response)"
    assert layer.short_name == "LLMNR"
    assert field_text(d, "dns.flags.conflict") == "1"
    assert field_text(d, "dns.aaaa") == "::1"


def test_update_uses_zone_section_names() -> None:
    d = dissect(UPDATE, sport=40000, dport=53)
    layer = dns_layer(d)
    assert field_text(d, "dns.count.zones") == "1"
    assert field_text(d, "dns.count.prerequisites") == "1"
    assert {"Zone", "Prerequisites", "Updates"} <= set(labels(layer))


def test_txt_and_unknown_type() -> None:
    d = dissect(TXT)
    assert field_text(d, "dns.txt") == ",hello"
    assert field_text(d, "dns.txt.length") == "0,5"
    d = dissect(UNKNOWN)
    layer = dns_layer(d)
    assert field_text(d, "dns.data") == "010203"
    assert "lab.test: type Unknown (4242), class IN" in labels(layer)
    assert [p.code for p in layer.problems] == ["dns.undecoded_type"]


def test_tcp_two_messages_and_split_message() -> None:
    query = bytes.fromhex(QUERY_A)
    prefixed = (struct.pack("!H", len(query)) + query).hex()
    d = dissect(prefixed + prefixed, sport=40000, dport=53, tcp=True)
    assert d.protocols == "eth:ethertype:ip:tcp:dns"
    assert [layer.proto for layer in d.layers].count("dns") == 2
    assert field_text(d, "dns.length") == "30,30"
    d = dissect(prefixed + prefixed[:20], sport=40000, dport=53, tcp=True)
    last = d.layers[-1]
    assert [p.code for p in last.problems] == ["dns.length_past_segment"]
    assert field_text(d, "tcp.segment_data") == prefixed[:20]


def name_query(name_hex: str, extra: str = "") -> str:
    return "123401000001000000000000" + name_hex + "00010001" + extra


def test_pointer_loops() -> None:
    for payload in (
        name_query("c00c"),
        name_query("03616263c00c"),
        "123401000002000000000000c01200010001c00c00010001",
    ):
        d = dissect(payload, sport=40000, dport=53)
        names = field_text(d, "dns.qry.name").split(",")
        assert set(names) == {"<Name contains a pointer that loops>"}
        assert set(field_text(d, "dns.qry.name.len").split(",")) == {"36"}


def test_forward_pointer_followed() -> None:
    d = dissect(name_query("03777777c016", "036c6162047465737400"), sport=40000, dport=53)
    assert field_text(d, "dns.qry.name") == "www.lab.test"
    assert field_text(d, "dns.extraneous.length") == "10"


def test_extended_and_reserved_labels() -> None:
    d = dissect(name_query("4105616263646500"), sport=40000, dport=53)
    assert field_text(d, "dns.qry.name") == "<Unknown extended label>"
    d = dissect(name_query("8161626300"), sport=40000, dport=53)
    assert [p.code for p in dns_layer(d).problems] == ["dns.name.bad_label"]


def test_name_length_limits() -> None:
    label63 = "3f" + "61" * 63
    ok = name_query(label63 * 3 + "3d" + "62" * 61 + "00")
    long = name_query(label63 * 3 + "3e" + "62" * 62 + "00")
    assert field_text(dissect(ok, sport=40000, dport=53), "dns.qry.name.len") == "253"
    assert field_text(dissect(long, sport=40000, dport=53), "dns.qry.name") == "<Name too long>"


def test_hostile_counts_and_lengths_are_problems_not_exceptions() -> None:
    huge_counts = "1234010000ffffffffffffff" + "0361626300" + "00010001" + "00" * 10
    d = dissect(huge_counts, sport=40000, dport=53)
    assert field_text(d, "dns.qry.name") == "abc,<Root>,<Root>"
    assert [p.code for p in dns_layer(d).problems] == ["dns.malformed"]
    rdlength_past_end = (
        "123481800001000100000000" + "016101620000010001" + "c00c000100010000003c0028" + "0a000001"
    )
    d = dissect(rdlength_past_end)
    assert [p.code for p in dns_layer(d).problems] == ["dns.malformed"]
    assert field_text(d, "dns.resp.name") == ""
    opt_past_rdata = (
        "123401000001000000000001" + "016101620000010001" + "0000291000000000000008" + "000a001401020304"
    )
    d = dissect(opt_past_rdata, sport=40000, dport=53)
    assert [p.code for p in dns_layer(d).problems] == ["dns.opt.length_past_rdata", "dns.malformed"]


def test_many_pointers_into_one_long_chain_stay_fast() -> None:
    # 4000 questions, each a pointer to a name that points on through 300 labels: linear work.
    chain = b"".join(bytes([1, 0x61]) for _ in range(300)) + b"\0"
    questions = b"".join(b"\xc0\x0c" + b"\x00\x01\x00\x01" for _ in range(4000))
    payload = struct.pack("!HHHHHH", 1, 0x0100, 4001, 0, 0, 0) + chain + b"\x00\x01\x00\x01" + questions
    started = time.perf_counter()
    d = dissect(payload.hex(), sport=40000, dport=53)
    assert time.perf_counter() - started < 20
    assert field_text(d, "dns.qry.name").split(",")[1] == "<Name too long>"


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=300))
def test_fuzz_random_payloads_never_raise(payload: bytes) -> None:
    d = dissect(payload.hex(), sport=40000, dport=53)
    data_len = len(d.frame.data)
    for layer in d.layers:
        for item in layer.walk():
            if item.offset >= 0:
                assert item.offset >= 0 and item.offset + item.length <= data_len, item


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=200), st.integers(0, 255), st.integers(0, 200))
def test_fuzz_mutated_real_message_never_raises(at: int, value: int, cut: int) -> None:
    base = bytearray(bytes.fromhex(NS))
    base[at % len(base)] = value
    d = dissect(bytes(base[: len(base) - cut % len(base)]).hex())
    assert d.layers[-1].proto in ("dns", "data")
