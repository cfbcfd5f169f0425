"""DHCP dissector: options, overload and hostile messages, checked against tshark 4.0's output.

Frames are Ethernet/IPv4/UDP 68 -> 67 built around hex BOOTP bodies; expected labels and values
were read from `tshark -V` / `-T fields` on the same bytes (`test_labels_equal_tshark` re-checks
them whenever tshark is installed).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.context import Preferences
from analyzer.export.fields import field_text
from analyzer.export.text import tree_lines
from analyzer.model import Dissection, Layer
from analyzer.pipeline import dissect_frame
from analyzer.session import iter_dissections
from analyzer.summary_dhcp import dhcp_info
from captures.frame import Frame
from captures.writer import write_pcap

DISCOVER = "350101"


def checksum(data: bytes) -> int:
    data += b"\0" * (len(data) % 2)
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)


def udp_frame(payload: bytes, sport: int = 68, dport: int = 67) -> bytes:
    src, dst = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    length = 8 + len(payload)
    udp = struct.pack("!HHHH", sport, dport, length, 0) + payload
    udp = (
        udp[:6]
        + struct.pack("!H", checksum(src + dst + struct.pack("!BBH", 0, 17, length) + udp) or 0xFFFF)
        + udp[8:]
    )
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, 1, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return bytes.fromhex("ffffffffffff0200000000010800") + ip + udp


def bootp(
    options_hex: str, *, op: int = 1, sname: bytes = b"", file: bytes = b"", cookie: bool = True
) -> bytes:
    head = struct.pack("!BBBBIHH", op, 1, 6, 0, 0x12345678, 0, 0) + bytes(16)
    head += bytes.fromhex("020000000001").ljust(16, b"\0") + sname.ljust(64, b"\0") + file.ljust(128, b"\0")
    return head + (b"\x63\x82\x53\x63" if cookie else b"") + bytes.fromhex(options_hex)


def option(code: int, value: bytes) -> str:
    return bytes([code, len(value)]).hex() + value.hex()


def dissect(payload: bytes, **ports: int) -> Dissection:
    data = udp_frame(payload, **ports)
    return dissect_frame(Frame(1, 0, data, len(data), 1), strict=True, prefs=Preferences(resolve_names=False))


def dhcp(found: Dissection) -> Layer:
    layer = found.layer("dhcp")
    assert layer is not None
    return layer


def labels(found: Dissection) -> list[str]:
    return [item.label for item in dhcp(found).walk() if not item.hidden]


def codes(found: Dissection) -> list[str]:
    return [problem.code for problem in dhcp(found).problems]


FQDN = bootp(DISCOVER + option(81, b"\x05\x00\x00\x06myhost\x07example\x03com\x00") + "ff")
RELAY = bootp(
    DISCOVER
    + option(
        82,
        bytes.fromhex("0106")
        + b"eth0/1"
        + bytes.fromhex("0204aabbccdd0504c0a80001")
        + bytes.fromhex("0402aabb"),
    )
    + "ff"
)
SEARCH = bootp(DISCOVER + option(119, b"\x03eng\x07example\x03com\x00\x05sales\xc0\x04") + "ff")
ROUTES = bootp(DISCOVER + option(121, bytes.fromhex("18c0a801c0a8010100c0a80101")) + "ff")
WPAD = bootp(DISCOVER + option(252, b"http://wpad/wpad.dat") + "ff")
OVERLOAD = bootp(
    "350102" + option(52, b"\x03") + "ff",
    op=2,
    sname=bytes.fromhex(option(66, b"tftp.example") + "ff"),
    file=bytes.fromhex(option(67, b"pxelinux.0") + "00"),
)
SPLIT_SEARCH = bootp(DISCOVER + option(119, b"\x03eng\x07exam") + option(119, b"ple\x03com\x00") + "ff")
ALL_FRAMES = [FQDN, RELAY, SEARCH, ROUTES, WPAD, OVERLOAD, SPLIT_SEARCH]


def test_client_fqdn_binary_name() -> None:
    found = dissect(FQDN)
    assert "Flags: 0x05, Encoding, Server" in labels(found)
    assert "Client name: myhost.example.com" in labels(found)
    assert field_text(found, "dhcp.fqdn.e") == "1"
    assert field_text(found, "dhcp.fqdn.mbz") == "0x00"


def test_relay_agent_suboptions() -> None:
    found = dissect(RELAY)
    assert "Option 82 Suboption: (5) Link selection (192.168.0.1)" in labels(found)
    assert field_text(found, "dhcp.option.agent_information_option.agent_circuit_id") == "657468302f31"
    assert field_text(found, "dhcp.option.agent_information_option.link_selection") == "192.168.0.1"
    assert codes(found) == ["dhcp.bad_length", "dhcp.subopt.unknown_type"]


def test_domain_search_with_compression() -> None:
    found = dissect(SEARCH)
    assert (
        field_text(found, "dhcp.option.dhcp_dns_domain_search_list_fqdn")
        == "eng.example.com,sales.example.com"
    )


def test_domain_search_split_over_two_options() -> None:
    found = dissect(SPLIT_SEARCH)
    assert field_text(found, "dhcp.option.dhcp_dns_domain_search_list_rfc_3396_detected") == "1/2,2/2"
    assert field_text(found, "dhcp.option.dhcp_dns_domain_search_list_fqdn") == "eng.example.com"


def test_classless_static_routes() -> None:
    found = dissect(ROUTES)
    assert " 192.168.1.0/24-192.168.1.1" in labels(found)
    assert " default-192.168.1.1" in labels(found)
    assert field_text(found, "dhcp.option.classless_static_route") == "18c0a801c0a80101,00c0a80101"


def test_proxy_autodiscovery() -> None:
    found = dissect(WPAD)
    assert field_text(found, "dhcp.option.private_proxy_autodiscovery") == "http://wpad/wpad.dat"


def test_overload_reads_sname_and_file() -> None:
    found = dissect(OVERLOAD)
    assert field_text(found, "dhcp.option.tftp_server_name") == "tftp.example"
    assert field_text(found, "dhcp.option.bootfile_name") == "pxelinux.0"
    assert field_text(found, "dhcp.server") == ""
    assert "dhcp.option.option_overload.file_end_missing" in codes(found)
    assert dhcp(found).label == "Dynamic Host Configuration Protocol (Offer)"


def test_option_past_end_of_packet_is_malformed() -> None:
    found = dissect(bootp(DISCOVER + "0f28616263"))
    assert codes(found) == ["dhcp.malformed"]
    assert "Length: 40" in labels(found)


def test_end_missing() -> None:
    found = dissect(bootp(DISCOVER + option(12, b"host")))
    assert codes(found) == ["dhcp.end_option_missing"]


def test_shorter_than_fixed_header() -> None:
    found = dissect(bootp(DISCOVER + "ff")[:200])
    assert codes(found) == ["dhcp.malformed"]
    assert field_text(found, "dhcp.id") == "0x12345678"


def test_request_list_of_255_items() -> None:
    found = dissect(bootp(DISCOVER + "37ff" + bytes(range(1, 256)).hex() + "ff"))
    items = found.values("dhcp.option.request_list_item")
    assert len(items) == 255
    assert items[-1].label == "Parameter Request List Item: (255) End"


def test_domain_search_pointer_loop() -> None:
    found = dissect(bootp(DISCOVER + option(119, b"\x03abc\xc0\x00") + "ff"))
    assert (
        field_text(found, "dhcp.option.dhcp_dns_domain_search_list_fqdn")
        == "<Name contains a pointer that loops>"
    )


def test_overload_without_end_in_sname() -> None:
    found = dissect(bootp("350102" + option(52, b"\x02") + "ff", sname=b"\x0c\x01a"))
    assert "dhcp.option.option_overload.sname_end_missing" in codes(found)


def test_heuristic_on_other_ports() -> None:
    found = dissect(bootp(DISCOVER + "ff"), sport=1000, dport=2000)
    assert found.protocols.endswith("udp:dhcp")
    plain = dissect(b"x" * 300, sport=1000, dport=2000)
    assert plain.layer("dhcp") is None


def test_info_column() -> None:
    payload = bootp(DISCOVER + "ff")
    assert dhcp_info(payload, 0, len(payload)) == "DHCP Discover - Transaction ID 0x12345678"
    plain = bootp(option(12, b"h") + "ff")
    assert dhcp_info(plain, 0, len(plain)) == "Boot Request from 02:00:00:00:00:01 (02:00:00:00:00:01)"
    assert dhcp_info(b"\x01", 0, 1) is None


def test_info_matches_tshark_on_dhcp_capture() -> None:
    capture = Path(__file__).resolve().parents[1] / "data" / "dhcp.pcap"
    want = [
        "DHCP Discover - Transaction ID",
        "DHCP Offer    - Transaction ID",
        "DHCP Request  - Transaction ID",
        "DHCP ACK      - Transaction ID",
    ]
    seen = []
    for found in iter_dissections(capture, strict=True):
        layer = found.layer("dhcp")
        if layer is not None:
            info = dhcp_info(found.frame.data, layer.offset, layer.end)
            assert info is not None
            seen.append(info.rsplit(" ", 1)[0])
    assert seen[:4] == want
    assert seen[-1] == "DHCP Release  - Transaction ID"


def section(lines: list[str]) -> list[str]:
    out, inside = [], False
    for line in lines:
        if line.startswith("Dynamic Host") or line.startswith("[Malformed"):
            inside = True
        elif line and not line.startswith(" "):
            inside = False
        if inside:
            out.append(line)
    return out


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_labels_equal_tshark(tmp_path: Path) -> None:
    frames = [Frame(i + 1, i * 1000, udp_frame(p), len(udp_frame(p)), 1) for i, p in enumerate(ALL_FRAMES)]
    path = tmp_path / "dhcp-options.pcap"
    write_pcap(path, frames, 1)
    output = subprocess.run(
        ["tshark", "-n", "-V", "-r", str(path)], capture_output=True, text=True, check=True
    )
    theirs = output.stdout.split("\n\n")
    for index, frame in enumerate(frames):
        ours = dissect_frame(frame, strict=True, prefs=Preferences(resolve_names=False))
        assert section(list(tree_lines(ours, data_hex=False))) == section(theirs[index].split("\n"))


@settings(max_examples=300, deadline=None)
@given(
    payload=st.binary(min_size=0, max_size=400),
    port=st.sampled_from([67, 68]),
    base=st.sampled_from([0, 1, 2]),
)
def test_fuzz_never_raises_and_fields_stay_inside(payload: bytes, port: int, base: int) -> None:
    # Mix pure noise with mutated real-looking messages so the option loop is exercised.
    if base:
        payload = bootp(payload.hex(), op=base)[: 240 + len(payload)]
    data = udp_frame(payload, sport=port, dport=port)
    found = dissect_frame(Frame(1, 0, data, len(data), 1), strict=True)
    layer = found.layer("dhcp")
    if layer is None:
        return
    for item in layer.walk():
        if item.offset >= 0:
            assert layer.offset <= item.offset and item.offset + item.length <= min(layer.end, len(data))
    assert isinstance(dhcp_info(data, layer.offset, len(data)), str | None)
