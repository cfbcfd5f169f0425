"""Fixtures for report tests: a hand-built hostile capture (HTTP and DNS carrying markup,
terminal escape sequences and NUL bytes)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from captures.frame import Frame
from captures.writer import write_pcap

CLIENT, SERVER = bytes([10, 9, 0, 1]), bytes([10, 9, 0, 2])
MAC_A, MAC_B = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
# What must never come out raw: markup, an ANSI colour / title sequence, a NUL.
EVIL = b"<script>alert(1)</script>\x1b[31m\x1b]0;pwn\x07\x00|*[x](y)"


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ipv4(src: bytes, dst: bytes, proto: int, payload: bytes) -> bytes:
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0x4000, 64, proto, 0, src, dst)
    header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
    return header + payload


def _pseudo(src: bytes, dst: bytes, proto: int, segment: bytes) -> int:
    return _checksum(src + dst + struct.pack("!BBH", 0, proto, len(segment)) + segment)


def _tcp(
    src: bytes, dst: bytes, sport: int, dport: int, seq: int, ack: int, flags: int, data: bytes
) -> bytes:
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0)
    check = _pseudo(src, dst, 6, header + data)
    return _ipv4(src, dst, 6, header[:16] + struct.pack("!H", check) + header[18:] + data)


def _udp(src: bytes, dst: bytes, sport: int, dport: int, data: bytes) -> bytes:
    header = struct.pack("!HHHH", sport, dport, 8 + len(data), 0)
    check = _pseudo(src, dst, 17, header + data) or 0xFFFF
    return _ipv4(src, dst, 17, header[:6] + struct.pack("!H", check) + data)


def _eth(src: bytes, dst: bytes, packet: bytes) -> bytes:
    return dst + src + b"\x08\x00" + packet


def _dns_name(label: bytes) -> bytes:
    return bytes([len(label)]) + label + b"\x04test\x00"


def hostile_frames() -> list[bytes]:
    request = b"GET /" + EVIL + b" HTTP/1.1\r\nHost: " + EVIL + b"\r\nUser-Agent: " + EVIL + b"\r\n\r\n"
    response = b"HTTP/1.1 200 " + EVIL + b"\r\nContent-Length: 2\r\n\r\nok"
    label = EVIL[:40]
    query = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + _dns_name(label) + b"\x00\x01\x00\x01"
    answer = _dns_name(label) + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([10, 9, 0, 80])
    reply = struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 1, 0, 0) + query[12:] + answer
    syn, ack, psh_ack = 0x02, 0x10, 0x18
    return [
        _eth(MAC_A, MAC_B, _tcp(CLIENT, SERVER, 40000, 80, 1000, 0, syn, b"")),
        _eth(MAC_B, MAC_A, _tcp(SERVER, CLIENT, 80, 40000, 5000, 1001, syn | ack, b"")),
        _eth(MAC_A, MAC_B, _tcp(CLIENT, SERVER, 40000, 80, 1001, 5001, ack, b"")),
        _eth(MAC_A, MAC_B, _tcp(CLIENT, SERVER, 40000, 80, 1001, 5001, psh_ack, request)),
        _eth(MAC_B, MAC_A, _tcp(SERVER, CLIENT, 80, 40000, 5001, 1001 + len(request), psh_ack, response)),
        _eth(MAC_A, MAC_B, _udp(CLIENT, SERVER, 53000, 53, query)),
        _eth(MAC_B, MAC_A, _udp(SERVER, CLIENT, 53, 53000, reply)),
    ]


@pytest.fixture
def hostile_pcap(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.pcap"
    base = 1_700_000_000 * 1_000_000_000
    frames = [
        Frame(number, base + number * 1_000_000, data, len(data), 1)
        for number, data in enumerate(hostile_frames(), 1)
    ]
    write_pcap(path, frames, 1)
    return path
