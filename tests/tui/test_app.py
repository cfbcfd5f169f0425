"""The TUI driven through Textual's pilot on real captures: tree, hex highlight, filter, G, escaping."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from analyzer.model import Field
from analyzer.tui.app import LayerscopeApp
from analyzer.tui.hex_pane import HexPane
from analyzer.tui.packet_list import PacketList
from analyzer.tui.tree_pane import LayerTree, TreeItem
from captures.frame import Frame
from captures.pcapfile import open_capture
from captures.samples import sample_path
from captures.writer import write_pcap

ROOT = Path(__file__).resolve().parents[2]
HTTP = ROOT / "tests" / "data" / "http.pcap"
ICMP = ROOT / "tests" / "data" / "icmp.pcap"


async def _settle(
    app: LayerscopeApp, pilot: Pilot[int], done: Callable[[], bool], limit: float = 30.0
) -> None:
    """Let the workers run until `done()` (or fail after `limit` seconds)."""
    waited = 0.0
    while not done():
        await pilot.pause(0.05)
        waited += 0.05
        assert waited < limit, "the TUI did not get there in time"


def _indexed(app: LayerscopeApp) -> Callable[[], bool]:
    return lambda: app.indexing_done and app.packet_list.count == len(app.index)


def _screen_text(app: LayerscopeApp) -> list[str]:
    """Every character the compositor would send, line by line (no styles)."""
    update = app.screen._compositor.render_full_update()
    return ["".join(segment.text for segment in strip) for strip in update.strips]


def _cursor_item(tree: LayerTree) -> object:
    node = tree.cursor_node
    return node.data.item if node is not None and isinstance(node.data, TreeItem) else None


def test_tcp_tree_shows_flags_and_hex_highlights_the_field() -> None:
    async def run() -> None:
        app = LayerscopeApp(HTTP)
        async with app.run_test(size=(120, 40)) as pilot:
            await _settle(app, pilot, _indexed(app))
            packet_list = app.query_one(PacketList)
            assert packet_list.go_to_packet(2)  # frame 3: the first SYN
            await pilot.pause(0.1)
            tree = app.query_one(LayerTree)
            # The stream-aware tree replaces the single-frame one once the prefix is replayed.
            await _settle(
                app, pilot, lambda: tree.dissection is not None and tree.dissection.frame.number == 3
            )
            await _settle(
                app,
                pilot,
                lambda: tree.dissection is not None and tree.dissection.first("tcp.stream") is not None,
            )
            dissection = tree.dissection
            assert dissection is not None
            flags = dissection.first("tcp.flags")
            syn = dissection.first("tcp.flags.syn")
            assert flags is not None and syn is not None
            assert tree.reveal(syn)
            await _settle(app, pilot, lambda: _cursor_item(tree) is syn)
            lines = _screen_text(app)
            assert any("Flags: 0x002 (SYN)" in line for line in lines)
            assert any(".... .... ..1. = Syn: Set" in line for line in lines)
            hex_pane = app.query_one(HexPane)
            assert hex_pane.highlight == (syn.offset, syn.length)
            # Select the ports: two bytes at 34 in an Ethernet/IPv4 frame, exactly highlighted.
            port = dissection.first("tcp.srcport")
            assert port is not None and tree.reveal(port)
            await _settle(app, pilot, lambda: _cursor_item(tree) is port)
            assert hex_pane.highlight == (34, 2)
            highlighted = [
                segment.text
                for y in range(hex_pane.size.height)
                for segment in hex_pane.render_line(y)
                if segment.style is not None and segment.style.bgcolor == _highlight_bg(hex_pane)
            ]
            assert "".join(highlighted).replace(" ", "") == dissection.frame.data[34:36].hex() + ".R"

    asyncio.run(run())


def _highlight_bg(hex_pane: HexPane) -> object:
    return hex_pane.get_component_rich_style("hex-pane--highlight").bgcolor


def test_clicking_a_byte_selects_the_smallest_field() -> None:
    async def run() -> None:
        app = LayerscopeApp(HTTP)
        async with app.run_test(size=(120, 40)) as pilot:
            await _settle(app, pilot, _indexed(app))
            app.query_one(PacketList).go_to_packet(2)
            await pilot.pause(0.2)
            hex_pane = app.query_one(HexPane)
            # Byte 23 is the IPv4 protocol field; its hex cell is on line 1, column 7.
            x = 6 + 7 * 3
            tree = app.query_one(LayerTree)
            await _settle(
                app, pilot, lambda: tree.dissection is not None and tree.dissection.frame.number == 3
            )
            await pilot.click(HexPane, offset=(x, 1 + 1))  # +1 for the pane's top border
            await _settle(app, pilot, lambda: isinstance(_cursor_item(tree), Field))
            node = tree.cursor_node
            assert node is not None and isinstance(node.data, TreeItem)
            assert isinstance(node.data.item, Field) and node.data.item.name == "ip.proto"
            assert hex_pane.highlight == (23, 1)

    asyncio.run(run())


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        (HTTP, "tcp.flags.syn == 1", 10),  # tshark -r http.pcap -Y 'tcp.flags.syn == 1' | wc -l
        (HTTP, "tcp.len > 0", 161),
        (ICMP, "icmp.type == 8", 8),
        (sample_path(), "dns", 6),
    ],
)
def test_filter_narrows_the_list_to_tsharks_count(path: Path, text: str, expected: int) -> None:
    async def run() -> None:
        app = LayerscopeApp(path)
        async with app.run_test(size=(100, 30)) as pilot:
            await _settle(app, pilot, _indexed(app))
            await pilot.press("slash")
            await pilot.press(*text)
            await pilot.press("enter")
            await _settle(
                app, pilot, lambda: app.status.status.filtering is None and app.display_filter is not None
            )
            packet_list = app.query_one(PacketList)
            assert packet_list.displayed == expected
            assert app.status.status.displayed == expected
            assert app.status.status.filter_text == text
            # Every displayed row matches; Esc in the filter bar brings every packet back.
            await pilot.press("slash", "escape")
            await pilot.pause(0.1)
            assert packet_list.displayed == len(app.index)

    asyncio.run(run())


def test_bad_filter_shows_error_position_and_is_not_applied() -> None:
    async def run() -> None:
        app = LayerscopeApp(HTTP)
        async with app.run_test(size=(100, 30)) as pilot:
            await _settle(app, pilot, _indexed(app))
            await pilot.press("slash", *"ip.src == 300.1.1.1", "enter")
            await pilot.pause(0.1)
            bar = app.query_one("#filter-bar")
            assert bar.has_class("-invalid")
            assert any("column 11" in line for line in _screen_text(app))
            assert app.query_one(PacketList).displayed == 288

    asyncio.run(run())


@pytest.fixture(scope="module")
def big_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200,000 packets: http.pcap's records repeated, one microsecond apart."""
    with open_capture(HTTP) as reader:
        frames = list(reader)
    target = tmp_path_factory.mktemp("tui") / "big.pcap"

    def repeated() -> object:
        for number in range(200_000):
            frame = frames[number % len(frames)]
            yield Frame(number + 1, 1_700_000_000_000_000_000 + number * 1000, frame.data, frame.wire_len, 1)

    write_pcap(target, repeated(), 1)  # type: ignore[arg-type]
    return target


