"""`layerscope capture` control and outputs in a namespace: summary lines, limits, pipes, ring
buffers, "any", an interface removed mid-capture, missing permissions, `layerscope interfaces`."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import pytest

from captures.pcapfile import open_capture

from .conftest import CLIENT_IP, SERVER_IP, NetnsPair, need_tools, start_capture, stop_capture, wait_for_line

# Sends N raw Ethernet frames (broadcast, ethertype 0x88b5: local experimental) on an interface.
RAW_SENDER = """
import socket, sys
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((sys.argv[1], 0))
for n in range(int(sys.argv[2])):
    header = b"\\xff" * 6 + b"\\x02\\x00\\x00\\x00\\x00\\x01" + b"\\x88\\xb5"
    sock.send(header + n.to_bytes(4, "big") + bytes(42))
"""


def test_summary_lines_and_packet_count_limit(netns: NetnsPair) -> None:
    capture = netns.layerscope(
        netns.client,
        "capture",
        "-i",
        netns.client_if,
        "-f",
        "icmp",
        "-c",
        "4",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert capture.stderr is not None
    wait_for_line(capture.stderr, "Capturing on")
    netns.run(netns.client, "ping", "-c", "3", "-i", "0.2", SERVER_IP)
    out, err = capture.communicate(timeout=20)
    assert capture.returncode == 0, err
    lines = out.splitlines()
    assert len(lines) == 4
    assert re.match(
        rf"\s+1 0\.000000000\s+{CLIENT_IP} → {SERVER_IP}\s+ICMP 98 Echo \(ping\) request", lines[0]
    )
    assert "Echo (ping) reply" in lines[1] and "(request in 1)" in lines[1]
    assert "4 packets captured" in err


def test_duration_limit_stops_without_traffic(netns: NetnsPair) -> None:
    started = time.monotonic()
    done = netns.run(
        netns.client,
        sys.executable,
        "-m",
        "analyzer",
        "capture",
        "-i",
        netns.client_if,
        "-f",
        "tcp port 1",
        "-a",
        "duration:1",
    )
    assert 1 <= time.monotonic() - started < 10
    assert "0 packets captured" in done.stderr


def test_pipe_to_reader_shows_packets_while_capturing(netns: NetnsPair) -> None:
    """`capture -w - | read -r -`: each packet reaches the reader while the capture still runs."""
    capture = start_capture(
        netns, netns.client, "-i", netns.client_if, "-f", "icmp", "-w", "-", stdout=subprocess.PIPE
    )
    reader = subprocess.Popen(
        [sys.executable, "-m", "analyzer", "read", "-r", "-"],
        stdin=capture.stdout,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert capture.stdout is not None and reader.stdout is not None
    capture.stdout.close()  # the reader holds the pipe now
    try:
        netns.run(netns.client, "ping", "-c", "1", SERVER_IP)
        seen = wait_for_line(reader.stdout, "Echo (ping) reply", timeout=10)
        assert capture.poll() is None  # still capturing: the packets came through promptly
        assert "Echo (ping) request" in seen
    finally:
        status, err = stop_capture(capture)
        reader.communicate(timeout=20)
    assert status == 0, err
    assert reader.returncode == 0


def test_tcpdump_pipe_into_read(netns: NetnsPair) -> None:
    """`tcpdump -U -w - | layerscope read -r -` on a pipe that is still being written."""
    need_tools("tcpdump")
    dump = netns.spawn(
        netns.client,
        "tcpdump",
        "-U",
        "-i",
        netns.client_if,
        "-w",
        "-",
        "icmp",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert dump.stdout is not None and dump.stderr is not None
    wait_for_line(dump.stderr, "listening on")
    reader = subprocess.Popen(
        [sys.executable, "-m", "analyzer", "read", "-r", "-"],
        stdin=dump.stdout,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert reader.stdout is not None
    dump.stdout.close()
    try:
        netns.run(netns.client, "ping", "-c", "1", SERVER_IP)
        wait_for_line(reader.stdout, "Echo (ping) reply", timeout=10)
        assert dump.poll() is None
    finally:
        dump.send_signal(signal.SIGINT)
        dump.wait(10)
        reader.communicate(timeout=20)
    assert reader.returncode == 0


def test_ring_buffer_keeps_the_newest_files(netns: NetnsPair) -> None:
    ring_dir = netns.tmp / "ring"
    ring_dir.mkdir()
    capture = start_capture(
        netns,
        netns.client,
        "-i",
        netns.client_if,
        "-f",
        "icmp",
        "-w",
        str(ring_dir / "ring.pcapng"),
        "-b",
        "filesize:2,files:3",
    )
    netns.run(netns.client, "ping", "-c", "30", "-i", "0.01", "-s", "400", SERVER_IP)
    time.sleep(0.3)
    status, err = stop_capture(capture, signal.SIGTERM)
    assert status == 0, err
    names = sorted(path.name for path in ring_dir.iterdir())
    assert len(names) == 3, names
    numbers = [int(re.fullmatch(r"ring_(\d{5})_\d{14}\.pcapng", name).group(1)) for name in names]  # type: ignore[union-attr]
    assert numbers[0] >= 3 and numbers == list(range(numbers[0], numbers[0] + 3))
    for name in names:
        with open_capture(ring_dir / name) as reader:
            assert len(list(reader)) >= 1 and reader.warnings == []
        shark = subprocess.run(["tshark", "-r", str(ring_dir / name)], capture_output=True, check=True)
        assert shark.stdout


def test_any_interface_is_cooked(netns: NetnsPair) -> None:
    path = netns.tmp / "any.pcapng"
    capture = start_capture(netns, netns.client, "-i", "any", "-f", "icmp", "-c", "2", "-w", str(path))
    netns.run(netns.client, "ping", "-c", "1", SERVER_IP)
    _out, err = capture.communicate(timeout=20)
    assert capture.returncode == 0, err
    with open_capture(path) as reader:
        frames = list(reader)
    assert [frame.linktype for frame in frames] == [113, 113]
    shark = subprocess.run(
        ["tshark", "-r", str(path), "-T", "fields", "-e", "sll.pkttype", "-e", "icmp.type"],
        capture_output=True,
        text=True,
        check=True,
    )
    # Linux SLL packet types: 4 sent by us, 0 to us.
    assert shark.stdout.split("\n")[:2] == ["4\t8", "0\t0"]


def test_interface_removed_mid_capture(netns: NetnsPair) -> None:
    gone, peer = f"{netns.client_if}x", f"{netns.client_if}y"
    netns.run(netns.client, "ip", "link", "add", gone, "type", "veth", "peer", "name", peer)
    netns.run(netns.client, "ip", "link", "set", gone, "up")
    netns.run(netns.client, "ip", "link", "set", peer, "up")
    path = netns.tmp / "gone.pcapng"
    capture = start_capture(netns, netns.client, "-i", gone, "-f", "ether proto 0x88b5", "-w", str(path))
    netns.run(netns.client, sys.executable, "-c", RAW_SENDER, peer, "5")
    time.sleep(0.5)
    netns.run(netns.client, "ip", "link", "del", gone)
    _out, err = capture.communicate(timeout=20)
    assert capture.returncode == 1, err
    assert f"capture on {gone} stopped: the interface went down or disappeared" in err
    assert "5 packets captured" in err
    shark = subprocess.run(["tshark", "-r", str(path)], capture_output=True, text=True, check=True)
    assert len(shark.stdout.splitlines()) == 5


def test_interfaces_command_lists_the_namespace(netns: NetnsPair) -> None:
    done = netns.run(netns.client, sys.executable, "-m", "analyzer", "interfaces")
    lines = done.stdout.splitlines()
    veth = next(line for line in lines if f" {netns.client_if} " in line)
    assert re.match(
        rf"\d+\. {netns.client_if} \(Ethernet, up\) ([0-9a-f]{{2}}:){{5}}[0-9a-f]{{2}} 10\.66\.0\.1/24", veth
    )
    assert any(re.match(r"\d+\. lo \(Loopback, up\) 127\.0\.0\.1/8", line) for line in lines)
    assert lines[-1].endswith("any (Pseudo-device that captures on all interfaces)")


def test_no_permission_says_how_to_fix(netns: NetnsPair) -> None:
    need_tools("setpriv")
    argv = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
        sys.executable,
        "-m",
        "analyzer",
        "capture",
        "-i",
        netns.client_if,
        "-c",
        "1",
    ]
    done = netns.run(netns.client, *argv, check=False)
    assert done.returncode == 2, done.stderr
    assert f"you don't have permission to capture on {netns.client_if}" in done.stderr
    # The interpreter's real path as the unprivileged user can resolve it.
    assert re.search(r"setcap cap_net_raw,cap_net_admin=eip /\S*python", done.stderr)


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_signals_leave_a_valid_pcap(netns: NetnsPair, how: signal.Signals) -> None:
    path = netns.tmp / f"signal-{how.name}.pcap"
    capture = start_capture(
        netns, netns.client, "-i", netns.client_if, "-f", "icmp", "-F", "pcap", "-w", str(path)
    )
    netns.run(netns.client, "ping", "-c", "2", "-i", "0.2", SERVER_IP)
    time.sleep(0.2)
    status, err = stop_capture(capture, how)
    assert status == 0, err
    dump = subprocess.run(["tcpdump", "-nr", str(path)], capture_output=True, text=True, check=True)
    assert len(dump.stdout.splitlines()) == 4
    assert "4 packets captured" in err


def test_verbose_trees_and_exact_count(netns: NetnsPair) -> None:
    """-V prints full trees; -c 1 keeps one frame even when the reply arrives in the same batch."""
    capture = netns.layerscope(
        netns.client,
        "capture",
        "-i",
        netns.client_if,
        "-f",
        "icmp",
        "-c",
        "1",
        "-V",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert capture.stderr is not None
    wait_for_line(capture.stderr, "Capturing on")
    netns.run(netns.client, "ping", "-c", "1", SERVER_IP)
    out, err = capture.communicate(timeout=20)
    assert capture.returncode == 0, err
    assert out.startswith("Frame 1: 98 bytes on wire (784 bits), 98 bytes captured (784 bits) on interface")
    assert "Internet Control Message Protocol\n" in out and "Frame 2:" not in out
    assert "1 packet captured" in err
