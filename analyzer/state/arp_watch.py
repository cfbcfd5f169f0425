"""ARP watch: which MAC claimed which IPv4 address, duplicate-address and request-storm warnings.

Duplicate addresses follow tshark 4.0's ARP dissector (pref arp.detect_duplicate_ips, on by
default). Only Ethernet/IPv4 requests and replies count. The sender's (MAC, IP) is checked when the
MAC is unicast and non-zero and the IP non-zero; for replies the target's pair too (unless the
sender check just reported the same IP). The first MAC seen for an IP owns it: the same MAC again
refreshes the entry, another MAC is reported as a duplicate and does NOT take the entry over, so an
ARP spoofer is reported on every claim it makes, for the rest of the capture.
The report is a top-level tree item after the ARP layer, as tshark prints it:

    [Duplicate IP address detected for 10.0.0.2 (MAC) - also in use by OWNER (frame N)]
        [Frame showing earlier use of IP address: N]   arp.duplicate-address-frame, with the
            expert "Duplicate IP address configured (10.0.0.2)" (arp.duplicate-address-detected)
        [Seconds since earlier frame seen: S]          whole seconds, as tshark (abs secs - secs)

Storms follow tshark's arp.detect_request_storms (30 requests within 100 ms: the 31st is reported,
"ARP packet storm detected (30 packets in < 100 ms)", arp.packet-storm-detected, then counting
restarts). tshark leaves that pref off, and so does ArpWatchAnnotator() by default, so that our
trees match tshark's; `ArpWatchAnnotator(detect_storms=True)` turns it on.

Beyond tshark, ArpTable keeps every (IP, MAC) claim with its frames for reports (`conflicts()`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analyzer.model import Dissection, Field, Layer, Problem, Severity

NS = 1_000_000_000
REQUEST, REPLY = 1, 2
ZERO_MAC = "00:00:00:00:00:00"
STORM_PACKETS = 30
STORM_PERIOD_MS = 100


@dataclass(slots=True)
class Owner:
    """tshark's table entry for an IP: the MAC that claimed it first, refreshed by that MAC."""

    mac: str
    frame: int
    seconds: int


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A second MAC claiming an IP: `owner_*` is the entry it collides with."""

    ip: str
    mac: str
    owner_mac: str
    owner_frame: int
    seconds_since: int


@dataclass(slots=True)
class Claim:
    """Every frame in which one MAC claimed one IP (sender, or target of a reply)."""

    ip: str
    mac: str
    frames: list[int] = field(default_factory=list)


class ArpTable:
    """Sans-IO: feed (IP, MAC) claims in capture order; `claim` returns a Duplicate or None."""

    def __init__(self) -> None:
        self._owners: dict[str, Owner] = {}
        self._claims: dict[tuple[str, str], Claim] = {}

    def claim(self, ip: str, mac: str, frame: int, timestamp_ns: int) -> Duplicate | None:
        claim = self._claims.setdefault((ip, mac), Claim(ip, mac))
        if not claim.frames or claim.frames[-1] != frame:
            claim.frames.append(frame)
        seconds = timestamp_ns // NS
        owner = self._owners.get(ip)
        if owner is None:
            self._owners[ip] = Owner(mac, frame, seconds)
            return None
        if frame <= owner.frame:
            return None
        if owner.mac == mac:
            owner.frame, owner.seconds = frame, seconds
            return None
        # tshark stores the seconds difference in a guint32.
        since = (seconds - owner.seconds) & 0xFFFFFFFF
        return Duplicate(ip, mac, owner.mac, owner.frame, since)

    def owner(self, ip: str) -> Owner | None:
        return self._owners.get(ip)

    def claims(self) -> list[Claim]:
        return list(self._claims.values())

    def conflicts(self) -> dict[str, list[Claim]]:
        """IPs claimed by more than one MAC, each with its claims in order of first appearance."""
        by_ip: dict[str, list[Claim]] = {}
        for claim in self._claims.values():
            by_ip.setdefault(claim.ip, []).append(claim)
        return {ip: found for ip, found in by_ip.items() if len(found) > 1}


class StormDetector:
    """tshark's request-storm counter: one running count over the whole capture."""

    def __init__(self, packets: int = STORM_PACKETS, period_ms: int = STORM_PERIOD_MS) -> None:
        self.packets = packets
        self.period_ms = period_ms
        self._count = 0
        self._start_ns = 0

    def feed(self, is_request: bool, timestamp_ns: int) -> bool:
        """Whether this ARP packet (of any opcode; only requests are counted) reports a storm."""
        if is_request:
            self._count += 1
        start_s, start_frac = divmod(self._start_ns, NS)
        now_s, now_frac = divmod(timestamp_ns, NS)
        frac = now_frac - start_frac
        # C integer division truncates toward zero.
        gap = (now_s - start_s) * 1000 + (frac // 1_000_000 if frac >= 0 else -(-frac // 1_000_000))
        if gap > self.period_ms or gap < 0:
            self._count, self._start_ns = 1, timestamp_ns
            return False
        if self._count > self.packets:
            self._count, self._start_ns = 0, timestamp_ns
            return True
        return False


def _node(name: str, label: str, value: int | bool | None, show: str, hidden: bool = False) -> Field:
    return Field(name, label, value, show, -1, 0, generated=True, hidden=hidden)


def _value(layer: Layer, name: str) -> str | None:
    found = layer.find(name)
    return str(found.value) if found is not None and found.value is not None else None


def _claimable(mac: str | None, ip: str | None) -> bool:
    """tshark skips broadcast/multicast and all-zero MACs, and the IP 0.0.0.0."""
    return (
        mac is not None
        and ip is not None
        and mac != ZERO_MAC
        and not int(mac[:2], 16) & 1
        and ip != "0.0.0.0"
    )


class ArpWatchAnnotator:
    """Adds tshark's duplicate-address reports (and, if asked, storm reports) to ARP packets."""

    def __init__(self, detect_duplicates: bool = True, detect_storms: bool = False) -> None:
        self.detect_duplicates = detect_duplicates
        self.detect_storms = detect_storms
        self.table = ArpTable()
        self.storms = StormDetector()

    def annotate(self, dissection: Dissection) -> Dissection:
        for index, layer in enumerate(dissection.layers):
            if layer.proto == "arp" and layer.find("arp.opcode") is not None:
                self._packet(dissection, index, layer)
                break
        return dissection

    def _packet(self, dissection: Dissection, index: int, layer: Layer) -> None:
        opcode_field = layer.find("arp.opcode")
        opcode = opcode_field.value if opcode_field is not None else None
        frame, now = dissection.frame.number, dissection.frame.timestamp_ns
        reports: list[Layer] = []
        if opcode in (REQUEST, REPLY) and self.detect_duplicates:
            # arp.src.hw_mac / proto_ipv4 exist only for Ethernet/IPv4 ARP (tshark's same test).
            pairs = [(_value(layer, "arp.src.hw_mac"), _value(layer, "arp.src.proto_ipv4"))]
            if opcode == REPLY:
                pairs.append((_value(layer, "arp.dst.hw_mac"), _value(layer, "arp.dst.proto_ipv4")))
            reported: str | None = None
            for mac, ip in pairs:
                if not _claimable(mac, ip) or ip == reported or mac is None or ip is None:
                    continue
                found = self.table.claim(ip, mac, frame, now)
                if found is not None:
                    reported = ip
                    reports.append(duplicate_report(layer, found))
        if self.detect_storms and self.storms.feed(opcode == REQUEST, now):
            storm_report(layer, self.storms)
        dissection.layers[index + 1 : index + 1] = reports


def duplicate_report(arp: Layer, found: Duplicate) -> Layer:
    """tshark's top-level "[Duplicate IP address detected ...]" tree, as a byte-less layer."""
    label = (
        f"[Duplicate IP address detected for {found.ip} ({found.mac}) - also in use by"
        f" {found.owner_mac} (frame {found.owner_frame})]"
    )
    report = Layer("arp", label, arp.offset, 0, depth=arp.depth, short_name=arp.short_name, source=arp.source)
    frame = report.add(
        _node(
            "arp.duplicate-address-frame",
            f"[Frame showing earlier use of IP address: {found.owner_frame}]",
            found.owner_frame,
            str(found.owner_frame),
        )
    )
    message = f"Duplicate IP address configured ({found.ip})"
    expert = frame.add(_node("arp.duplicate-address-detected", message, True, "1", hidden=True))
    report.problems.append(
        Problem("arp.duplicate-address-detected", Severity.WARNING, message, -1, 0, "Sequence", about=expert)
    )
    since = found.seconds_since
    report.add(
        _node(
            "arp.seconds-since-duplicate-address-frame",
            f"[Seconds since earlier frame seen: {since}]",
            since,
            str(since),
        )
    )
    return report


def storm_report(arp: Layer, storms: StormDetector) -> None:
    message = f"ARP packet storm detected ({storms.packets} packets in < {storms.period_ms} ms)"
    item = arp.add(Field("arp.packet-storm-detected", message, True, "1", -1, 0))
    arp.problems.append(
        Problem("arp.packet-storm-detected", Severity.NOTE, message, -1, 0, "Sequence", about=item)
    )
