"""Read-path benchmark: tshark, a raw dpkt loop, `layerscope read` and PacketIndex, on two captures.

    /tmp/venv/bin/python bench/bench_read.py [--packets 1000000] [--repeat 1] [--only tcp|mixed] [--out DIR]

Builds two captures in bench/out/ (gitignored) by repeating real packets, time-shifted so
timestamps keep increasing, until each has at least --packets records:

- big-tcp.pcap: tests/data/http.pcap (an HTTP bulk transfer: Ethernet/IPv4/TCP), microseconds;
- big-mixed.pcap: the packets of captures/samples/sample.pcapng (DHCP, ARP, DNS, TCP/HTTP, ICMP,
  UDP), then those of tests/data/ipv6.pcap, vlan.pcap, frag.pcap and icmp.pcap, nanoseconds.

Each contender runs in its own subprocess, --repeat times, in this run (the machine is shared,
so only same-run ratios mean anything); we report the best wall time, packets/s, peak RSS
(ru_maxrss of that child) and speed ratios against tshark and against the dpkt loop.
No assertions: numbers are for reading.
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

from captures.pcapfile import iter_records  # noqa: E402 - after the path is set

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
INDEX = """
import sys
from analyzer.index import PacketIndex
with PacketIndex.build(sys.argv[1]) as index:
    print(len(index), index.bytes_per_packet, file=sys.stderr)
"""
MIXED_SOURCES = (
    REPO / "captures" / "samples" / "sample.pcapng",
    REPO / "tests" / "data" / "ipv6.pcap",
    REPO / "tests" / "data" / "vlan.pcap",
    REPO / "tests" / "data" / "frag.pcap",
    REPO / "tests" / "data" / "icmp.pcap",
)
NS_MAGIC = b"\x4d\x3c\xb2\xa1"  # little-endian nanosecond pcap
US_MAGIC = b"\xd4\xc3\xb2\xa1"


def packets_of(paths: tuple[Path, ...]) -> list[tuple[int, int, bytes]]:
    """(ns since the first packet of its file, wire length, bytes) of every Ethernet packet, in order;
    each file starts 1 ms after the previous one ends."""
    packets: list[tuple[int, int, bytes]] = []
    start = 0
    for path in paths:
        first: int | None = None
        for _offset, stamp, wire_len, linktype, _digits, _iface, data in iter_records(path):
            if linktype != 1:
                continue
            first = stamp if first is None else first
            packets.append((start + stamp - first, wire_len, bytes(data)))
        start = (packets[-1][0] if packets else 0) + 1_000_000
    return packets


def build_capture(packets: list[tuple[int, int, bytes]], target: Path, count: int, nanos: bool) -> int:
    """Repeat `packets` into `target` (Ethernet pcap) until it holds `count`; each copy is shifted
    past the previous one so time keeps increasing."""
    span = packets[-1][0] + 1_000_000
    scale = 1 if nanos else 1000
    header = struct.Struct("<IIII")
    written = 0
    with target.open("wb") as out:
        out.write((NS_MAGIC if nanos else US_MAGIC) + struct.pack("<HHiIII", 2, 4, 0, 0, 262144, 1))
        base = 1_700_000_000 * 1_000_000_000
        while written < count:
            chunk = bytearray()
            for stamp, wire_len, data in packets[: count - written]:
                sec, frac = divmod(base + stamp, 1_000_000_000)
                chunk += header.pack(sec, frac // scale, len(data), wire_len) + data
            out.write(chunk)
            written += min(len(packets), count - written)
            base += span
    return written


def run(cmd: list[str]) -> tuple[float, float, int]:
    """Wall time, CPU time (user + system) and peak RSS (KiB), from wait4's rusage of this child."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        child = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.DEVNULL, cwd=REPO)
        _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit status {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def contenders(capture: Path) -> list[tuple[str, list[str]]]:
    py = sys.executable
    found = shutil.which("layerscope", path=str(Path(py).parent))
    layerscope = [found] if found else [py, "-m", "analyzer.cli"]
    return [
        ("tshark -r", ["tshark", "-r", str(capture)]),
        ("dpkt eth/ip/tcp loop", [py, "-c", DPKT_LOOP, str(capture)]),
        ("layerscope read -r", [*layerscope, "read", "-r", str(capture)]),
        ("PacketIndex build", [py, "-c", INDEX, str(capture)]),
    ]


def bench(capture: Path, count: int, repeat: int) -> None:
    # Interleaved rounds, best of each: a burst of load from elsewhere hits every contender alike.
    best: dict[str, tuple[float, float, int]] = {}
    for _round in range(repeat):
        for name, cmd in contenders(capture):
            elapsed, cpu, rss = run(cmd)
            if name not in best or elapsed < best[name][0]:
                best[name] = (elapsed, cpu, rss)
    tshark, tshark_cpu = best["tshark -r"][:2]
    dpkt_time = best["dpkt eth/ip/tcp loop"][0]
    print(
        f"{'contender':<22}{'wall s':>8}{'cpu s':>7}{'packets/s':>11}{'peak RSS MB':>12}"
        f"{'vs tshark':>10}{'(cpu)':>7}{'vs dpkt':>8}"
    )
    for name, (elapsed, cpu, rss) in best.items():
        print(
            f"{name:<22}{elapsed:>8.2f}{cpu:>7.2f}{count / elapsed:>11,.0f}{rss / 1024:>12.0f}"
            f"{tshark / elapsed:>9.2f}x{tshark_cpu / cpu:>6.2f}x{dpkt_time / elapsed:>7.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the best time of each counts")
    parser.add_argument("--only", choices=("tcp", "mixed"), help="bench one capture only")
    parser.add_argument("--out", type=Path, default=OUT, help="where the captures are built (bench/out)")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(exist_ok=True)
    captures = {
        "tcp": (out / "big-tcp.pcap", (REPO / "tests" / "data" / "http.pcap",), False),
        "mixed": (out / "big-mixed.pcap", MIXED_SOURCES, True),
    }
    for kind, (target, sources, nanos) in captures.items():
        if args.only and kind != args.only:
            continue
        count = build_capture(packets_of(sources), target, args.packets, nanos)
        size = target.stat().st_size / 1e6
        print(f"\n{target}: {count:,} packets ({size:.0f} MB), {repeat_note(args.repeat)}")
        bench(target, count, args.repeat)
    print("\nratios are speed multiples (>1 means faster than the reference; '(cpu)' compares user+system")
    print("CPU time with tshark's, steadier than wall time on a busy machine); RSS counts touched pages")
    print("of the memory-mapped capture, so readers that map the file show roughly its size")


def repeat_note(repeat: int) -> str:
    return "one run each" if repeat == 1 else f"best of {repeat} interleaved runs"


if __name__ == "__main__":
    main()
