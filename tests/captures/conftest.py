"""Byte builders for capture-file tests: classic pcap records and pcapng blocks, written by hand so
tests can make every variant, including the impossible ones the writers never produce."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest

MAGIC_US, MAGIC_NS = 0xA1B2C3D4, 0xA1B23C4D


class Build:
    """Static helpers; `endian` is a struct prefix ("<" or ">")."""

    @staticmethod
    def pcap_header(endian: str = "<", nano: bool = False, linktype: int = 1, snaplen: int = 262144) -> bytes:
        return struct.pack(endian + "IHHiIII", MAGIC_NS if nano else MAGIC_US, 2, 4, 0, 0, snaplen, linktype)

    @staticmethod
    def pcap_record(sec: int, frac: int, data: bytes, orig: int | None = None, endian: str = "<") -> bytes:
        wire = len(data) if orig is None else orig
        return struct.pack(endian + "IIII", sec, frac, len(data), wire) + data

    @staticmethod
    def option(code: int, value: bytes, endian: str = "<") -> bytes:
        return struct.pack(endian + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)

    @staticmethod
    def options(*items: bytes, endian: str = "<") -> bytes:
        return b"".join(items) + (struct.pack(endian + "HH", 0, 0) if items else b"")

    @staticmethod
    def block(block_type: int, body: bytes, endian: str = "<") -> bytes:
        length = 12 + len(body)
        return struct.pack(endian + "II", block_type, length) + body + struct.pack(endian + "I", length)

    @staticmethod
    def shb(*options: bytes, endian: str = "<") -> bytes:
        body = struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1) + Build.options(*options, endian=endian)
        return Build.block(0x0A0D0D0A, body, endian)

    @staticmethod
    def idb(linktype: int, snaplen: int = 0, *options: bytes, endian: str = "<") -> bytes:
        body = struct.pack(endian + "HHI", linktype, 0, snaplen) + Build.options(*options, endian=endian)
        return Build.block(1, body, endian)

    @staticmethod
    def epb(
        iface: int, ticks: int, data: bytes, wire: int | None = None, *options: bytes, endian: str = "<"
    ) -> bytes:
        wire_len = len(data) if wire is None else wire
        fields = struct.pack(endian + "IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF, len(data), wire_len)
        padded = data + b"\0" * (-len(data) % 4)
        return Build.block(6, fields + padded + Build.options(*options, endian=endian), endian)

    @staticmethod
    def spb(wire: int, data: bytes, endian: str = "<") -> bytes:
        return Build.block(3, struct.pack(endian + "I", wire) + data + b"\0" * (-len(data) % 4), endian)

    @staticmethod
    def pb(iface: int, ticks: int, data: bytes, endian: str = "<") -> bytes:
        fields = struct.pack(
            endian + "HHIIII", iface, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data)
        )
        return Build.block(2, fields + data + b"\0" * (-len(data) % 4), endian)


@pytest.fixture
def build() -> type[Build]:
    return Build


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, bytes], Path]:
    """write(name, content) -> path of a new file in the test's directory."""

    def _write(name: str, content: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content)
        return path

    return _write
