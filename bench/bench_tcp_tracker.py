"""TCP tracker micro-benchmark: µs per segment in TcpTracker.feed, plus `flows` end to end against tshark.

    /tmp/venv/bin/python bench/bench_tcp_tracker.py [--segments 200000] [--repeat 5] [--capture PATH ...]
                                                    [--no-end-to-end] [--out DIR]

By default builds two captures in bench/out/ (gitignored), each repeating one real capture until it
holds at least --segments packets: big-lossy.pcap from tests/data/tcp-lossy.pcap (one iperf3 bulk
transfer over a lossy link: retransmissions, dup ACKs, SACK) and big-nginx.pcap from
tests/data/http-nginx.pcap (short HTTP connections plus two bulk responses). Each copy is shifted
in time past the previous one and gets its own client port (the larger port of each segment moves
by 200 per copy; the TCP checksum is left stale, nobody here checks it), so every copy is a fresh
set of connections rather than a replay of the same ones. `--capture PATH` (repeatable) benches
given captures instead.

For each capture the TcpSegments are extracted once (analyzer.export.flows_facts.iter_facts, as
`layerscope flows` does); only the loop feeding them to a fresh TcpTracker is timed, best of
--repeat rounds. The same run also times `layerscope flows -r X` and `tshark -q -z conv,tcp -r X`
in subprocesses (best of --repeat, interleaved), since only same-run ratios mean anything on a
shared machine. Prints Markdown. No assertions: numbers are for reading.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
sys.path.insert(0, str(REPO))

from analyzer.export.flows_facts import iter_facts  # noqa: E402 - after the path is set
from analyzer.state.tcp_facts import TcpSegment  # noqa: E402
from analyzer.state.tcp_tracker import TcpTracker  # noqa: E402
from captures.pcapfile import iter_records, open_capture  # noqa: E402

SOURCES = {
    "big-lossy.pcap": REPO / "tests" / "data" / "tcp-lossy.pcap",
    "big-nginx.pcap": REPO / "tests" / "data" / "http-nginx.pcap",
}
NS_MAGIC = b"\x4d\x3c\xb2\xa1"  # little-endian nanosecond pcap
RECORD = struct.Struct("<IIII")
PORTS = struct.Struct("!HH")
PORT_STEP = 200  # per copy; wider than the span of client ports inside one source capture


def tcp_port_offset(data: bytes) -> int | None:
    """Where the TCP ports start in an Ethernet/IPv4 or IPv6 frame (no VLAN, no extensions)."""
    if len(data) < 14:
        return None
    etype = data[12] << 8 | data[13]
    if etype == 0x0800 and len(data) >= 34 and data[23] == 6:
        return 14 + (data[14] & 0x0F) * 4
    if etype == 0x86DD and len(data) >= 54 and data[20] == 6:
        return 54
    return None


def build_capture(source: Path, target: Path, count: int) -> int:
    """Repeat the Ethernet frames of `source` into `target` until it holds at least `count`."""
    packets: list[tuple[int, int, bytes]] = []
    first: int | None = None
    for _offset, stamp, wire_len, linktype, _digits, _iface, data in iter_records(source):
        if linktype == 1:
            first = stamp if first is None else first
            packets.append((stamp - first, wire_len, bytes(data)))
    span = packets[-1][0] + 1_000_000
    base = 1_700_000_000 * 1_000_000_000
    written = 0
    with target.open("wb") as out:
        out.write(NS_MAGIC + struct.pack("<HHiIII", 2, 4, 0, 0, 262144, 1))
        copy = 0
        while written < count:
            chunk = bytearray()
            for stamp, wire_len, data in packets:
                at = tcp_port_offset(data)
                if at is not None and copy:
                    frame = bytearray(data)
                    sport, dport = PORTS.unpack_from(frame, at)
                    if sport > dport:
                        sport = (sport - 1024 + copy * PORT_STEP) % 64512 + 1024
                    else:
                        dport = (dport - 1024 + copy * PORT_STEP) % 64512 + 1024
                    PORTS.pack_into(frame, at, sport, dport)
                    data = bytes(frame)
                sec, frac = divmod(base + stamp, 1_000_000_000)
                chunk += RECORD.pack(sec, frac, len(data), wire_len) + data
            out.write(chunk)
            written += len(packets)
            base += span
            copy += 1
    return written


def segments_of(capture: Path) -> list[TcpSegment]:
    with open_capture(capture) as reader:
        return [p.fact for p in iter_facts(reader.records()) if isinstance(p.fact, TcpSegment)]


def time_tracker(segments: list[TcpSegment], repeat: int) -> float:
    """Best seconds for feeding every segment to a fresh tracker."""
    best = float("inf")
    for _round in range(repeat):
        tracker = TcpTracker()
        feed = tracker.feed
        start = time.perf_counter()
        for segment in segments:
            feed(segment)
        best = min(best, time.perf_counter() - start)
    return best


def run(cmd: list[str]) -> float:
    """CPU seconds (user + system) of one child run, from wait4's rusage; wall time is noisier."""
    with open(os.devnull, "wb") as sink:
        child = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.DEVNULL, cwd=REPO)
        _pid, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit status {os.waitstatus_to_exitcode(status)}")
    return float(usage.ru_utime + usage.ru_stime)


def end_to_end(capture: Path, repeat: int) -> tuple[float, float]:
    """Best CPU seconds of `layerscope flows -r` and `tshark -q -z conv,tcp -r`, interleaved rounds."""
    py = sys.executable
    found = shutil.which("layerscope", path=str(Path(py).parent))
    layerscope = [found] if found else [py, "-m", "analyzer.cli"]
    flows = tshark = float("inf")
    for _round in range(repeat):
        flows = min(flows, run([*layerscope, "flows", "-r", str(capture)]))
        tshark = min(tshark, run(["tshark", "-q", "-z", "conv,tcp", "-r", str(capture)]))
    return flows, tshark


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--segments", type=int, default=200_000, help="packets per built capture")
    parser.add_argument("--repeat", type=int, default=5, help="rounds; the best time counts")
    parser.add_argument("--capture", type=Path, action="append", help="bench this capture (repeatable)")
    parser.add_argument("--no-end-to-end", action="store_true", help="skip the flows/tshark subprocesses")
    parser.add_argument("--out", type=Path, default=OUT, help="where the captures are built (bench/out)")
    args = parser.parse_args()
    captures: list[Path] = args.capture or []
    if not captures:
        args.out.mkdir(exist_ok=True)
        for name, source in SOURCES.items():
            captures.append(args.out / name)
            build_capture(source, captures[-1], args.segments)
    print(f"TcpTracker.feed, best of {args.repeat}; `flows` and tshark: best CPU s of {args.repeat}\n")
    print("| capture | segments | feed µs/segment | feed s | flows cpu s | tshark cpu s | flows/tshark |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for capture in captures:
        segments = segments_of(capture)
        feed = time_tracker(segments, args.repeat)
        per_segment = feed / max(len(segments), 1) * 1e6
        row = f"| {capture.name} | {len(segments):,} | {per_segment:.2f} | {feed:.2f} |"
        if args.no_end_to_end:
            print(f"{row} | | |")
            continue
        flows, tshark = end_to_end(capture, args.repeat)
        print(f"{row} {flows:.2f} | {tshark:.2f} | {flows / tshark:.2f}x |", flush=True)
    print("\ntshark is `tshark -q -z conv,tcp -r`; flows/tshark is the CPU time ratio (>1: flows is slower).")


if __name__ == "__main__":
    main()
