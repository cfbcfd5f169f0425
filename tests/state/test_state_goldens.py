"""The TCP/UDP trackers reproduce tshark 4.0's per-frame analysis cells on every real capture.

Facts are extracted with dpkt here, in test code only (the project's TCP/UDP dissectors land in
parallel; the session will later extract the same facts from dissections). The goldens come from
tests/golden/make_tcp_goldens.py.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dpkt
import pytest

from analyzer.state.community_id import PROTO_ICMP, PROTO_ICMPV6, community_id, icmp_ports
from analyzer.state.tcp_facts import TcpSegment
from analyzer.state.tcp_fields import tcp_cells
from analyzer.state.tcp_tracker import TcpTracker
from analyzer.state.udp_tracker import UdpTracker
from captures.pcapfile import open_capture

TESTS = Path(__file__).resolve().parent.parent
GOLDEN = TESTS / "golden" / "out" / "tcp-analysis"
DATA = TESTS / "data"


@dataclass(frozen=True, slots=True)
class Transport:
    """The outermost IP packet of a frame and what it carries (not inside ICMP errors)."""

    src: str
    dst: str
    proto: int
    body: object
    body_len: int  # reported length of the transport header plus payload
    first_fragment: bool


def _ip_layer(linktype: int, data: bytes) -> object | None:
    try:
        if linktype == 1:
            return dpkt.ethernet.Ethernet(data).data
        if linktype == 113:
            return dpkt.sll.SLL(data).data
        if linktype == 276:
            return dpkt.sll2.SLL2(data).data
        if linktype in (0, 108):
            family = int.from_bytes(data[:4], "little" if linktype == 0 else "big")
            if family not in (2, 24, 28, 30):
                family = int.from_bytes(data[:4], "big")
            body = data[4:]
            return dpkt.ip.IP(body) if family == 2 else dpkt.ip6.IP6(body)
        if linktype in (101, 228, 229, 12, 14):
            return dpkt.ip.IP(data) if data[0] >> 4 == 4 else dpkt.ip6.IP6(data)
    except (dpkt.UnpackError, IndexError, ValueError):
        return None
    return None


def transport(linktype: int, data: bytes) -> Transport | None:
    ip = _ip_layer(linktype, data)
    if isinstance(ip, dpkt.ip.IP):
        first = (ip.off & 0x1FFF) == 0
        return Transport(
            socket.inet_ntop(socket.AF_INET, ip.src),
            socket.inet_ntop(socket.AF_INET, ip.dst),
            ip.p,
            ip.data,
            ip.len - ip.hl * 4,
            first,
        )
    if isinstance(ip, dpkt.ip6.IP6):
        ext = sum(len(bytes(h)) for h in ip.extension_hdrs.values() if h is not None)
        fragment = ip.extension_hdrs.get(44)
        later_fragment = fragment is not None and fragment.frag_off != 0
        return Transport(
            socket.inet_ntop(socket.AF_INET6, ip.src),
            socket.inet_ntop(socket.AF_INET6, ip.dst),
            ip.p,
            ip.data,
            ip.plen - ext,
            not later_fragment,
        )
    return None


def tcp_segment(number: int, ts: int, t: Transport) -> TcpSegment | None:
    tcp = t.body
    if not isinstance(tcp, dpkt.tcp.TCP) or not t.first_fragment:
        return None
    scale = mss = tsopt = None
    sack_ok = False
    blocks: list[tuple[int, int]] = []
    for kind, value in dpkt.tcp.parse_opts(tcp.opts):
        if kind == 3 and len(value) == 1:
            scale = value[0]
        elif kind == 2 and len(value) == 2:
            mss = int.from_bytes(value, "big")
        elif kind == 4:
            sack_ok = True
        elif kind == 5:
            blocks += [
                (int.from_bytes(value[i : i + 4], "big"), int.from_bytes(value[i + 4 : i + 8], "big"))
                for i in range(0, len(value) - 7, 8)
            ]
        elif kind == 8 and len(value) == 8:
            tsopt = (int.from_bytes(value[:4], "big"), int.from_bytes(value[4:], "big"))
    header = tcp.off * 4
    raw = bytes(tcp)
    flags = int.from_bytes(raw[12:14], "big") & 0x0FFF
    return TcpSegment(
        frame=number,
        timestamp_ns=ts,
        src=t.src,
        dst=t.dst,
        sport=tcp.sport,
        dport=tcp.dport,
        seq=tcp.seq,
        ack=tcp.ack,
        flags=flags,
        window=tcp.win,
        payload_len=t.body_len - header,
        window_scale=scale,
        mss=mss,
        sack_permitted=sack_ok,
        sack_blocks=tuple(blocks),
        timestamps=tsopt,
        payload=bytes(tcp.data),
    )


ICMP_ERRORS = {PROTO_ICMP: {3, 4, 5, 11, 12}, PROTO_ICMPV6: {1, 2, 3, 4}}


def quoted_udp(t: Transport) -> tuple[str, int, str, int] | None:
    """The UDP header quoted in an ICMP error, which tshark also gives a udp.stream."""
    inner_bytes = bytes(t.body.data)[4:] if t.proto in ICMP_ERRORS else b""
    if not inner_bytes or t.body.type not in ICMP_ERRORS[t.proto]:
        return None
    try:
        inner = dpkt.ip.IP(inner_bytes) if inner_bytes[0] >> 4 == 4 else dpkt.ip6.IP6(inner_bytes)
    except (dpkt.UnpackError, IndexError, ValueError):
        return None
    if not isinstance(inner.data, dpkt.udp.UDP):
        return None
    family = socket.AF_INET if isinstance(inner, dpkt.ip.IP) else socket.AF_INET6
    src, dst = socket.inet_ntop(family, inner.src), socket.inet_ntop(family, inner.dst)
    return src, inner.data.sport, dst, inner.data.dport


def our_rows(capture: Path) -> Iterator[dict[str, str]]:
    tcp_tracker, udp_tracker = TcpTracker(), UdpTracker()
    with open_capture(capture) as reader:
        for frame in reader:
            cells = {"frame.number": str(frame.number)}
            t = transport(frame.linktype, frame.data)
            if t is None:
                yield cells
                continue
            if not t.first_fragment:
                # tshark (no defragmentation) hashes later IPv4 fragments without ports, and
                # does not look into IPv6 fragments at all.
                if ":" not in t.src:
                    cells["communityid"] = community_id(t.src, t.dst, t.proto, has_ports=False)
                yield cells
                continue
            seg = tcp_segment(frame.number, frame.timestamp_ns, t)
            if seg is not None:
                cells.update(tcp_cells(tcp_tracker.feed(seg)))
                cells["communityid"] = community_id(t.src, t.dst, 6, seg.sport, seg.dport)
            elif isinstance(t.body, dpkt.udp.UDP):
                udp = t.body
                stream = udp_tracker.feed(
                    t.src, udp.sport, t.dst, udp.dport, udp.ulen - 8, frame.timestamp_ns
                )
                cells["udp.stream"] = str(stream)
                cells["communityid"] = community_id(t.src, t.dst, 17, udp.sport, udp.dport)
            elif isinstance(t.body, dpkt.icmp.ICMP | dpkt.icmp6.ICMP6):
                sport, dport, one_way = icmp_ports(t.proto, t.body.type, t.body.code)
                cells["communityid"] = community_id(t.src, t.dst, t.proto, sport, dport, one_way=one_way)
                quoted = quoted_udp(t)
                if quoted is not None:
                    qsrc, qsport, qdst, qdport = quoted
                    stream = udp_tracker.feed(
                        qsrc, qsport, qdst, qdport, 0, frame.timestamp_ns, counted=False
                    )
                    cells["udp.stream"] = str(stream)
            yield cells


def golden_files() -> list[Path]:
    return sorted(GOLDEN.glob("*.txt"))


def compare(golden: Path) -> tuple[dict[str, list[int]], list[str]]:
    """Per field: [matching cells, compared cells]; and the first mismatches."""
    lines = golden.read_text(encoding="utf-8").split("\n")
    header = lines[0].split("\t")
    expected = [line.split("\t") for line in lines[1:] if line]
    counts = {name: [0, 0] for name in header}
    mismatches: list[str] = []
    rows = list(our_rows(DATA / golden.name.removesuffix(".txt")))
    assert len(rows) == len(expected), f"we read {len(rows)} frames, tshark {len(expected)}"
    for ours, want_row in zip(rows, expected, strict=True):
        for name, want in zip(header, want_row, strict=True):
            got = ours.get(name, "")
            counts[name][1] += 1
            if got == want:
                counts[name][0] += 1
            elif len(mismatches) < 40:
                mismatches.append(f"frame {ours['frame.number']} {name}: ours {got!r} tshark {want!r}")
    return counts, mismatches


@pytest.mark.parametrize("golden", golden_files(), ids=lambda p: p.stem)
def test_tracker_cells_equal_tshark(golden: Path) -> None:
    counts, mismatches = compare(golden)
    total = sum(c[1] for c in counts.values())
    good = sum(c[0] for c in counts.values())
    assert not mismatches, f"{total - good} of {total} cells differ:\n" + "\n".join(mismatches)


if __name__ == "__main__":  # match-rate report: python tests/state/test_state_goldens.py
    for path in golden_files():
        field_counts, _ = compare(path)
        bad = {k: v for k, v in field_counts.items() if v[0] != v[1]}
        cells = sum(v[1] for v in field_counts.values())
        matched = sum(v[0] for v in field_counts.values())
        print(f"{path.stem}: {matched}/{cells} cells equal", *(f"{k}={v[0]}/{v[1]}" for k, v in bad.items()))
