"""Capture writers: classic pcap (µs or ns) and pcapng (one IDB per interface met), streaming."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from os import PathLike
from typing import BinaryIO

from captures.frame import Frame
from captures.types import NS_PER_SECOND

SNAPLEN = 262_144
APPLICATION = "Layerscope"


@contextmanager
def _output(target: str | PathLike[str] | BinaryIO) -> Iterator[BinaryIO]:
    if isinstance(target, str | PathLike):
        with open(target, "wb") as stream:
            yield stream
    else:
        yield target
        target.flush()


def write_pcap(
    target: str | PathLike[str] | BinaryIO,
    frames: Iterable[Frame],
    linktype: int,
    nanosecond: bool = False,
    snaplen: int = SNAPLEN,
) -> int:
    """Write little-endian pcap; returns the number of frames written.

    Microsecond files truncate timestamps to the microsecond (what libpcap does). Seconds are
    stored modulo 2**32, the width of the field.
    """
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    divisor = 1 if nanosecond else 1000
    record = struct.Struct("<IIII")
    count = 0
    with _output(target) as out:
        out.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
        for frame in frames:
            seconds, fraction = divmod(frame.timestamp_ns, NS_PER_SECOND)
            header = record.pack(seconds & 0xFFFFFFFF, fraction // divisor, len(frame.data), frame.wire_len)
            out.write(header + frame.data)
            count += 1
    return count


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _block(block_type: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def _options(options: list[bytes]) -> bytes:
    return b"".join(options) + (struct.pack("<HH", 0, 0) if options else b"")


def write_pcapng(
    target: str | PathLike[str] | BinaryIO,
    frames: Iterable[Frame],
    comments: Iterable[str] = (),
    snaplen: int = SNAPLEN,
) -> int:
    """Write a one-section little-endian pcapng with nanosecond clocks; returns the frame count.

    An Interface Description Block is written the first time a (link type, interface name) pair is
    met, so frames from several interfaces and link types keep theirs. Frame comments become
    opt_comment options of their Enhanced Packet Block.
    """
    shb_options = [_option(1, text.encode()) for text in comments]
    shb_options.append(_option(4, APPLICATION.encode()))
    interfaces: dict[tuple[int, str | None], int] = {}
    epb = struct.Struct("<IIIII")
    count = 0
    with _output(target) as out:
        out.write(_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + _options(shb_options)))
        for frame in frames:
            key = (frame.linktype, frame.interface_name)
            interface_id = interfaces.get(key)
            if interface_id is None:
                interface_id = interfaces[key] = len(interfaces)
                idb_options = [_option(9, b"\x09")]  # if_tsresol: nanoseconds
                if frame.interface_name is not None:
                    idb_options.insert(0, _option(2, frame.interface_name.encode()))
                body = struct.pack("<HHI", frame.linktype, 0, snaplen) + _options(idb_options)
                out.write(_block(1, body))
            ticks = frame.timestamp_ns & 0xFFFFFFFFFFFFFFFF
            data = frame.data + b"\0" * (-len(frame.data) % 4)
            fields = epb.pack(interface_id, ticks >> 32, ticks & 0xFFFFFFFF, len(frame.data), frame.wire_len)
            packet_options = _options([_option(1, text.encode()) for text in frame.comments])
            out.write(_block(6, fields + data + packet_options))
            count += 1
    return count