def test_G_on_a_large_capture_shows_its_last_packet(big_capture: Path) -> None:
    async def run() -> None:
        app = LayerscopeApp(big_capture)
        async with app.run_test(size=(100, 30)) as pilot:
            await _settle(app, pilot, _indexed(app), limit=120)
            await pilot.press("G")
            await pilot.pause(0.2)
            packet_list = app.query_one(PacketList)
            assert packet_list.selected_packet == 199_999
            assert any(line.lstrip().startswith("200000 ") for line in _screen_text(app))
            # Go to packet 12345 with g, typed digits and Enter.
            await pilot.press("g", *"12345", "enter")
            await pilot.pause(0.2)
            assert packet_list.selected_packet == 12_344
            tree = app.query_one(LayerTree)
            assert tree.dissection is not None and tree.dissection.frame.number == 12_345

    asyncio.run(run())


def test_80x24_renders_every_pane() -> None:
    async def run() -> None:
        app = LayerscopeApp(sample_path(), start_screen=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await _settle(app, pilot, _indexed(app))
            await pilot.press("enter")  # leave the start screen
            await pilot.press("down", "2", "right", "3", "t", "n", "z", "q", "question_mark")
            await pilot.pause(0.2)
            assert any("Layerscope keys" in line for line in _screen_text(app))
            await pilot.press("escape")
            await pilot.pause(0.1)
            lines = _screen_text(app)
            assert len(lines) == 24 and all(len(line) == 80 for line in lines)
            assert any("Packets [1]" in line for line in lines)
            assert any("Layers [2]" in line for line in lines)
            assert any("Bytes [3]" in line for line in lines)
            assert any("Packets: 33" in line for line in lines)

    asyncio.run(run())


def _udp_frame(number: int, port: int, payload: bytes) -> Frame:
    udp = struct.pack("!HHHH", 40000, port, 8 + len(payload), 0) + payload
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, b"\x0a\0\0\x01", b"\x0a\0\0\x02"
    )
    eth = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00"
    data = eth + ip + udp
    return Frame(number, 1_700_000_000_000_000_000 + number, data, len(data), 1)


