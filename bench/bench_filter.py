"""Display-filter benchmark: `layerscope read -Y` against `tshark -Y`, same filters, one run.

    /tmp/venv/bin/python bench/bench_filter.py [--packets 1000000]

Builds bench/out/big-mixed.pcap with bench_read.py's builder (the sample capture's DHCP, ARP, DNS,
TCP/HTTP, ICMP packets and more, repeated and time-shifted), then times each filter with both
tools, output to /dev/null, each in its own subprocess, once, in this run.
`tcp.flags.syn==1 && tcp.flags.ack==0` runs on the fast path (struct-decoded headers, no trees);
`dns.qry.name contains "example"` is a valid Wireshark filter on a protocol we do not dissect
yet, so it compiles to "never" and needs no dissection at all (tshark dissects every packet).
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

FILTERS = ("tcp.flags.syn==1 && tcp.flags.ack==0", 'dns.qry.name contains "example"')


def matches(cmd: list[str]) -> int:
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=True)
    return done.stdout.count("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    big = OUT / "big-mixed.pcap"
    count = build_capture(packets_of(MIXED_SOURCES), big, args.packets, True)
    print(f"{big.relative_to(REPO)}: {count:,} packets ({big.stat().st_size / 1e6:.0f} MB)")
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
    print("ratios are speed multiples (>1 means faster than tshark; '(cpu)' compares user+system time)")
    print("layerscope shows no DNS packets until the DNS dissector lands: the filter is valid but absent")


if __name__ == "__main__":
    main()
