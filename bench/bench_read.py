"""Read-path benchmark: tshark, a raw dpkt loop, our summary lines, `layerscope read`, PacketIndex.

    /tmp/venv/bin/python bench/bench_read.py [--packets 1000000] [--base tests/data/http.pcap]

Builds bench/out/big.pcap (gitignored) by repeating a real capture, time-shifted so timestamps
keep increasing, until it has at least --packets records. Each contender runs in its own
subprocess, once, in this run; we report wall time, packets/s, peak RSS (ru_maxrss of that child)
and ratios against tshark and against\nthe dpkt loop. No assertions: numbers are for reading.
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

DPKT_LOOP = """
import sys, dpkt
n = 0
with open(sys.argv[1], "rb") as f:
    for ts, buf in dpkt.pcap.Reader(f):
        eth = dpkt.ethernet.Ethernet(buf)
        ip = eth.data
        if isinstance(ip, dpkt.ip.IP):
            l4 = ip.data
            if isinstance(l4, (dpkt.tcp.TCP, dpkt.udp.UDP)):
                n += l4.sport
        n += 1
print(n, file=sys.stderr)
"""
SUMMARY = """
import sys
from analyzer.summary import write_summary_lines
from captures.pcapfile import iter_records
write_summary_lines(iter_records(sys.argv[1]), sys.stdout)
"""
INDEX = """
import sys
from analyzer.index import PacketIndex
with PacketIndex.build(sys.argv[1]) as index:
    print(len(index), index.bytes_per_packet, file=sys.stderr)
"""


def build_capture(base: Path, target: Path, packets: int) -> int:
    """Repeat `base` (a classic pcap) into `target`, shifting each copy past the previous one."""
    raw = base.read_bytes()
    magic = raw[:4]
    if magic not in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4"):
        raise SystemExit(f"{base}: the base must be a microsecond pcap")
    endian = "<" if magic == b"\xd4\xc3\xb2\xa1" else ">"
    header = struct.Struct(endian + "IIII")
    records: list[tuple[int, int, bytes]] = []
    offset = 24
    while offset + 16 <= len(raw):
        sec, usec, cap, _wire = header.unpack_from(raw, offset)
        records.append((sec * 1_000_000 + usec, offset, raw[offset + 8 : offset + 16 + cap]))
        offset += 16 + cap
    first, last = records[0][0], records[-1][0]
    span = last - first + 1000
    written = 0
    with target.open("wb") as out:
        out.write(raw[:24])
        copy = 0
        while written < packets:
            shift = copy * span
            chunk = bytearray()
            for stamp, _offset, rest in records:
                sec, usec = divmod(stamp + shift, 1_000_000)
                chunk += header.pack(sec, usec, 0, 0)[:8] + rest
            out.write(chunk)
            written += len(records)
            copy += 1
    return written


def run(name: str, cmd: list[str]) -> tuple[str, float, int]:
    """Wall time and peak RSS (KiB, from wait4's rusage of exactly this child)."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        child = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.DEVNULL, cwd=REPO)
        _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{name}: exit status {child.returncode}")
    return name, elapsed, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--base", type=Path, default=REPO / "tests" / "data" / "http.pcap")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    big = OUT / "big.pcap"
    count = build_capture(args.base, big, args.packets)
    print(f"{big}: {count:,} packets ({big.stat().st_size / 1e6:.0f} MB) from {args.base.name}")
    py = sys.executable
    contenders: list[tuple[str, list[str]]] = []
    contenders.append(("PacketIndex build", [py, "-c", INDEX, str(big)]))
    contenders.append(("dpkt eth/ip/tcp loop", [py, "-c", DPKT_LOOP, str(big)]))
    contenders.append(("write_summary_lines", [py, "-c", SUMMARY, str(big)]))
    layerscope = shutil.which("layerscope", path=str(Path(py).parent))
    if layerscope and (REPO / "analyzer" / "cli.py").exists():
        contenders.append(("layerscope read -r", [layerscope, "read", "-r", str(big)]))
    contenders.append(("tshark -r", ["tshark", "-r", str(big)]))
    results = [run(name, cmd) for name, cmd in contenders]
    times = dict((name, elapsed) for name, elapsed, _rss in results)
    tshark, dpkt_time = times["tshark -r"], times["dpkt eth/ip/tcp loop"]
    print(
        f"{'contender':<24}{'seconds':>9}{'packets/s':>12}{'peak RSS MB':>13}{'vs tshark':>11}{'vs dpkt':>9}"
    )
    for name, elapsed, rss in results:
        print(
            f"{name:<24}{elapsed:>9.2f}{count / elapsed:>12,.0f}{rss / 1024:>13.0f}"
            f"{tshark / elapsed:>10.2f}x{dpkt_time / elapsed:>8.2f}x"
        )
    print("ratios are speed multiples (>1 means faster than the reference); RSS counts touched pages")
    print("of the memory-mapped capture, so readers that map the file show roughly its size")


if __name__ == "__main__":
    main()
