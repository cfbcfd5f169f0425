"""Display-filter benchmark: `layerscope read -Y` against `tshark -Y`, same filters, one run.

    /tmp/venv/bin/python bench/bench_filter.py [--packets 1000000] [--only tcp|mixed] [--out DIR]

Builds bench_read.py's two captures (big-tcp.pcap: an HTTP bulk transfer; big-mixed.pcap: DHCP,
ARP, DNS, TCP/HTTP, ICMP errors, VLAN, IPv4/IPv6 fragments), then times each filter with both
tools, output to /dev/null, each in its own subprocess, once, in this run.
`tcp.flags.syn==1 && tcp.flags.ack==0` runs on the fast path (struct-decoded headers, no trees);
packets the fast path does not fully understand (ICMP errors quoting a packet, first fragments)
go through the protocol prefilter (analyzer/filter/prefilter.py), which builds a tree only for
those that may hold TCP. `dns.qry.name contains ...` needs DNS trees: the prefilter builds them
(and feeds the annotators) only for packets that may hold DNS (DNS ports, ICMP errors quoting
them); "example" matches nothing in these captures, "lab" matches every DNS query and response.
No assertions: numbers are for reading.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_read import MIXED_SOURCES, OUT, REPO, build_capture, packets_of, run  # noqa: E402

FILTERS = (
    "tcp.flags.syn==1 && tcp.flags.ack==0",
    'dns.qry.name contains "example"',
    'dns.qry.name contains "lab"',
)


def matches(cmd: list[str]) -> int:
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=True)
    return done.stdout.count("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
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
        if args.only in (None, kind):
            count = build_capture(packets_of(sources), target, args.packets, nanos)
            print(f"\n{target}: {count:,} packets ({target.stat().st_size / 1e6:.0f} MB)")
            bench(target, count)
    print("\nratios are speed multiples (>1 means faster than tshark; '(cpu)' compares user+system time)")


def bench(big: Path, count: int) -> None:
    layerscope = shutil.which("layerscope", path=str(Path(sys.executable).parent)) or "layerscope"
    print(
        f"{'filter':<38}{'tool':<12}{'shown':>8}{'seconds':>9}{'packets/s':>12}{'RSS MB':>8}"
        f"{'vs tshark':>11}{'(cpu)':>8}"
    )
    for text in FILTERS:
        contenders = {
            "layerscope": [layerscope, "read", "-n", "-r", str(big), "-Y", text],
            "tshark": ["tshark", "-n", "-r", str(big), "-Y", text],
        }
        results = {name: run(cmd) for name, cmd in contenders.items()}
        shown = {name: matches(cmd) for name, cmd in contenders.items()}
        tshark_wall, tshark_cpu, _rss = results["tshark"]
        for name, (wall, cpu, rss) in results.items():
            print(
                f"{text:<38}{name:<12}{shown[name]:>8,}{wall:>9.2f}{count / wall:>12,.0f}{rss / 1024:>8.0f}"
                f"{tshark_wall / wall:>10.2f}x{tshark_cpu / max(cpu, 1e-9):>7.2f}x"
            )


if __name__ == "__main__":
    main()
