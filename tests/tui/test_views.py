"""The TUI's views (follow, conversations, handshakes, transactions, statistics, search) driven
through Textual's pilot on real captures, plus their pure helpers."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList

from analyzer.session import iter_dissections
from analyzer.tui.app import LayerscopeApp
from analyzer.tui.filter_bar import FilterBar
from analyzer.tui.views_collect import ViewFacts, collect
from analyzer.tui.views_conversations import ConversationsScreen
from analyzer.tui.views_follow import FollowScreen, follow_lines
from analyzer.tui.views_handshakes import HandshakesScreen
from analyzer.tui.views_search import SearchQuery
from analyzer.tui.views_stats import StatsScreen, capinfos_size, capture_properties, hierarchy_lines
from analyzer.tui.views_transactions import TransactionsScreen
from captures.samples import sample_path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
HTTP, DNS, DHCP, TCP_RST = DATA / "http.pcap", DATA / "dns.pcap", DATA / "dhcp.pcap", DATA / "tcp-rst.pcap"
TSHARK = shutil.which("tshark")
CAPINFOS = shutil.which("capinfos")
sys.path.insert(0, str(ROOT / "tests" / "golden"))
from make_goldens import PREFS  # type: ignore[import-not-found]  # noqa: E402


async def _settle(pilot: Pilot[int], done: Callable[[], bool], limit: float = 60.0) -> None:
    waited = 0.0
    while not done():
        await pilot.pause(0.05)
        waited += 0.05
        assert waited < limit, "the TUI did not get there in time"


def _analysed(app: LayerscopeApp) -> Callable[[], bool]:
    return lambda: app.indexing_done and app.view_facts.complete and app.dissectors_ready


def _screen_text(app: LayerscopeApp) -> list[str]:
    update = app.screen._compositor.render_full_update()
    return ["".join(segment.text for segment in strip) for strip in update.strips]


def _no_control_characters(lines: list[str]) -> bool:
    return not any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for line in lines for char in line)


# -- conversations --------------------------------------------------------------------------------


def test_conversations_sort_and_enter_filters_to_the_stream() -> None:
    async def run() -> None:
        app = LayerscopeApp(HTTP)
        async with app.run_test(size=(160, 48)) as pilot:
            await _settle(pilot, _analysed(app))
            await pilot.press("C")
            await _settle(pilot, lambda: isinstance(app.screen, ConversationsScreen))
            screen = app.screen
            assert isinstance(screen, ConversationsScreen)
            table = screen.query_one(DataTable)
            assert table.row_count == 5
            screen.sort_by(11, descending=True)  # "Bytes ←": the big download first
            await pilot.pause(0.05)
            assert screen.rows[0].stream == 4
            assert screen.rows[0].resp_bytes >= screen.rows[-1].resp_bytes
            await pilot.press("r")  # reversed: ascending
            assert screen.rows[-1].stream == 4
            await pilot.press("down", "enter")
            await _settle(pilot, lambda: not isinstance(app.screen, ConversationsScreen))
            chosen = app.query_one(FilterBar).input.value
            assert re.fullmatch(r"tcp\.stream == \d", chosen)
            await _settle(pilot, lambda: app.packet_list.displayed == 12 and app.display_filter is not None)
            assert any(f"== {chosen[-1]}" in line for line in _screen_text(app))

    asyncio.run(run())


# -- handshakes -------------------------------------------------------------------------------------


def test_handshake_board_ladder_marks_resets_and_enter_jumps() -> None:
    async def run() -> None:
        app = LayerscopeApp(TCP_RST)
        async with app.run_test(size=(160, 48)) as pilot:
            await _settle(pilot, _analysed(app))
            await pilot.press("H")
            await _settle(pilot, lambda: isinstance(app.screen, HandshakesScreen))
            screen = app.screen
            assert isinstance(screen, HandshakesScreen)
            states = {connection.conn_state for connection in screen.connections}
            assert states & {"REJ", "RSTO", "RSTR", "RSTOS0", "RSTRH"}
            resets = [screen.facts.resets.get(connection.stream, 0) for connection in screen.connections]
            assert sum(resets) >= 1
            # Move to a connection with a reset and look at its ladder.
            row = next(position for position, count in enumerate(resets) if count)
            for _ in range(row):
                await pilot.press("down")
            await pilot.pause(0.1)
            ladder = screen.query_one(OptionList)
            assert ladder.option_count == len(screen.steps) > 0
            text = "\n".join(_screen_text(app))
            assert "RST" in text and "▶│" in text and "│◀" in text
            # Enter on the table focuses the ladder; Enter on an arrow goes to its packet.
            await pilot.press("enter")
            assert ladder.has_focus
            await pilot.press("down", "enter")
            wanted = screen.steps[1].frame
            await _settle(pilot, lambda: not isinstance(app.screen, HandshakesScreen))
            assert app.packet_list.selected_packet == wanted - 1

    asyncio.run(run())


def test_handshake_timings_on_http() -> None:
    facts = ViewFacts(1000)
    collect(iter_dissections(HTTP), facts)
    connections = facts.connections()
    assert len(connections) == 5
    first = connections[0]
    assert (
        first.handshake.syn_frame == 3
        and first.handshake.synack_frame == 4
        and first.handshake.ack_frame == 5
    )
    assert first.handshake.syn_to_synack_ns == 15_000 and first.handshake.synack_to_ack_ns == 11_000
    steps = facts.ladders[0]
    assert [step.frame for step in steps] == list(range(3, 15))
    assert [step.from_orig for step in steps[:3]] == [True, False, True]


# -- transactions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("capture", "table", "rows", "expected"),
    [
        (DNS, "#dns", 13, "No such name"),
        (DHCP, "#dhcp", 3, "DISCOVER → OFFER → REQUEST → ACK"),
        (HTTP, "#http", 6, "404 File not found"),
    ],
)
def test_transactions(capture: Path, table: str, rows: int, expected: str) -> None:
    async def run() -> None:
        app = LayerscopeApp(capture)
        async with app.run_test(size=(160, 48)) as pilot:
            await _settle(pilot, _analysed(app))
            await pilot.press("T")
            await _settle(pilot, lambda: isinstance(app.screen, TransactionsScreen))
            screen = app.screen
            found = screen.query_one(table, DataTable)
            assert found.row_count == rows
            cells = [str(cell) for row in range(found.row_count) for cell in found.get_row_at(row)]
            assert expected in cells
            assert any(expected in line for line in _screen_text(app))
            first_frame = int(str(found.get_row_at(0)[0]).split(",")[0])
            await pilot.press("enter")
            await _settle(pilot, lambda: not isinstance(app.screen, TransactionsScreen))
            assert app.packet_list.selected_packet == first_frame - 1

    asyncio.run(run())


def test_dns_transactions_pair_answers_and_times() -> None:
    facts = ViewFacts(1000)
    collect(iter_dissections(DNS), facts)
    first = facts.dns[0]
    assert (first.frame, first.response_frame, first.name, first.qtype) == (3, 4, "www.lab.test", "A")
    assert first.answers == ["10.77.0.80"] and first.time_s == pytest.approx(0.000303)
    assert {row.transport for row in facts.dns} == {"UDP", "TCP"}


# -- statistics -------------------------------------------------------------------------------------


def _tshark_phs(capture: Path) -> list[str]:
    assert TSHARK is not None
    command = [TSHARK, "-r", str(capture), "-q", "-z", "io,phs"]
    for pref in PREFS:
        command += ["-o", pref]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if "frames:" in line]


@pytest.mark.skipif(TSHARK is None, reason="tshark is the oracle")
@pytest.mark.parametrize(
    "name", ["http.pcap", "dns.pcap", "dhcp.pcap", "icmp.pcap", "vlan.pcap", "ipv6.pcap"]
)
def test_protocol_hierarchy_equals_tshark(name: str) -> None:
    facts = ViewFacts(100_000)
    collect(iter_dissections(DATA / name), facts)
    assert hierarchy_lines(facts) == _tshark_phs(DATA / name)


@pytest.mark.skipif(CAPINFOS is None, reason="capinfos is the oracle")
@pytest.mark.parametrize("name", ["http.pcap", "nano.pcap", "multi.pcapng", "http.pcap.gz", "bigendian.pcap"])
def test_capture_properties_equal_capinfos(name: str) -> None:
    assert CAPINFOS is not None
    path = str(DATA / name)
    out = subprocess.run([CAPINFOS, path], capture_output=True, text=True, check=True).stdout
    theirs = dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition(":") for line in out.splitlines())
        if value
    )
    facts = ViewFacts(100_000)
    collect(iter_dissections(path), facts)
    for key, value in capture_properties(path, facts):
        assert theirs[key] == value, key


def test_capinfos_size_units() -> None:
    assert capinfos_size(1000) == "1000 bytes"
    assert capinfos_size(225_969) == "225 kB"
    assert capinfos_size(1_397_474, "bps", "bits/s") == "1397 kbps"
    assert capinfos_size(2508, "bps", "bits/s") == "2508 bits/s"
    assert capinfos_size(12_345_678) == "12 MB"


def test_statistics_screen_on_the_sample_at_80x24() -> None:
    async def run() -> None:
        app = LayerscopeApp(sample_path())
        async with app.run_test(size=(80, 24)) as pilot:
            await _settle(pilot, _analysed(app))
            await pilot.press("S")
            await _settle(pilot, lambda: isinstance(app.screen, StatsScreen))
            await pilot.pause(0.1)
            lines = _screen_text(app)
            assert any("Number of packets:" in line and "33" in line for line in lines)
            assert len(lines) == 24 and all(len(line) == 80 for line in lines)
            await pilot.press("q")
            await _settle(pilot, lambda: not isinstance(app.screen, StatsScreen))
            # Every view opens and closes on the sample.
            for key in ("C", "H", "T"):
                await pilot.press(key)
                await pilot.pause(0.2)
                assert _no_control_characters(_screen_text(app))
                await pilot.press("escape")
                await pilot.pause(0.1)
            assert app.screen is app.screen_stack[0]

    asyncio.run(run())


# -- follow ------------------------------------------------------------------------------------------


def test_follow_lines_never_carry_control_characters() -> None:
    from analyzer.export.follow import Chunk, FollowResult

    result = FollowResult(("10.0.0.1", 1), ("10.0.0.2", 2), [Chunk(False, b"\x1b[31mred\r\n\x07bell\x00", 7)])
    for mode in ("ascii", "hex", "raw"):
        lines = follow_lines(result, mode)
        assert lines and _no_control_characters([line.text for line in lines])
    assert [line.text for line in follow_lines(result, "ascii")] == [".[31mred", ".bell."]
    assert follow_lines(result, "ascii", "server") == []


def test_follow_stream_modes_search_jump_and_save(tmp_path: Path) -> None:
    async def run() -> None:
        app = LayerscopeApp(HTTP)
        async with app.run_test(size=(160, 48)) as pilot:
            await _settle(pilot, _analysed(app))
            assert app.packet_list.go_to_packet(17)  # frame 18: GET /no-such-page
            await pilot.press("f")
            await _settle(
                pilot, lambda: isinstance(app.screen, FollowScreen) and app.screen.result is not None
            )
            screen = app.screen
            assert isinstance(screen, FollowScreen)
            assert (screen.proto, screen.stream) == ("tcp", 1)
            texts = [line.text for line in screen.lines]
            assert texts[0] == "GET /no-such-page HTTP/1.1"
            assert any(text.startswith("HTTP/1.1 404") for text in texts)
            assert {line.server for line in screen.lines} == {False, True}
            await pilot.press("d")  # client only
            assert screen.direction == "client" and not any(line.server for line in screen.lines)
            await pilot.press("d", "d", "x")  # both again, hex
            assert screen.mode == "hex" and screen.lines[0].text.startswith("00000000  47 45 54 20")
            await pilot.press("a")
            # Search: ctrl+f asks, n / N move between matches.
            await pilot.press("ctrl+f", *"404", "enter")
            view = screen.query_one(OptionList)
            await _settle(pilot, lambda: view.highlighted is not None and view.highlighted > 0)
            assert "404" in screen.lines[view.highlighted or 0].text
            # Save (both directions, ascii): tshark's own follow report.
            target = tmp_path / "stream.txt"
            await pilot.press("s")
            await pilot.pause(0.1)
            answer = app.screen.query_one("#answer")
            answer.value = str(target)  # type: ignore[attr-defined]
            await pilot.press("enter")
            await _settle(pilot, target.exists)
            if TSHARK is not None:
                oracle = subprocess.run(
                    [TSHARK, "-r", str(HTTP), "-q", "-z", "follow,tcp,ascii,1"],
                    capture_output=True,
                    check=True,
                ).stdout
                assert target.read_bytes() == oracle
            assert not list(tmp_path.glob(".*.tmp"))
            # Enter on a line goes to the packet that carried it.
            await pilot.press("enter")
            await _settle(pilot, lambda: not isinstance(app.screen, FollowScreen))
            assert app.packet_list.selected_packet == 19  # frame 20: the 404 response

    asyncio.run(run())


# -- search and marks --------------------------------------------------------------------------------


def test_search_query_kinds() -> None:
    assert SearchQuery.parse("hex:47 45 54").in_bytes(b"xxGETxx")
    assert SearchQuery.parse("0x474554").needle == b"GET"
    assert SearchQuery.parse("re:no-.*-page").in_labels(["Request URI: /no-such-page"])
    assert not SearchQuery.parse("absent").in_bytes(b"present")
    with pytest.raises(ValueError):
        SearchQuery.parse("hex:zz")


def test_search_next_previous_and_marks() -> None:
    async def run() -> None:
        app = LayerscopeApp(HTTP)
        async with app.run_test(size=(160, 48)) as pilot:
            await _settle(pilot, _analysed(app))
            packet_list = app.packet_list
            await pilot.press("ctrl+f", *"GET /", "enter")
            await _settle(pilot, lambda: packet_list.selected_packet == 5)  # frame 6, in its bytes
            await pilot.press("n")
            await _settle(pilot, lambda: packet_list.selected_packet == 17)  # frame 18
            await pilot.press("N")
            await _settle(pilot, lambda: packet_list.selected_packet == 5)
            # A regular expression found only in the tree's labels, not in the bytes.
            assert packet_list.go_to_packet(6)
            await pilot.press("ctrl+f", *"re:^Hypertext Transfer Protocol$", "enter")
            await _settle(pilot, lambda: packet_list.selected_packet == 7)  # frame 8: the next HTTP
            # Hex bytes: "HTTP/1.1 404" only in the response.
            await pilot.press("ctrl+f", *"0x485454502f312e3120343034", "enter")
            await _settle(pilot, lambda: packet_list.selected_packet == 19)
            # Marks: m toggles, ' goes to the next marked packet.
            await pilot.press("m")
            assert packet_list.go_to_packet(2)
            await pilot.press("m", "home", "apostrophe")
            await pilot.pause(0.05)
            assert packet_list.selected_packet == 2
            await pilot.press("apostrophe")
            assert packet_list.selected_packet == 19
            await pilot.press("m", "apostrophe")  # unmarked 19: back to 2
            assert packet_list.selected_packet == 2 and packet_list.user_marks == {2}

    asyncio.run(run())


def test_a_snapshot_keeps_what_it_saw_while_the_pass_goes_on() -> None:
    """The live views read a snapshot: feeding the facts further changes nothing in it, and a
    snapshot of the whole pass gives the same answers as the facts themselves."""
    dissections = list(iter_dissections(HTTP))
    facts = ViewFacts(100_000, live=True)
    collect(iter(dissections[:40]), facts)
    snapshot = facts.snapshot()
    seen = (
        [(c.stream, c.conn_state, c.history, c.orig_pkts) for c in snapshot.connections()],
        hierarchy_lines(snapshot),
        len(snapshot.http),
        [(row.method, row.status) for row in snapshot.http],
        dict((address, talker.packets) for address, talker in snapshot.talkers.items()),
        len(snapshot.flows()),
    )
    collect(iter(dissections[40:]), facts)
    assert facts.analysed == len(dissections) > snapshot.analysed == 40
    assert seen == (
        [(c.stream, c.conn_state, c.history, c.orig_pkts) for c in snapshot.connections()],
        hierarchy_lines(snapshot),
        len(snapshot.http),
        [(row.method, row.status) for row in snapshot.http],
        dict((address, talker.packets) for address, talker in snapshot.talkers.items()),
        len(snapshot.flows()),
    )
    whole = facts.snapshot()
    assert [c.history for c in whole.connections()] == [c.history for c in facts.connections()]
    assert hierarchy_lines(whole) == hierarchy_lines(facts) != hierarchy_lines(snapshot)
    assert len(whole.flows()) == len(facts.flows())
    assert "Live capture: the 40 packets analysed" in snapshot.note()
