"""Bounded load: 25,000 small UDP frames a second for 10 s over the veth pair, captured to pcapng.

Reports what the application wrote, what the kernel received and what it dropped (PACKET_STATISTICS),
and checks that the figures account for every frame sent; the drop rate is reported, and only a
collapse (under half captured) fails, since CI machines are shared. Figures: bench/RESULTS.md.
"""

from __future__ import annotations

import json
import re
import signal
import sys
import time

import pytest

from captures.pcapfile import open_capture

from .conftest import NetnsPair, start_capture, stop_capture

RATE = 25_000
SECONDS = 10
# A raw AF_PACKET sender paced in 4 ms slots: Ethernet to a MAC nobody owns (the receiving stack
# drops it at once as "other host"; the promiscuous capture still sees it), IPv4/UDP to port 9999.
SENDER = """
import json, socket, struct, sys, time
iface, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 46, 0, 0, 64, 17, 0, bytes([10, 66, 0, 2]), bytes([10, 66, 0, 1]))
frame = bytes.fromhex("020000000099") + bytes.fromhex("020000000002") + b"\\x08\\x00" + ip
frame += struct.pack("!HHHH", 40000, 9999, 26, 0) + bytes(18)
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((iface, 0))
send, slot = sock.send, 0.004
per_slot = int(rate * slot)
sent, start = 0, time.monotonic()
total = int(rate * seconds)
while sent < total:
    for _ in range(min(per_slot, total - sent)):
        send(frame)
    sent += per_slot
    pause = start + (sent / rate) - time.monotonic()
    if pause > 0:
        time.sleep(pause)
elapsed = time.monotonic() - start
print(json.dumps({"sent": min(sent, total), "seconds": elapsed}))
"""


@pytest.mark.load
def test_twenty_thousand_packets_a_second(netns: NetnsPair) -> None:
    path = netns.tmp / "load.pcapng"
    capture = start_capture(
        netns, netns.client, "-i", netns.client_if, "-f", "udp dst port 9999", "-w", str(path)
    )
    sender = netns.run(
        netns.server, sys.executable, "-c", SENDER, netns.server_if, str(RATE), str(SECONDS), timeout=60
    )
    time.sleep(1.0)  # let the capture drain its socket
    status, err = stop_capture(capture, signal.SIGINT)
    assert status == 0, err
    report = json.loads(sender.stdout)
    sent, seconds = report["sent"], report["seconds"]
    captured = int(re.search(r"^(\d+) packets? captured", err, re.M).group(1))  # type: ignore[union-attr]
    found = re.search(r"^(\d+) packets? dropped by the kernel \((\d+) received there\)", err, re.M)
    assert found, err
    dropped, received = int(found.group(1)), int(found.group(2))
    with open_capture(path) as reader:
        in_file = sum(1 for _ in reader.records())
    rate = sent / seconds
    print(
        f"\nLOAD sent={sent} in {seconds:.2f}s ({rate:,.0f} pps); kernel received={received} "
        f"dropped={dropped}; app captured={captured} ({captured / sent:.1%}); file={in_file}"
    )
    assert rate >= 20_000, "the sender could not reach 20,000 packets/s: the test proves nothing"
    assert in_file == captured
    assert captured + dropped == received  # every frame the kernel queued is written or counted
    assert received >= sent * 0.99  # the veth delivered (nearly) all
    assert captured >= sent * 0.5
