"""PacketIndex: one fast pass over a capture into compact per-packet columns (arrays, not objects).

Each packet costs a fixed number of bytes in `array` columns (see BYTES_PER_PACKET): file
offset, timestamp, lengths, Protocol-column code, interned Source/Destination ids, ports, TCP
flags, link type and interface, plus the few cross-frame values the summary's Info needs (TCP
sequence bases and window scale, the echo request a reply answers), so any row can be rebuilt
on demand without replaying the capture. Packet bytes are re-read through the file offset when
the capture reader can seek to a record; otherwise (gzip, stdin) they are kept in one bytearray.
"""

from __future__ import annotations

import os
import struct
from array import array
from collections.abc import Callable, Iterable, Iterator
from os import PathLike
from typing import NamedTuple

import captures.pcapfile as pcapfile
from analyzer.summary import (
    APP_HTTP_SEEN,
    APP_NEW_PAYLOAD,
    Summarizer,
    SummaryRow,
    ipv4_text,
    ipv6_text,
)
from analyzer.summary_apps import TCP_APP_PORTS, tcp_app
from captures.frame import Frame
from captures.pcapfile import RawRecord

_HAS_PORTS = 1
_APP_SHIFT = 1  # the APP_* bits of analyzer.summary, stored above _HAS_PORTS
# The fast path's reads: an IPv4 header at byte 14 (version/IHL, flags/fragment offset, protocol,
# src, dst) and the start of a TCP header (seq, ack, data offset, flags) after its ports.
_IPV4_HEAD = struct.Struct("!14xB5xH1xB2x4s4s")
_TCP_HEAD = struct.Struct("!4xIIBB")
_CACHE_LIMIT = 1 << 20

# (typecode, attribute) for every per-packet column; the sum of item sizes is the cost a packet.
_COLUMNS = (
    ("q", "file_offset"),
    ("q", "timestamp_ns"),
    ("I", "cap_len"),
    ("I", "wire_len"),
    ("B", "protocol_code"),
    ("I", "source_id"),
    ("I", "destination_id"),
    ("H", "src_port"),
    ("H", "dst_port"),
    ("H", "tcp_flags"),
    ("B", "bits"),
    ("B", "linktype_code"),
    ("H", "interface_id"),
    ("B", "ts_digits"),
    ("I", "state_a"),
    ("I", "state_b"),
    ("b", "win_scale"),
)
BYTES_PER_PACKET = sum(array(code).itemsize for code, _name in _COLUMNS)


class IndexColumns(NamedTuple):
    """The indexed values of one packet (ports are -1 when the packet has none)."""

    number: int
    file_offset: int
    timestamp_ns: int
    cap_len: int
    wire_len: int
    protocol: str
    source: str
    destination: str
    src_port: int
    dst_port: int
    tcp_flags: int
    linktype: int
    interface_id: int
    ts_digits: int


class _Interner:
    """Strings to small ids and back; one table for the whole capture."""

    def __init__(self, limit: int) -> None:
        self.ids: dict[str, int] = {}
        self.values: list[str] = []
        self.limit = limit

    def id(self, value: str) -> int:
        found = self.ids.get(value)
        if found is None:
            if len(self.values) >= self.limit:
                raise OverflowError(f"more than {self.limit} distinct values")
            found = self.ids[value] = len(self.values)
            self.values.append(value)
        return found


class _Replay(Summarizer):
    """A summarizer for one stored packet: cross-frame values come from the index."""

    def __init__(self, resolve_names: bool, state: tuple[int, int, int], app_state: int = 0) -> None:
        super().__init__(resolve_names=resolve_names)
        self._stored = state
        self._app_state = app_state

    def tcp_app_info(
        self, src: bytes, dst: bytes, sport: int, dport: int, rel_seq: int, data: bytes, start: int, end: int
    ) -> tuple[str, str] | None:
        if not self._app_state & APP_NEW_PAYLOAD or end <= start:
            return None
        return tcp_app(sport, dport, data, start, end, bool(self._app_state & APP_HTTP_SEEN))

    def _tcp_state(
        self,
        src: bytes,
        dst: bytes,
        sport: int,
        dport: int,
        seq: int,
        ack: int,
        flags: int,
        data: bytes,
        at: int,
        hlen: int,
    ) -> tuple[int, int, int]:
        return self._stored

    def _pair(
        self, number: int, request: bool, src: bytes, dst: bytes, family: int, ident: int, seq: int
    ) -> str:
        found = self._stored[0]
        if request or not found:
            return ""
        self._state = (found, 0, 0)
        return f" (request in {found})"


