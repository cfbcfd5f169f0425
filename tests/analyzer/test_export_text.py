"""The -V tree renderer: tshark's indentation, hidden fields, nesting, expert info and escaping."""

from __future__ import annotations

from analyzer.export.text import tree_lines, tree_text
from analyzer.model import Dissection, Field, Layer, Severity
from captures.frame import Frame

DATA = bytes.fromhex("4501001c00010000401100000a0000010a000002") + b"payload!"


def field(
    name: str,
    label: str,
    offset: int,
    length: int,
    mask: int = 0,
    generated: bool = False,
    hidden: bool = False,
) -> Field:
    return Field(name, label, None, "", offset, length, mask, generated, hidden)


def sample() -> Dissection:
    frame = Frame(1, 0, DATA, len(DATA), 228)
    top = Layer("frame", "Frame 1: 28 bytes", 0, len(DATA))
    top.add(field("frame.number", "Frame Number: 1", -1, 0, generated=True))
    ip = Layer("ip", "Internet Protocol Version 4", 0, 20, short_name="IPv4")
    ip.add(field("ip.version", "0100 .... = Version: 4", 0, 1, mask=0xF0))
    ip.add(field("ip.hdr_len", ".... 0101 = Header Length: 20 bytes (5)", 0, 1, mask=0x0F))
    dsfield = ip.add(field("ip.dsfield", "Differentiated Services Field: 0x01", 1, 1))
    dsfield.add(field("ip.dsfield.ecn", ".... ..01 = ECN: ECT(1)", 1, 1, mask=3))
    hidden = ip.add(field("ip.addr", "Source or Destination Address: 10.0.0.1", 12, 4, hidden=True))
    hidden.add(field("ip.host", "Host: 10.0.0.1", 12, 4))
    ip.add(field("ip.src", "Source Address: 10.0.0.1", 12, 4))
    nested = Layer("udp", "User Datagram Protocol", 20, 8, depth=1, short_name="UDP")
    nested.add(field("udp.srcport", "Source Port: 53", 20, 2))
    return Dissection(frame, [top, ip, nested])


def test_layout_follows_tshark_indentation() -> None:
    assert tree_text(sample()).split("\n") == [
        "Frame 1: 28 bytes",
        "    Frame Number: 1",
        "Internet Protocol Version 4",
        "    0100 .... = Version: 4",
        "    .... 0101 = Header Length: 20 bytes (5)",
        "    Differentiated Services Field: 0x01",
        "        .... ..01 = ECN: ECT(1)",
        "    Source Address: 10.0.0.1",
        "    User Datagram Protocol",
        "        Source Port: 53",
        "",
    ]


def test_problem_goes_under_the_field_its_code_names() -> None:
    dissection = sample()
    ip = dissection.layers[1]
    ip.problem("ip.bad_hdr_len", "Bogus IP header length", Severity.ERROR, 0, 1, group="Protocol")
    lines = list(tree_lines(dissection))
    at = lines.index("    .... 0101 = Header Length: 20 bytes (5)")
    assert lines[at + 1 : at + 5] == [
        "        [Expert Info (Error/Protocol): Bogus IP header length]",
        "            [Bogus IP header length]",
        "            [Severity level: Error]",
        "            [Group: Protocol]",
    ]
    assert lines[at - 1] == "    0100 .... = Version: 4"


def test_problem_without_bytes_ends_its_layer_and_hidden_fields_never_anchor() -> None:
    dissection = sample()
    ip = dissection.layers[1]
    ip.problem("ip.note", "Something odd", Severity.NOTE, group="Sequence")
    ip.problem("ip.addr_odd", "Odd address", Severity.WARNING, 12, 4)
    lines = list(tree_lines(dissection))
    at = lines.index("    Source Address: 10.0.0.1")
    assert lines[at + 1] == "        [Expert Info (Warning/Malformed): Odd address]"
    assert lines[at + 5] == "    [Expert Info (Note/Sequence): Something odd]"
    assert lines[at + 9] == "    User Datagram Protocol"


def test_pipeline_problems_become_tshark_top_level_items() -> None:
    dissection = sample()
    dissection.layers[1].problem(
        "ip.truncated", "Packet size limited during capture: IPv4 truncated", Severity.WARNING, 20, 0
    )
    dissection.layers[2].problem("udp.malformed", "Malformed UDP: needed 2 bytes", Severity.ERROR, 22, 0)
    lines = list(tree_lines(dissection))
    assert lines[-6:] == [
        "[Packet size limited during capture: IPv4 truncated]",
        "[Malformed Packet: UDP]",
        "    [Expert Info (Error/Malformed): Malformed Packet (Exception occurred)]",
        "        [Malformed Packet (Exception occurred)]",
        "        [Severity level: Error]",
        "        [Group: Malformed]",
    ]


def test_data_layer_carries_its_hex_dump_unless_the_frame_is_dumped() -> None:
    frame = Frame(1, 0, DATA, len(DATA), 228)
    data = Layer("data", "Data (8 bytes)", 20, 8)
    data.add(field("data.data", "Data: 7061796c6f616421", 20, 8))
    dissection = Dissection(frame, [data])
    assert list(tree_lines(dissection)) == [
        "Data (8 bytes)",
        "",
        "0000  70 61 79 6c 6f 61 64 21                           payload!",
        "    Data: 7061796c6f616421",
    ]
    assert list(tree_lines(dissection, data_hex=False)) == ["Data (8 bytes)", "    Data: 7061796c6f616421"]


def test_hostile_labels_are_escaped_as_tshark_does() -> None:
    frame = Frame(1, 0, DATA, len(DATA), 228)
    layer = Layer("http", "Hypertext Transfer Protocol\x1b]0;owned\x07", 0, 4)
    layer.add(field("http.request.uri", "GET /a\\b\x1b[31m\x01\x7f\x85\u202e HTTP/1.1\r\n", 0, 4))
    lines = list(tree_lines(Dissection(frame, [layer])))
    assert lines == [
        "Hypertext Transfer Protocol\\033]0;owned\\a",
        "    GET /a\\b\\033[31m\\001\\177\\u0085\\u202e HTTP/1.1\\r\\n",
    ]


def test_flag_problems_go_under_the_flag_tshark_chooses() -> None:
    frame = Frame(1, 0, DATA, len(DATA), 228)
    tcp = Layer("tcp", "Transmission Control Protocol", 0, 20, short_name="TCP")
    flags = tcp.add(field("tcp.flags", "Flags: 0x016", 12, 2, mask=0xFFF))
    bits = (("ack", "Acknowledgment", True), ("reset", "Reset", True), ("syn", "Syn", False))
    for name, label, value in bits:
        flags.add(Field(f"tcp.flags.{name}", f"{label}: {value}", value, "1", 13, 1, mask=1))
    flags.add(Field("tcp.flags.fin", "Fin: False", False, "0", 13, 1, mask=1))
    tcp.problem("tcp.connection.synack", "SYN+ACK", Severity.CHAT, 13, 1, group="Sequence")
    tcp.problem("tcp.connection.rst", "RST", Severity.WARNING, 13, 1, group="Sequence")
    lines = list(tree_lines(Dissection(frame, [tcp])))
    expert = "            [Expert Info"
    assert lines[lines.index("        Syn: False") + 1] == f"{expert} (Chat/Sequence): SYN+ACK]"
    assert lines[lines.index("        Reset: True") + 1] == f"{expert} (Warning/Sequence): RST]"
    assert lines[lines.index("        Acknowledgment: True") + 1] == "        Reset: True"
