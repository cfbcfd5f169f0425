"""Live capture in the TUI, driven by Textual's pilot: the start screen's interface list (no root
needed), and a real capture between two namespaces (10.67.0.1 <-> 10.67.0.2) with pings, an HTTP
download and a refused connection: rows appear and follow the newest packet, the TCP handshake
shows as SYN, SYN/ACK and ACK rows; while the capture runs, a display filter shows old and new
matching packets, the tree has tshark's stream fields, follow, the handshake board and the
transactions view work (a view shows a snapshot while the analysis goes on); `s` stops, `w`
saves a file tshark reads back with the same count. The app must run inside the client
namespace, so the pilot part runs this very file as a script under `ip netns exec` and prints
its findings as JSON (see `drive`).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CLIENT_IP = "10.67.0.1"
SERVER_IP = "10.67.0.2"
HTTP_PORT = 8080  # one of the HTTP ports the summaries (and tshark) decode as HTTP
CLOSED_PORT = 8068


# -- start screen (in-process, no root) ------------------------------------------------------------


async def _wait(pilot: Any, done: Callable[[], bool], limit: float = 30.0) -> None:
    waited = 0.0
    while not done():
        await pilot.pause(0.05)
        waited += 0.05
        assert waited < limit, "the TUI did not get there in time"


def _screen_text(app: Any) -> str:
    update = app.screen._compositor.render_full_update()
    return "\n".join("".join(segment.text for segment in strip) for strip in update.strips)


def test_start_screen_lists_interfaces_and_the_sample() -> None:
    from analyzer.tui.app import LayerscopeApp
    from analyzer.tui.screens import StartScreen
    from captures.samples import sample_path

    async def run() -> None:
        app = LayerscopeApp(sample_path(), start_screen=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await _wait(pilot, lambda: isinstance(app.screen, StartScreen))
            await pilot.pause(0.2)
            text = _screen_text(app)
            assert "Sample capture: sample.pcapng" in text
            assert "Capture on lo" in text and "Loopback" in text and "127.0.0.1/8" in text
            await pilot.press("enter")  # the sample is highlighted first
            await _wait(pilot, lambda: not isinstance(app.screen, StartScreen))
            await _wait(pilot, lambda: app.indexing_done)
            assert app.live is None and app.packet_list.count == 33
            # The live keys do nothing (and are hidden) on a capture file.
            assert app.check_action("save_capture", ()) is False

    asyncio.run(run())


def test_start_screen_unknown_interface_is_a_notification() -> None:
    from analyzer.tui.app import LayerscopeApp
    from captures.samples import sample_path

    async def run() -> None:
        app = LayerscopeApp(sample_path())
        async with app.run_test(size=(120, 40)) as pilot:
            await _wait(pilot, lambda: app.indexing_done)
            assert not app.start_live("nosuch-if0")
            await pilot.pause(0.1)
            messages = [note.message for note in app._notifications]
            assert any('no interface named "nosuch-if0"' in message for message in messages), messages
            assert app.live is None and app.packet_list.count == 33

    asyncio.run(run())


def test_cli_reports_live_errors_before_the_tui() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "analyzer", "-i", "nosuch-if0"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.startswith('layerscope: there is no interface named "nosuch-if0"')
    assert done.stderr.count("\n") == 1
    done = subprocess.run(
        [sys.executable, "-m", "analyzer", "-i", "lo", "-f", "tcp and ("],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "invalid capture filter" in done.stderr


# -- a real capture in a namespace pair --------------------------------------------------------------


def _problem() -> str | None:
    import os

    if os.geteuid() != 0:
        return "live TUI tests need root (network namespaces and packet sockets)"
    for tool in ("ip", "ping", "curl", "tshark"):
        if shutil.which(tool) is None:
            return f"live TUI tests need {tool} installed"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"`ip netns` is unavailable: {probe.stderr.strip()}"
    return None


def _sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=20)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str, Path]]:
    """(client namespace, server namespace, client interface, scratch dir) joined by a veth pair."""
    problem = _problem()
    if problem is not None:
        print(f"SKIP live TUI tests: {problem}")
        pytest.skip(problem)
    tag = uuid.uuid4().hex[:6]
    client, server = f"ltc{tag}", f"lts{tag}"
    tmp = tmp_path_factory.mktemp("tuilive")
    server_process: subprocess.Popen[bytes] | None = None
    try:
        _sh("ip", "netns", "add", client)
        _sh("ip", "netns", "add", server)
        _sh("ip", "link", "add", client, "type", "veth", "peer", "name", server)
        for namespace, address in ((client, CLIENT_IP), (server, SERVER_IP)):
            _sh("ip", "link", "set", namespace, "netns", namespace)
            _sh("ip", "-n", namespace, "addr", "add", f"{address}/24", "dev", namespace)
            _sh("ip", "-n", namespace, "link", "set", namespace, "up")
            _sh("ip", "-n", namespace, "link", "set", "lo", "up")
        (tmp / "www").mkdir()
        (tmp / "www" / "hello.txt").write_text("hello from the server namespace\n")
        server_process = subprocess.Popen(
            [
                *("ip", "netns", "exec", server, sys.executable, "-m", "http.server", str(HTTP_PORT)),
                *("--bind", SERVER_IP, "--directory", str(tmp / "www")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_serving(client)
        yield client, server, client, tmp
    finally:
        if server_process is not None:
            server_process.kill()
            server_process.wait(10)
        for namespace in (client, server):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=20)


def _wait_serving(client: str) -> None:
    url = f"http://{SERVER_IP}:{HTTP_PORT}/hello.txt"
    for _ in range(100):
        done = subprocess.run(
            ["ip", "netns", "exec", client, "curl", "-sf", "-m", "1", url], capture_output=True, timeout=20
        )
        if done.returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"the HTTP server at {url} never answered")


def test_live_capture_in_the_tui(pair: tuple[str, str, str, Path]) -> None:
    client, _server, iface, tmp = pair
    saved = tmp / "live.pcapng"
    done = subprocess.run(
        ["ip", "netns", "exec", client, sys.executable, __file__, iface, str(saved)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    rows: list[list[str]] = found["rows"]
    assert found["count"] == len(rows) >= 15
    assert found["status"].startswith(f"Live: {iface} · received")
    assert found["stopped_status"].startswith(f"Live: {iface} (stopped)")
    assert found["followed"], "the list did not follow the newest packet"
    assert found["held"], "moving up did not stop the list from following"
    protocols = {row[0] for row in rows}
    assert {"ICMP", "TCP", "HTTP"} <= protocols, protocols
    infos = [row[1] for row in rows]
    # The download's handshake, in order: SYN, SYN/ACK, ACK on the HTTP port.
    syn = next(i for i, info in enumerate(infos) if f"→ {HTTP_PORT} [SYN]" in info)
    syn_ack = next(i for i, info in enumerate(infos) if f"{HTTP_PORT} → " in info and "[SYN, ACK]" in info)
    ack = next(i for i, info in enumerate(infos) if i > syn_ack and f"→ {HTTP_PORT} [ACK]" in info)
    assert syn < syn_ack < ack
    # The refused connection: a SYN answered by RST, ACK.
    assert any(f"→ {CLOSED_PORT} [SYN]" in info for info in infos)
    assert any(f"{CLOSED_PORT} → " in info and "[RST, ACK]" in info for info in infos)
    assert any("GET /hello.txt HTTP/1.1" in info for info in infos)
    assert found["count_after_stop"] == found["count"], "packets were added after the stop"
    # Everything below was done while the capture ran.
    assert found["running"]
    filtered = found["filtered_rows"]
    assert len(filtered) > found["filtered_before"] > 0
    assert {protocol for protocol, _info in filtered} == {"TCP", "HTTP"}, filtered
    assert all(str(HTTP_PORT) in info for protocol, info in filtered if protocol == "TCP"), filtered
    assert any("GET /hello.txt?again HTTP/1.1" in info for _protocol, info in filtered)
    assert found["filtered_follows"] and found["filtered_selected_is_last"]
    # The stream fields equal tshark's on the saved file.
    number, stream, seq = found["tree_stream"]
    wanted = ["-T", "fields", "-e", "tcp.stream", "-e", "tcp.seq"]
    oracle = subprocess.run(
        ["tshark", "-r", str(saved), "-Y", f"frame.number == {number}", *wanted],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert oracle.stdout.split() == [stream, seq]
    follow = found["follow"]
    assert "GET /hello.txt HTTP/1.1" in follow and "hello from the server namespace" in follow, follow
    connections = {port: (state, history, timed) for port, state, history, timed in found["connections"]}
    assert connections[HTTP_PORT][0] == "SF" and connections[HTTP_PORT][2], connections
    assert connections[HTTP_PORT][1].startswith("ShAD"), connections
    assert connections[CLOSED_PORT][0] == "REJ", connections
    syn, syn_ack, ack = found["ladder_flags"][:3]
    assert (syn, syn_ack, ack) == (0x002, 0x012, 0x010)
    assert found["analysed_while_open"] and found["view_kept_its_snapshot"]
    assert found["more_connections_behind"]
    assert found["refreshed"] > len(found["connections"])
    assert ["GET", "/hello.txt", "200 OK"] in found["http"], found["http"]
    assert found["saved"] == [str(saved), found["count"]]
    counted = subprocess.run(
        ["tshark", "-r", str(saved), "-T", "fields", "-e", "frame.number"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert counted.returncode == 0, counted.stderr
    assert len(counted.stdout.split()) == found["count"]
    pcap = subprocess.run(
        ["tshark", "-r", str(tmp / "live.pcap"), "-T", "fields", "-e", "frame.number"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert pcap.returncode == 0 and len(pcap.stdout.split()) == found["count"]


# -- the driver, run inside the client namespace ---------------------------------------------------


async def drive(iface: str, saved: str) -> dict[str, Any]:
    from textual.widgets import Input

    from analyzer.tui.app import LayerscopeApp
    from captures.live import LiveCapture

    async def run(*argv: str) -> None:
        await asyncio.to_thread(subprocess.run, argv, capture_output=True, timeout=30)

    app = LayerscopeApp(capture=LiveCapture(iface))
    found: dict[str, Any] = {}
    async with app.run_test(size=(160, 50)) as pilot:
        source = app.live
        assert source is not None
        await run("ping", "-c", "3", "-i", "0.2", SERVER_IP)
        await _wait(pilot, lambda: app.packet_list.count >= 6)
        await pilot.pause(0.3)
        found["followed"] = app.packet_list.cursor == app.packet_list.count - 1 > 0
        await pilot.press("home")  # the user scrolls up: the list holds still
        await run("curl", "-s", "-o", "/dev/null", f"http://{SERVER_IP}:{HTTP_PORT}/hello.txt")
        await run("curl", "-s", "-m", "2", f"http://{SERVER_IP}:{CLOSED_PORT}/")
        await _wait(pilot, lambda: app.packet_list.count >= 20)
        await pilot.pause(0.5)
        found["held"] = app.packet_list.cursor == 0
        found["status"] = app.status.status.live
        await pilot.press("G")
        found.update(await _analysis_while_capturing(app, pilot, run))
        await pilot.press("s")
        await _wait(pilot, lambda: not source.running)
        found["stopped_status"] = app.status.status.live
        await pilot.pause(0.3)
        count = app.packet_list.count
        found["count"] = count
        found["rows"] = [[row.protocol, row.info] for row in map(app.index.summary, range(count))]
        for name in ("live.pcap", Path(saved).name):
            app.saved = None
            await pilot.press("w")
            await _wait(pilot, lambda: bool(app.screen.query(Input)))
            app.screen.query_one(Input).value = str(Path(saved).with_name(name))
            await pilot.press("enter")
            await _wait(pilot, lambda: app.saved is not None)
        found["saved"] = list(app.saved or ())
        found["count_after_stop"] = len(app.index)
    return found


async def _analysis_while_capturing(app: Any, pilot: Any, run: Callable[..., Any]) -> dict[str, Any]:
    """Filters, the stream-aware tree, the handshake board, transactions and follow, all while the
    capture goes on (the capture is still running when this returns)."""
    from analyzer.tui.views_follow import FollowScreen
    from analyzer.tui.views_handshakes import HandshakesScreen
    from analyzer.tui.views_transactions import TransactionsScreen

    found: dict[str, Any] = {}
    packet_list, source = app.packet_list, app.live
    # The analysis pass follows the capture: wait until it has caught up.
    await _wait(
        pilot, lambda: app.view_facts.analysed == len(app.index) and app.status.status.analysing is None
    )
    # A display filter applied during the capture shows the matching packets so far...
    app.apply_filter_text(f"tcp.port == {HTTP_PORT}")
    await _wait(pilot, lambda: packet_list.displayed > 0 and app.status.status.filtering is None)
    before = packet_list.displayed
    found["filtered_before"] = before
    # ...and the ones that arrive after it, with the list following the newest of them.
    await run("curl", "-s", "-o", "/dev/null", f"http://{SERVER_IP}:{HTTP_PORT}/hello.txt?again")
    await _wait(pilot, lambda: packet_list.displayed >= before + 8)
    await pilot.pause(0.5)
    shown = [packet_list.packet_at(row) for row in range(packet_list.displayed)]
    found["filtered_rows"] = [[app.index.summary(p).protocol, app.index.summary(p).info] for p in shown]
    found["filtered_follows"] = packet_list.cursor == packet_list.displayed - 1
    found["filtered_selected_is_last"] = packet_list.selected_packet == shown[-1]
    # The tree of a live packet carries its stream fields (tcp.stream, relative numbers).
    packet_list.cursor = 0
    await _wait(
        pilot,
        lambda: (
            app.query_one("#tree").dissection is not None
            and app.query_one("#tree").dissection.first("tcp.stream") is not None
        ),
    )
    tree = app.query_one("#tree").dissection
    found["tree_stream"] = [tree.frame.number, tree.first("tcp.stream").show, tree.first("tcp.seq").show]
    # Follow the first connection to the HTTP port: the request and the file come back.
    await pilot.press("f")
    await _wait(pilot, lambda: isinstance(app.screen, FollowScreen) and app.screen.result is not None)
    found["follow"] = [line.text for line in app.screen.lines]
    await pilot.press("escape")
    app.apply_filter_text("")
    await _wait(pilot, lambda: packet_list.displayed == packet_list.count)
    # The handshake board and the transactions, as analysed so far.
    await _wait(pilot, lambda: app.view_facts.analysed == len(app.index))
    await pilot.press("H")
    await _wait(pilot, lambda: isinstance(app.screen, HandshakesScreen))
    found["connections"] = [
        [c.resp_p, c.conn_state, c.history, c.handshake_rtt_ns is not None] for c in app.screen.connections
    ]
    found["ladder_flags"] = [step.flags for step in app.screen.steps]
    analysed_at_open, shown_at_open = app.view_facts.analysed, len(app.screen.connections)
    # The capture and its analysis go on behind the view, which keeps the snapshot it opened with.
    await run("curl", "-s", "-o", "/dev/null", f"http://{SERVER_IP}:{HTTP_PORT}/hello.txt?behind")
    await pilot.pause(0.5)
    await _wait(pilot, lambda: app.view_facts.analysed > analysed_at_open + 5)
    found["analysed_while_open"] = app.view_facts.analysed > analysed_at_open
    found["view_kept_its_snapshot"] = len(app.screen.connections) == shown_at_open
    found["more_connections_behind"] = len(app.view_facts.connections()) > shown_at_open
    await pilot.press("ctrl+r")  # Refresh: the view opens again on what the pass knows now
    await _wait(
        pilot,
        lambda: isinstance(app.screen, HandshakesScreen) and len(app.screen.connections) > shown_at_open,
    )
    found["refreshed"] = len(app.screen.connections)
    await pilot.press("escape")
    await pilot.press("T")
    await _wait(pilot, lambda: isinstance(app.screen, TransactionsScreen))
    found["http"] = [[row.method, row.uri, row.status] for row in app.view_facts.http]
    await pilot.press("escape")
    found["running"] = source.running
    return found


if __name__ == "__main__":
    print(json.dumps(asyncio.run(drive(sys.argv[1], sys.argv[2]))))
