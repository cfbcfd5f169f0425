"""Regenerate the display-filter goldens: `python tests/golden/make_filter_goldens.py`.

For every filter of FILTERS and every capture in tests/data, runs `tshark -Y FILTER` (the exact
command is `command()` below, with make_goldens.py's -o preferences) and records the numbers of
the matching frames in tests/golden/out/filter/matches.tsv (capture, filter, frames). For every
filter of BROKEN it records tshark's exit status, message and the column range its caret line
points at in tests/golden/out/filter/errors.tsv. Review the result as a diff before committing.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import subprocess  # noqa: E402

from make_goldens import PREFS, captures  # noqa: E402

OUT = HERE / "out" / "filter"

# At least one filter per operator, literal kind and semantic rule of the issue.
FILTERS = [
    # protocol and field presence
    "ip",
    "ipv6",
    "arp",
    "tcp",
    "udp",
    "icmp",
    "icmpv6",
    "vlan",
    "eth",
    "sll",
    "null",
    "data",
    "tcp.options.mss",
    "ipv6.fraghdr",
    "tcp.flags.syn",
    "!ip",
    "not tcp",
    "dns",
    'dns.qry.name contains "example"',
    "http.request",
    "tcp.analysis.retransmission",
    # comparisons, symbolic and word forms
    "frame.len == 74",
    "frame.len eq 74",
    "frame.len != 74",
    "frame.len ne 74",
    "frame.len > 100",
    "frame.len gt 100",
    "frame.len < 60",
    "frame.len lt 60",
    "frame.len >= 98",
    "frame.len ge 98",
    "frame.len <= 54",
    "frame.len le 54",
    "frame.cap_len < frame.len",
    "ip.ttl == 64 && ip.proto == 6",
    "tcp.window_size_value > 1000 and tcp.len > 0",
    "udp || arp",
    "udp or arp",
    "(tcp || udp) && !(ip.ttl == 64)",
    "!(ip.src == 10.77.0.1) && ip",
    # integers in decimal, hex, octal, binary, char constants
    "frame.len == 0x4a",
    "frame.len == 0112",
    "frame.len == 0b1001010",
    "ip.proto == 0x11",
    "data.data[0] == 'a'",
    # booleans
    "tcp.flags.syn == 1",
    "tcp.flags.syn == True",
    "tcp.flags.syn == 0",
    "tcp.flags.ack == False",
    "tcp.flags.syn == 1 && tcp.flags.ack == 0",
    "ip.flags.df == 1",
    # bitwise and
    "tcp.flags & 0x02",
    "tcp.flags & 0x12 == 0x12",
    "!(tcp.flags & 0x10)",
    "tcp.flags bitwise_and 0x04",
    "ip.dsfield & 0x03",
    # membership, ranges
    "udp.port in {53, 67, 68}",
    "tcp.port in {80, 443, 8080}",
    "tcp.port in {1..1024}",
    "frame.len in {54..66, 98}",
    "udp.port not in {53}",
    "ip.addr in {10.77.0.0/24, 10.77.1.2}",
    "icmp.type in {3, 11}",
    # slices
    "eth.src[0:3] == 02:77:00",
    # A bare "ff" would be Wireshark's "ff" protocol (Foundation Fieldbus), not a byte.
    "eth.dst[0:2] == ff:ff",
    "eth.src[3:] == 00:00:0a",
    "eth.src[:2] == 02:77",
    "eth.src[4-5] == 00:0a",
    "eth.src[0,5] == 02:0a",
    "frame[-1] == 00",
    "frame[12:2] == 08:00",
    "ip.src[0:1] == 0a",
    "ip.dst[3] == 02",
    "eth.src[10:2] == 00:0a",
    # CIDR and addresses
    "ip.addr == 10.0.0.0/8",
    "ip.src == 10.77.0.0/24",
    "ip.dst == 10.77.1.0/24",
    "ip.addr == 10.77.0.1",
    "ip.src == 10.77.0.2 || ip.dst == 10.77.0.2",
    "ipv6.addr == fe80::/10",
    "ipv6.src == ::1",
    "ipv6.addr == fd00::/8",
    "ipv6.dst == ff02::1:ff00:0/104",
    "eth.addr == ff:ff:ff:ff:ff:ff",
    "eth.src == 02-77-00-00-00-0a",
    "eth.dst == 0277.0000.000b",
    "arp.src.proto_ipv4 == 10.77.0.1",
    "ip.src > 10.77.0.1",
    # either-direction fields
    "tcp.port == 8080",
    "udp.port == 53",
    "tcp.port >= 40000",
    # multiple occurrences and != semantics
    "ip.src != 10.77.0.1",
    "ip.src ~= 10.77.0.1",
    "ip.src any_ne 10.77.0.1",
    "ip.src === 10.77.0.1",
    "ip.src all_eq 10.77.0.1",
    "ip.dst != 10.77.0.1",
    "udp.port != 53",
    "not udp.port == 53",
    "ip.src == ip.dst",
    "ip.src != ip.dst",
    "ip.src#2 == 10.77.0.1",
    "ip.ttl#1 == 64",
    "count(ip.src) == 2",
    "icmp && udp",
    "ip.proto == 17 && icmp",
    # strings, escapes, contains, matches
    'frame.protocols == "eth:ethertype:ip:tcp"',
    'frame.protocols contains "icmp"',
    "frame.protocols contains hopopts",
    'frame.protocols matches "^eth:.*:udp$"',
    'frame.protocols ~ "IP:TCP"',
    'frame.protocols matches "(?-i)IP:TCP"',
    'frame.protocols == "eth:\\x65thertype:ip:tcp"',
    'frame.protocols == r"eth:ethertype:ip:tcp"',
    'upper(frame.protocols) contains "ICMP"',
    'lower(frame.protocols) == "eth:ethertype:arp"',
    # byte strings and protocols' bytes
    'frame contains "GET"',
    'tcp contains "HTTP"',
    "tcp.payload contains 47:45:54",
    "udp.payload[0:2] == 00:00",
    "data.data contains 00:01",
    "eth.type == 0x86dd",
    'frame matches "host"',
    "len(ip) == 20",
    "len(tcp.payload) > 100",
    # arithmetic
    "ip.ttl + 1 == 65",
    "{frame.len - 14} == ip.len",
    "tcp.len * 2 > 60",
    # derived and time fields
    "frame.number <= 3",
    "frame.number in {1, 3, 5}",
    "frame.time_relative >= 0.001",
    "frame.time_relative == 0",
    "frame.time_delta > 0.1",
    'frame.time >= "2020-01-01 00:00:00"',
    "frame.encap_type == 1",
    "ip.checksum.status == 2",
    "tcp.checksum.status == 1",
]

# Broken filters: tshark rejects each with exit status 2 and (mostly) a caret line.
BROKEN = [
    "ip.src == 300.1.1.1",
    "foo.bar",
    "ip.src ==",
    'frame contains "abc',
    "udp.port in {53 67 68}",
    "tcp.flags.syn == true",
    "(ip.src == 1.2.3.4",
    "ip.src == 1.2.3.4)",
    "tcp.port == 70000",
    "ip.src == 10.0.0.0/33",
    "&& ip",
    "ip and",
    "ip.src contains 1",
    "tcp.port contains 1",
    "udp.port[0] == 0x82",
    'ip.src == "1.2.3.4"',
    "ip.src == foo",
    "ip.src==1.2.3.4 ip.dst==1.2.3.4",
    "!",
    "tcp.srcport == 1.5",
    "eth.src == 02:77:00:00:00",
    "foo(ip.src)",
    "frame.protocols == eth",
    "frame.len == 74.0",
    'tcp.port in {"80"}',
    "",
]


def command(capture: Path, display_filter: str) -> list[str]:
    cmd = ["tshark", "-n"]
    for pref in PREFS:
        cmd += ["-o", pref]
    return [*cmd, "-r", str(capture), "-Y", display_filter, "-T", "fields", "-e", "frame.number"]


def run_one(capture: Path, display_filter: str) -> str:
    result = subprocess.run(command(capture, display_filter), capture_output=True, text=True, check=True)
    return f"{capture.name}\t{display_filter}\t{','.join(result.stdout.split())}\n"


def run_broken(display_filter: str) -> str:
    capture = HERE.parent / "data" / "icmp.pcap"
    result = subprocess.run(command(capture, display_filter), capture_output=True, text=True)
    lines = [line for line in result.stderr.splitlines() if not line.startswith("Running as")]
    message = lines[0].removeprefix("tshark: ") if lines else ""
    start = end = -1
    if len(lines) >= 3 and "^" in lines[2]:
        caret = lines[2].removeprefix("    ")
        start = caret.index("^")
        end = start + len(caret.strip())
    return f"{display_filter}\t{result.returncode}\t{start}\t{end}\t{message}\n"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    jobs = [(capture, text) for capture in captures() for text in FILTERS]
    with ThreadPoolExecutor(max_workers=8) as pool:
        rows = list(pool.map(lambda job: run_one(*job), jobs))
        broken = list(pool.map(run_broken, BROKEN))
    (OUT / "matches.tsv").write_text("capture\tfilter\tframes\n" + "".join(rows), encoding="utf-8")
    (OUT / "errors.tsv").write_text(
        "filter\tstatus\tstart\tend\tmessage\n" + "".join(broken), encoding="utf-8"
    )
    print(f"filter: {len(FILTERS)} filters x {len(captures())} captures, {len(BROKEN)} broken filters")


if __name__ == "__main__":
    main()
