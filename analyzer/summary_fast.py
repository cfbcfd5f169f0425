"""tshark's `-r` summary lines at speed: Ethernet/IPv4/TCP and UDP are formatted inline.

`analyzer.summary.write_summary_lines` runs here. The packets that make up nearly all traffic
(Ethernet II, IPv4 without options or fragment offset, TCP or UDP) are decoded in the loop itself:
one struct unpack, address texts cached already padded to their column, the TCP connection table
read with one slice of the packet as key, the line built by one f-string. Everything else goes
through `Summarizer.summarize` + `format_line`, which share that table, so either path gives the
same text for the same bytes (tests/analyzer/test_summary_fast.py holds them to it on mutated
frames). Per-packet function calls and attribute writes are what a Python loop pays for, so this
one keeps its state in locals and builds no row objects.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TextIO

from analyzer.context import Preferences
from analyzer.summary import (
    _FLAG_TEXT,
    _NOP_NOP_TS,
    Summarizer,
    TimeColumn,
    _seconds,
    _tcp_options,
    format_line,
)
from analyzer.summary import ipv4_text as _ipv4_text
from analyzer.summary import ipv6_text as _ipv6_text
from analyzer.summary_apps import TCP_APP_PORTS, UDP_APP_PORTS, may_start_message
from captures.types import RawRecord

# An IPv4 header at byte 14: version/IHL, total length, flags/fragment offset, TTL, protocol, src, dst.
_IPV4 = struct.Struct("!14xBxH2xHBB2x4s4s")
# A TCP header from its first byte: ports, seq, ack, data offset, flags, window, (checksum), urgent.
_TCP = struct.Struct("!HHIIBBH2xH")
_TS_PAIR = struct.Struct("!II")
_MASK = 0xFFFFFFFF
_BATCH = 8192
# Address-text caches are cleared past this size: bounded memory whatever the capture holds.
_CACHE_LIMIT = 65536


def write_lines(
    records: Iterable[RawRecord],
    out: TextIO,
    time_format: str = "r",
    limit: int | None = None,
    resolve_names: bool = False,
    escape: Callable[[str], str] | None = None,
    prompt: bool = False,
    prefs: Preferences | None = None,
) -> int:
    """Print one line a packet exactly as `tshark -r FILE` (4.0) does; return the packet count.

    `prefs` (Summarizer.for_lines): tshark's tcp.analyze_sequence_numbers puts the TCP analysis
    tags in front of a segment's Info, running the TCP tracker over every segment (the costliest
    part of a line); ip.defragment / ipv6.defragment hold fragments back.

    `prompt` writes and flushes each line before waiting for the next record (a pipe that another
    process is still writing: `tcpdump -U -w - | layerscope read -r -`); lines are batched otherwise.

    `escape`, when given, is applied to every line that carries text taken from a packet (names,
    ARP/ethertype texts...); the inline lines hold only numbers, addresses and fixed texts.
    """
    clock = TimeColumn(time_format)
    relative = time_format == "r"
    summarizer = Summarizer.for_lines(resolve_names, prefs)
    # With IPv4 reassembly a first fragment is held too: only unfragmented packets go inline.
    fragment_bits = 0x3FFF if summarizer.defragments_ipv4 else 0x1FFF
    # Without the analysis tshark shows raw sequence numbers: the bases are then all zero.
    relative_sequence = not summarizer.absolute_sequence
    summarize, icmp_info = summarizer.summarize, summarizer.icmp_info
    tagger = summarizer.tagger
    tag = _no_tags
    segment_tags = None
    if tagger is not None:
        from analyzer.export.flows_facts import address_text, tcp_segment

        tag, segment_tags = tagger.tags, tagger.segment_tags
    tcp_get = summarizer._tcp.get
    tcp_bases = summarizer.tcp_bases
    tcp_app_info = summarizer.tcp_app_info
    ipv4, tcp_header, ts_pair = _IPV4.unpack_from, _TCP.unpack_from, _TS_PAIR.unpack_from
    flag_text = _FLAG_TEXT
    # Raw address -> its text padded as the Source (right-aligned) / Destination column.
    sources: dict[bytes, str] = {}
    destinations: dict[bytes, str] = {}
    # TCP connection key -> ("  Source → Destination   TCP ", " sport → dport ") of its lines,
    # then the source and destination as the TCP tracker's segments spell them.
    connection_texts: dict[bytes, tuple[str, str, str, str]] = {}
    batch: list[str] = []
    append = batch.append
    first = -1
    count = 0
    if limit is not None:
        records = islice(records, limit)
    if prompt:
        records = _flushing(records, batch, out)
    for _offset, stamp, wire_len, linktype, digits, _iface, data in records:
        if len(batch) >= _BATCH:
            _flush(batch, out)
        count += 1
        # The Time column, right-aligned to 10: "{seconds:>3}.{6 digits}" is that for µs.
        if relative:
            if count == 1:
                first = stamp
            delta = stamp - first
            if digits == 6 and delta >= 0:
                when = f"{delta // 1_000_000_000:>3}.{delta // 1000 % 1_000_000:06d}"
            elif digits == 9 and delta >= 0:
                when = f"{delta // 1_000_000_000}.{delta % 1_000_000_000:09d}"
            else:
                when = f"{_seconds(delta, digits):>10}"
        else:
            when = f"{clock.text(stamp, digits):>10}"
        size = len(data)
        # Ethernet II carrying IPv4 without options or fragment offset, or IPv6 without extension
        # headers: `at` is where the transport header starts, `payload` the IP payload length.
        at = 0
        if linktype == 1 and size >= 42:
            etype = data[12] << 8 | data[13]
            if etype == 0x0800:
                vhl, total, frag, hop_limit, proto, src, dst = ipv4(data)
                if vhl == 0x45 and not frag & fragment_bits:
                    at, payload, key_start, version = 34, total - 20, 26, 4
            elif etype == 0x86DD and size >= 62:
                at, payload, proto, hop_limit = 54, data[18] << 8 | data[19], data[20], data[21]
                src, dst, key_start, version = data[22:38], data[38:54], 22, 6
        if at and proto == 6 and size >= at + 20:
            sport, dport, seq, ack, off_byte, flag_byte, raw_win, urg = tcp_header(data, at)
            win = raw_win
            hlen = (off_byte >> 4) * 4
            timestamps = hlen == 32 and data[at + 20 : at + 24] == _NOP_NOP_TS
            # A cut-off timestamp option makes the line "[Malformed Packet]": the slow path.
            if not timestamps or size >= at + 32:
                flags = (off_byte & 0x01) << 8 | flag_byte
                # src + dst + ports: contiguous in both IPv4 and IPv6 headers; keys the
                # connection table and the line's address and port texts.
                key = data[key_start : at + 4]
                texts = connection_texts.get(key)
                if texts is None:
                    if len(connection_texts) >= _CACHE_LIMIT:
                        connection_texts.clear()
                    text_of = _ipv4_text if version == 4 else _ipv6_text
                    texts = connection_texts[key] = (
                        f"{text_of(src):>12} → {text_of(dst):<12} TCP ",
                        f" {sport} → {dport} ",
                        "" if tagger is None else address_text(src),
                        "" if tagger is None else address_text(dst),
                    )
                entry = tcp_get(key)
                if entry is None or flags & 0x02:
                    seq_base, ack_base, scale = tcp_bases(
                        key, src, dst, sport, dport, seq, ack, flags, data, at, hlen
                    )
                    if scale >= 0 and not flags & 0x02:
                        win <<= scale
                else:
                    # tcp_bases for an established connection, inline.
                    fwd, rev = entry
                    seq_base = fwd[0]
                    if seq_base == -1:
                        seq_base = fwd[0] = (seq - 1) & _MASK
                    ack_base = rev[0]
                    if ack_base == -1:
                        if flags & 0x10:
                            ack_base = rev[0] = (ack - 1) & _MASK
                        else:
                            ack_base = 0
                    scale = fwd[1]
                    if scale >= 0:
                        win <<= scale
                rel_seq = (seq - seq_base) & _MASK
                if not relative_sequence:
                    seq_base = ack_base = 0
                if timestamps:
                    tsval, tsecr = ts_pair(data, at + 24)
                    options = f" TSval={tsval} TSecr={tsecr}"
                elif hlen > 20:
                    parts = _tcp_options(data, at + 20, min(at + hlen, size), ack_base)
                    options = " " + " ".join(parts) if parts else ""
                else:
                    options = ""
                acked = f" Ack={(ack - ack_base) & _MASK}" if flags & 0x10 else ""
                urgent = f" Urg={urg}" if flags & 0x20 else ""
                length = payload - hlen
                if segment_tags is None:
                    tags = ""
                else:
                    # The tracker's segment, as flows_facts.record_fact decodes it, built from the
                    # values at hand when record_fact would not need the tree: a whole frame and IP
                    # packet (no first fragment, an IPv6 version) holding the whole TCP header.
                    segment = None
                    end = at + payload
                    if (
                        20 <= hlen <= payload
                        and end <= size
                        and size >= wire_len
                        and (not frag & 0x2000 if version == 4 else data[14] >> 4 == 6)
                    ):
                        tcp_flags = (off_byte & 0x0F) << 8 | flag_byte
                        segment = tcp_segment(
                            count, stamp, texts[2], texts[3], sport, dport, seq, ack, tcp_flags, raw_win,
                            data, at, hlen, end,
                        )  # fmt: skip
                    if segment is None:
                        tags = tag(count, (-1, stamp, wire_len, linktype, digits, 0, data))
                    else:
                        tags = segment_tags(segment)
                if (
                    length > 0
                    and (sport in TCP_APP_PORTS or dport in TCP_APP_PORTS)
                    and may_start_message(sport, dport, data[at + hlen] if at + hlen < size else 0)
                ):
                    # DNS over TCP, HTTP...: the application's Info when the payload starts one.
                    start, stop = at + hlen, min(at + payload, size)
                    app = tcp_app_info(src, dst, sport, dport, rel_seq, data, start, stop)
                    if app is not None:
                        # Application text comes from the packet: escape it like the general path.
                        line = f"{count:>5} {when} {texts[0][:-4]}{app[0]} {wire_len} {tags}{app[1]}"
                        append(line if escape is None or line.isprintable() else escape(line))
                        continue
                append(
                    f"{count:>5} {when} {texts[0]}{wire_len} {tags}{texts[1][1:]}{flag_text[flags]}"
                    f" Seq={(seq - seq_base) & _MASK}{acked}"
                    f" Win={win}{urgent} Len={length if length > 0 else 0}{options}"
                )
                continue
        elif at and (proto == 17 or proto == (1 if version == 4 else 58)):
            source = sources.get(src)
            if source is None:
                if len(sources) >= _CACHE_LIMIT:
                    sources.clear()
                text = _ipv4_text(src) if version == 4 else _ipv6_text(src)
                source = sources[src] = f"{text:>12}"
            destination = destinations.get(dst)
            if destination is None:
                if len(destinations) >= _CACHE_LIMIT:
                    destinations.clear()
                text = _ipv4_text(dst) if version == 4 else _ipv6_text(dst)
                destination = destinations[dst] = f"{text:<12}"
            if proto == 17:
                length = data[at + 4] << 8 | data[at + 5]
                sport, dport = data[at] << 8 | data[at + 1], data[at + 2] << 8 | data[at + 3]
                # DNS, DHCP...: their Info comes from the general path.
                if sport not in UDP_APP_PORTS and dport not in UDP_APP_PORTS:
                    append(
                        f"{count:>5} {when} {source} → {destination} UDP {wire_len} "
                        f"{sport} → {dport} Len={length - 8}"
                    )
                    continue
            if proto != 17:
                # ICMP/ICMPv6: 8 bytes are there (42 - 34, 62 - 54); the texts come from tables.
                name = "ICMP" if version == 4 else "ICMPv6"
                info = icmp_info(count, data, at, at + payload, src, dst, hop_limit, version)
                append(f"{count:>5} {when} {source} → {destination} {name} {wire_len} {info}")
                continue
        row = summarize(count, stamp, wire_len, linktype, digits, data)
        line = format_line(row, when)
        # isprintable() is a C-speed superset test of what escaping rewrites (controls, bidi).
        append(line if escape is None or line.isprintable() else escape(line))
    if batch:
        _flush(batch, out)
    return count


def _no_tags(number: int, record: RawRecord) -> str:
    return ""


def _flushing(records: Iterable[RawRecord], batch: list[str], out: TextIO) -> Iterator[RawRecord]:
    for record in records:
        yield record
        # Back here once the line of `record` is in `batch`: show it before waiting for the next.
        _flush(batch, out)
        out.flush()


def _flush(batch: list[str], out: TextIO) -> None:
    batch.append("")
    out.write("\n".join(batch))
    batch.clear()
