"""Statistics view (`S`): capture properties as `capinfos` prints them, the protocol hierarchy as
`tshark -q -z io,phs` prints it, the top talkers, and packets and bytes over time."""

from __future__ import annotations

import os
import time
from array import array

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Footer, Sparkline, Static

from analyzer.textsafe import escape_label

from .views_base import NS, FactsView
from .views_collect import ViewFacts

TALKERS = 10
BUCKETS = 60


def capinfos_size(count: float, unit: str = "B", small: str = "bytes") -> str:
    """capinfos' size text (Wireshark's format_size): a 1000-based prefix from ten units up,
    whole units truncated ("225 kB", "1939 bytes/s", "15 kbps")."""
    for prefix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if count >= 10 * scale:
            return f"{int(count // scale)} {prefix}{unit}"
    return f"{int(count)} {small}"


def _file_type(path: str) -> str:
    with open(path, "rb") as raw:
        head = raw.read(4)
        gzipped = head[:2] == b"\x1f\x8b"
        if gzipped:
            import gzip

            with gzip.open(path, "rb") as unpacked:
                head = unpacked.read(4)
    names = {
        b"\xd4\xc3\xb2\xa1": "Wireshark/tcpdump/... - pcap",
        b"\xa1\xb2\xc3\xd4": "Wireshark/tcpdump/... - pcap",
        b"\x4d\x3c\xb2\xa1": "Wireshark/tcpdump/... - nanosecond pcap",
        b"\xa1\xb2\x3c\x4d": "Wireshark/tcpdump/... - nanosecond pcap",
        b"\x0a\x0d\x0d\x0a": "Wireshark/... - pcapng",
    }
    name = names.get(head, "unknown")
    return f"{name} (gzip compressed)" if gzipped else name


def _stamp(ns: int, digits: int) -> str:
    whole, fraction = divmod(ns, NS)
    text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(whole))
    return f"{text}.{fraction // 10 ** (9 - digits):0{digits}d}" if digits else text


def capture_properties(path: str, facts: ViewFacts, interface: str = "") -> list[tuple[str, str]]:
    """capinfos' main lines for the analysed packets of the file `path` or the live capture on
    `interface` (which has no file yet: its type and size are left out)."""
    packets = len(facts.timestamps)
    data_size = sum(facts.lengths)
    encapsulation = "Per packet" if len(facts.encapsulations) > 1 else next(iter(facts.encapsulations), "")
    if interface:
        lines = [("Interface", f"{interface} (live capture)")]
    else:
        lines = [("File name", path), ("File type", _file_type(path))]
    lines += [("File encapsulation", encapsulation), ("Number of packets", str(packets))]
    if not interface:
        lines.append(("File size", capinfos_size(os.path.getsize(path))))
    lines.append(("Data size", capinfos_size(data_size)))
    if packets:
        first, last, digits = min(facts.timestamps), max(facts.timestamps), facts.ts_digits
        duration = (last - first) / NS
        lines += [
            ("Capture duration", f"{duration:.{digits}f} seconds"),
            ("First packet time", _stamp(first, digits)),
            ("Last packet time", _stamp(last, digits)),
        ]
        if duration > 0:
            lines += [
                ("Data byte rate", capinfos_size(data_size / duration, "Bps", "bytes/s")),
                ("Data bit rate", capinfos_size(8 * data_size / duration, "bps", "bits/s")),
            ]
        lines.append(("Average packet size", f"{data_size / packets:.2f} bytes"))
        if duration > 0:
            lines.append(("Average packet rate", capinfos_size(packets / duration, "packets/s", "packets/s")))
    return lines


def hierarchy_lines(facts: ViewFacts) -> list[str]:
    """The body of `tshark -q -z io,phs` (same names, indentation and counts)."""
    return [
        f"{'  ' * depth}{node.name:<{41 - 2 * depth}}frames:{node.frames} bytes:{node.bytes}"
        for depth, node in facts.hierarchy.walk()
    ]


def over_time(facts: ViewFacts, buckets: int = BUCKETS) -> tuple[list[float], list[float], float]:
    """Packets and bytes per time bucket, and the bucket width in seconds."""
    stamps: array[int] = facts.timestamps
    if not stamps:
        return [], [], 0.0
    first, last = min(stamps), max(stamps)
    width = max((last - first) / buckets, 1.0)
    packets, sizes = [0.0] * buckets, [0.0] * buckets
    for stamp, size in zip(stamps, facts.lengths, strict=True):
        slot = min(int((stamp - first) / width), buckets - 1)
        packets[slot] += 1
        sizes[slot] += size
    return packets, sizes, width / NS


class StatsScreen(FactsView):
    ACTION = "statistics"
    DEFAULT_CSS = """
    StatsScreen Sparkline { height: 3; margin: 0 1; }
    StatsScreen .section { text-style: bold; margin-top: 1; padding: 0 1; }
    StatsScreen Static { padding: 0 1; }
    """

    def __init__(self, path: str, facts: ViewFacts, interface: str = "") -> None:
        """Statistics of the file `path`, or of the live capture on `interface`."""
        super().__init__()
        self.path = path
        self.facts = facts
        self.interface = interface

    def compose(self) -> ComposeResult:
        facts = self.facts
        yield Static("Statistics", classes="view-title")
        if facts.note():
            yield Static(facts.note(), classes="view-note")
        with VerticalScroll():
            properties = Table(show_header=False, box=None, padding=(0, 1))
            properties.add_column(style="bold cyan", no_wrap=True)
            properties.add_column()
            for name, value in capture_properties(self.path, facts, self.interface):
                properties.add_row(f"{name}:", Text(escape_label(value)))
            yield Static("Capture properties (capinfos)", classes="section")
            yield Static(properties, id="properties")
            yield Static("Protocol hierarchy (tshark -z io,phs)", classes="section")
            yield Static(Text("\n".join(hierarchy_lines(facts)) or "(no packets)"), id="hierarchy")
            yield Static("Top talkers", classes="section")
            yield Static(self._talkers(), id="talkers")
            packets, sizes, width = over_time(facts)
            yield Static(f"Packets over time ({width:.3f} s a bar)", classes="section")
            yield Sparkline(packets, id="packets-chart")
            yield Static(f"Bytes over time ({width:.3f} s a bar)", classes="section")
            yield Sparkline(sizes, id="bytes-chart")
        yield Footer()

    def _talkers(self) -> Table:
        table = Table(box=None, padding=(0, 2), header_style="bold")
        table.add_column("Address")
        table.add_column("Packets", justify="right")
        table.add_column("Bytes", justify="right")
        ranked = sorted(self.facts.talkers.items(), key=lambda item: (-item[1].bytes, item[0]))
        for address, talker in ranked[:TALKERS]:
            table.add_row(Text(escape_label(address)), str(talker.packets), str(talker.bytes))
        return table