class PacketIndex:
    """Columnar summary of a whole capture: `len()`, `columns(i)`, `summary(i)`, `record(i)`."""

    def __init__(self, path: str | None = None, resolve_names: bool = False, keep_bytes: bool = True) -> None:
        self.path = path
        self.resolve_names = resolve_names
        for code, name in _COLUMNS:
            setattr(self, name, array(code))
        self._protocols = _Interner(256)
        self._addresses = _Interner(2**32 - 1)
        self._linktypes = _Interner(256)
        # Packet bytes for sources that cannot be re-read by offset.
        self._keep_bytes = keep_bytes
        self._data = bytearray()
        self._data_at = array("q")
        self._reader: pcapfile.CaptureReader | None = None

    # -- building -------------------------------------------------------------------------------

    @classmethod
    def build(cls, path: str | PathLike[str], resolve_names: bool = False) -> PacketIndex:
        """Index a capture file in one pass.

        An uncompressed regular file stays open (mapped) so packets are re-read by offset;
        for anything else the packet bytes are kept in memory. Call `close()` when done.
        """
        name = str(path)
        reader = pcapfile.open_capture(path)
        seekable = not reader.info.compressed and name != "-" and os.path.isfile(name)
        index = cls(name, resolve_names, keep_bytes=not seekable)
        try:
            index.extend(pcapfile.iter_records(reader))
        finally:
            if seekable:
                index._reader = reader
            else:
                reader.close()
        return index

    @classmethod
    def for_file(cls, path: str | PathLike[str], resolve_names: bool = False) -> PacketIndex:
        """An empty index of a capture file, for `fill()` to grow while readers use it (the TUI).

        Packets are re-read through a mapped reader only when asked for, so a long pass does
        not keep the whole file resident; streams and gzip files keep their bytes instead.
        """
        name = str(path)
        reader = pcapfile.open_capture(path)
        seekable = not reader.info.compressed and name != "-" and os.path.isfile(name)
        index = cls(name, resolve_names, keep_bytes=not seekable)
        if seekable:
            index._reader = reader
        else:
            reader.close()
        return index

    def fill(self, progress: Callable[[int, float], bool] | None = None, every: int = 8192) -> list[str]:
        """Index the file of `for_file` in one streamed pass; returns the reader's warnings.

        `progress(count, fraction)` is called after 1,024 records (a first screen's worth), then
        every `every` records, always between records, so the first `count` packets are complete;
        returning False stops the pass. `fraction` is how far into the file (its stored bytes)
        the pass has read.
        """
        assert self.path is not None
        with open(self.path, "rb") as raw:
            size = max(os.fstat(raw.fileno()).st_size, 1)
            reader = pcapfile.open_stream(raw, self.path)
            stopped = False

            def records() -> Iterator[RawRecord]:
                nonlocal stopped
                for count, record in enumerate(reader.records()):
                    at_step = progress is not None and count > 0 and (count % every == 0 or count == 1024)
                    if at_step and progress is not None and not progress(len(self), raw.tell() / size):
                        stopped = True
                        return
                    yield record

            self.extend(records())
            if progress is not None and not stopped:
                progress(len(self), 1.0)
            return list(reader.warnings)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def __enter__(self) -> PacketIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def extend(self, records: Iterable[RawRecord]) -> None:
        """Append records in capture order (also how a live capture grows its index)."""
        summarizer = Summarizer(resolve_names=self.resolve_names)
        summarize = summarizer.summarize
        protocol_id, address_id, linktype_id = self._protocols.id, self._addresses.id, self._linktypes.id
        columns = [getattr(self, name).append for _code, name in _COLUMNS]
        (
            add_offset,
            add_ts,
            add_cap,
            add_wire,
            add_proto,
            add_src,
            add_dst,
            add_sport,
            add_dport,
            add_flags,
            add_bits,
            add_link,
            add_iface,
            add_digits,
            add_state_a,
            add_state_b,
            add_scale,
        ) = columns
        keep = self._keep_bytes
        data_store, data_at = self._data, self._data_at
        tcp_bases, tcp_app_info = summarizer.tcp_bases, summarizer.tcp_app_info
        ip_head, tcp_head = _IPV4_HEAD.unpack_from, _TCP_HEAD.unpack_from
        # Raw address -> interned id, and link type -> interned id: ids never change once given.
        address_ids: dict[bytes, int] = {}
        linktype_ids: dict[int, int] = {}
        number = len(self)
        for record in records:
            offset, stamp, wire_len, linktype, digits, iface, data = record
            number += 1
            link = linktype_ids.get(linktype)
            if link is None:
                link = linktype_ids[linktype] = linktype_id(str(linktype))
            size = len(data)
            # Ethernet II + IPv4 (no options, no fragment offset) or IPv6 (no extension header)
            # + TCP/UDP, decoded here without building the Info text the index does not keep;
            # the same rules as Summarizer (tests/analyzer/test_index_agreement.py holds them equal).
            at = 0
            if linktype == 1 and size >= 42:
                etype = data[12] << 8 | data[13]
                if etype == 0x0800:
                    vhl, frag, proto, src, dst = ip_head(data)
                    if vhl == 0x45 and not frag & 0x1FFF:
                        at, key_start, text = 34, 26, ipv4_text
                elif etype == 0x86DD and size >= 62:
                    at, proto, src, dst, key_start, text = (
                        54,
                        data[20],
                        data[22:38],
                        data[38:54],
                        22,
                        ipv6_text,
                    )
            if at and (proto == 17 or (proto == 6 and size >= at + 20)):
                src_id = address_ids.get(src)
                if src_id is None:
                    if len(address_ids) >= _CACHE_LIMIT:
                        address_ids.clear()
                    src_id = address_ids[src] = address_id(text(src))
                dst_id = address_ids.get(dst)
                if dst_id is None:
                    if len(address_ids) >= _CACHE_LIMIT:
                        address_ids.clear()
                    dst_id = address_ids[dst] = address_id(text(dst))
                sport, dport = data[at] << 8 | data[at + 1], data[at + 2] << 8 | data[at + 3]
                flags = state_a = state_b = scale = app = 0
                if proto == 6:
                    seq, ack, off_byte, flag_byte = tcp_head(data, at)
                    hlen = (off_byte >> 4) * 4
                    flags = (off_byte & 0x01) << 8 | flag_byte
                    state_a, state_b, scale = tcp_bases(
                        data[key_start : at + 4], src, dst, sport, dport, seq, ack, flags, data, at, hlen
                    )
                    if sport in TCP_APP_PORTS or dport in TCP_APP_PORTS:
                        # The application verdicts need the connection's history: keep them.
                        end = 14 + (data[16] << 8 | data[17]) if at == 34 else 54 + (data[18] << 8 | data[19])
                        if end > at + hlen:
                            rel_seq = (seq - state_a) & 0xFFFFFFFF
                            tcp_app_info(src, dst, sport, dport, rel_seq, data, at + hlen, min(end, size))
                            app = summarizer.app_state
                add_proto(protocol_id("TCP" if proto == 6 else "UDP"))
                add_src(src_id)
                add_dst(dst_id)
            else:
                row = summarize(number, stamp, wire_len, linktype, digits, data)
                sport, dport = summarizer._sport, summarizer._dport
                flags = summarizer._flags
                state_a, state_b, scale = summarizer._state
                app = summarizer.app_state
                add_proto(protocol_id(row.protocol))
                add_src(address_id(row.source))
                add_dst(address_id(row.destination))
            add_offset(offset)
            add_ts(stamp)
            add_cap(size)
            add_wire(wire_len)
            add_sport(sport if sport >= 0 else 0)
            add_dport(dport if dport >= 0 else 0)
            add_flags(flags)
            add_bits((_HAS_PORTS if sport >= 0 else 0) | app << _APP_SHIFT)
            add_link(link)
            add_iface(iface)
            add_digits(digits)
            add_state_a(state_a & 0xFFFFFFFF)
            add_state_b(state_b & 0xFFFFFFFF)
            add_scale(max(min(scale, 127), -128))
            if keep:
                data_at.append(len(data_store))
                data_store += data

    # -- reading --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.__dict__["timestamp_ns"])

    def __iter__(self) -> Iterator[IndexColumns]:
        for i in range(len(self)):
            yield self.columns(i)

    @property
    def bytes_per_packet(self) -> int:
        return BYTES_PER_PACKET

    def columns(self, i: int) -> IndexColumns:
        """The indexed values of packet `i` (0-based; the frame number is i + 1)."""
        col = self.__dict__
        has_ports = col["bits"][i] & _HAS_PORTS
        return IndexColumns(
            i + 1,
            col["file_offset"][i],
            col["timestamp_ns"][i],
            col["cap_len"][i],
            col["wire_len"][i],
            self._protocols.values[col["protocol_code"][i]],
            self._addresses.values[col["source_id"][i]],
            self._addresses.values[col["destination_id"][i]],
            col["src_port"][i] if has_ports else -1,
            col["dst_port"][i] if has_ports else -1,
            col["tcp_flags"][i],
            int(self._linktypes.values[col["linktype_code"][i]]),
            col["interface_id"][i],
            col["ts_digits"][i],
        )

    def memory_bytes(self) -> int:
        """About how much memory the index holds: its columns, plus the packet bytes it keeps."""
        return len(self) * self.bytes_per_packet + len(self._data) + 8 * len(self._data_at)

    def data(self, i: int) -> bytes:
        """The captured bytes of packet `i`."""
        if self._keep_bytes:
            start = self._data_at[i]
            end = self._data_at[i + 1] if i + 1 < len(self._data_at) else len(self._data)
            return bytes(self._data[start:end])
        if self._reader is None:
            raise ValueError("the index was closed; its packet bytes are no longer readable")
        return self._reader.read_record_at(self.__dict__["file_offset"][i], i + 1).data

    def frame(self, i: int) -> Frame:
        """Packet `i` as a Frame for `dissect_frame`; re-read from the file when mapped, so a pcapng
        frame keeps its interface name and comments (kept bytes have neither)."""
        if self._reader is not None and not self._keep_bytes:
            return self._reader.read_record_at(self.__dict__["file_offset"][i], i + 1)
        offset, stamp, wire_len, linktype, digits, iface, data = self.record(i)
        return Frame(i + 1, stamp, data, wire_len, linktype, iface, None, (), offset, digits)

    def record(self, i: int) -> RawRecord:
        c = self.columns(i)
        return (
            c.file_offset,
            c.timestamp_ns,
            c.wire_len,
            c.linktype,
            c.ts_digits,
            c.interface_id,
            self.data(i),
        )

    def summary(self, i: int) -> SummaryRow:
        """The summary row of packet `i`, rebuilt from its bytes and its stored cross-frame state."""
        col = self.__dict__
        state = (col["state_a"][i], col["state_b"][i], col["win_scale"][i])
        replay = _Replay(self.resolve_names, state, col["bits"][i] >> _APP_SHIFT)
        c = self.columns(i)
        return replay.summarize(i + 1, c.timestamp_ns, c.wire_len, c.linktype, c.ts_digits, self.data(i))