def test_packet_bytes_never_reach_the_screen_raw(tmp_path: Path) -> None:
    # A DNS query for "\x1b[31mevil\r\x07.example" and a UDP payload holding an escape sequence.
    name = b"\x0c\x1b[31mevil\r\x07\x9b" + b"\x07example\x00"
    dns = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + name + b"\x00\x01\x00\x01"
    path = tmp_path / "hostile.pcap"
    write_pcap(path, [_udp_frame(1, 53, dns), _udp_frame(2, 9999, b"\x1b[31mred\x1b]0;title\x07\x1b[2J")], 1)

    async def run() -> None:
        app = LayerscopeApp(path)
        async with app.run_test(size=(160, 48)) as pilot:
            await _settle(app, pilot, _indexed(app))
            for packet in (0, 1):
                app.query_one(PacketList).go_to_packet(packet)
                await pilot.pause(0.2)
                await pilot.press("2", "e")
                await pilot.pause(0.2)
                for line in _screen_text(app):
                    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in line), repr(line)
            # The name is still shown, escaped the way tshark prints it.
            assert any("\\033[31mevil" in line for line in _screen_text(app))

    asyncio.run(run())


def test_rows_carry_tshark_analysis_tags_once_analysed() -> None:
    """The index rows have no TCP analysis tags; the analysis pass adds them, as tshark shows them."""
    capture = ROOT / "tests" / "data" / "tcp-lossy.pcap"
    golden = ROOT / "tests" / "golden" / "out" / "summary" / "tcp-lossy.pcap.cols"
    expected = [line.split("\t")[7] for line in golden.read_text(encoding="utf-8").splitlines()]

    async def run() -> None:
        app = LayerscopeApp(capture)
        async with app.run_test(size=(160, 40)) as pilot:
            await _settle(app, pilot, lambda: app.view_facts.complete and app.status.status.analysing is None)
            await pilot.pause(0.2)
            packet_list = app.query_one(PacketList)
            infos = [packet_list.row(packet).info for packet in range(packet_list.count)]
            assert infos == expected
            assert sum("[TCP " in info for info in infos) > 100
            assert packet_list.go_to_packet(21)  # frame 22: "[TCP Dup ACK 20#1] "
            await pilot.pause(0.2)
            assert any("[TCP Dup ACK 20#1] 44454 → 5201 [ACK]" in line for line in _screen_text(app))

    asyncio.run(run())
