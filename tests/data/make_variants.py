#!/usr/bin/env python3
"""Derive link-type / byte-order / compression variants of Layerscope's real test captures.

Pure standard library (struct, gzip). Every variant holds *real* packets recorded by
record.sh; only the framing around them is rewritten:

  rawip.pcap       LINKTYPE_RAW (101): Ethernet header stripped. IPv4 packets from
                   icmp.pcap followed by IPv6 packets from ipv6.pcap (timestamps
                   shifted so the file stays in time order). ARP frames dropped.
  rawip228.pcap    LINKTYPE_IPV4 (228): IPv4 packets of icmp.pcap, Ethernet stripped.
  null.pcap        LINKTYPE_NULL (0): 4-byte family header in the writer's (little-endian)
                   byte order, AF_INET = 2.  IPv4 packets of icmp.pcap.
  loop.pcap        LINKTYPE_LOOP (108): 4-byte family header big-endian, AF_INET = 2.
  bigendian.pcap   icmp.pcap unchanged, but file header and record headers written
                   big-endian (magic a1b2c3d4 as stored bytes a1 b2 c3 d4).
  vlan.pcap        icmp.pcap's frames with an 802.1Q tag (TPID 0x8100, VID 100, PCP 0)
                   inserted after the MAC addresses.  SYNTHETIC tag: this kernel has no
                   8021q/bridge-VLAN support, so tagged frames could not be recorded live.
  qinq.pcap        same frames double tagged: 802.1ad S-tag (0x88a8, VID 200) then an
                   802.1Q C-tag (0x8100, VID 300).  SYNTHETIC tags, as above.
  http.pcap.gz     gzip of http.pcap           (mtime 0, so the bytes are reproducible)
  multi.pcapng.gz  gzip of multi.pcapng

Usage: make_variants.py [--no-vlan] [DIR]   (DIR defaults to this script's directory;
       --no-vlan keeps vlan.pcap/qinq.pcap that record.sh captured live)
"""

from __future__ import annotations

import gzip
import struct
import sys
from pathlib import Path

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_IPV4 = 228

MAGIC_US = 0xA1B2C3D4
MAGIC_NS = 0xA1B23C4D


class Pcap:
    def __init__(self, endian: str, nano: bool, snaplen: int, linktype: int, records):
        self.endian, self.nano, self.snaplen, self.linktype = endian, nano, snaplen, linktype
        self.records = records  # list of (ts_sec, ts_frac, orig_len, data)


def read_pcap(path: Path) -> Pcap:
    buf = path.read_bytes()
    (magic,) = struct.unpack("<I", buf[:4])
    if magic in (MAGIC_US, MAGIC_NS):
        e = "<"
    else:
        (magic,) = struct.unpack(">I", buf[:4])
        if magic not in (MAGIC_US, MAGIC_NS):
            raise ValueError(f"{path}: not a classic pcap file")
        e = ">"
    _maj, _min, _tz, _sig, snaplen, linktype = struct.unpack(e + "HHiIII", buf[4:24])
    recs, off = [], 24
    while off + 16 <= len(buf):
        sec, frac, incl, orig = struct.unpack(e + "IIII", buf[off : off + 16])
        off += 16
        recs.append((sec, frac, orig, buf[off : off + incl]))
        off += incl
    return Pcap(e, magic == MAGIC_NS, snaplen, linktype & 0x0FFFFFFF, recs)


def write_pcap(path: Path, linktype: int, records, *, endian="<", nano=False, snaplen=262144):
    out = bytearray(
        struct.pack(endian + "IHHiIII", MAGIC_NS if nano else MAGIC_US, 2, 4, 0, 0, snaplen, linktype)
    )
    for sec, frac, orig, data in records:
        out += struct.pack(endian + "IIII", sec, frac, len(data), orig)
        out += data
    path.write_bytes(bytes(out))
    print(f"wrote {path.name}: linktype {linktype}, {len(records)} packets, {len(out)} bytes")


def ether_payloads(p: Pcap, want=(0x0800,)):
    """Yield (sec, frac, orig_len, ethertype, l3 bytes) for untagged Ethernet frames."""
    assert p.linktype == LINKTYPE_ETHERNET
    for sec, frac, orig, data in p.records:
        if len(data) < 14:
            continue
        (etype,) = struct.unpack("!H", data[12:14])
        if etype in want:
            yield sec, frac, orig - 14, etype, data[14:]


def insert_tags(data: bytes, tags: list[tuple[int, int]]) -> bytes:
    """Insert VLAN tags [(tpid, tci), ...] (outermost first) after the two MAC addresses."""
    return data[:12] + b"".join(struct.pack("!HH", tpid, tci) for tpid, tci in tags) + data[12:]


def gzip_file(src: Path, dst: Path):
    with (
        open(dst, "wb") as raw,
        gzip.GzipFile(filename=src.name, mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(src.read_bytes())
    print(f"wrote {dst.name}: gzip of {src.name}, {dst.stat().st_size} bytes")


def main(argv):
    args = argv[1:]
    no_vlan = "--no-vlan" in args
    args = [a for a in args if a != "--no-vlan"]
    d = Path(args[0]) if args else Path(__file__).resolve().parent
    icmp = read_pcap(d / "icmp.pcap")
    ipv6 = read_pcap(d / "ipv6.pcap")
    assert icmp.linktype == LINKTYPE_ETHERNET and not icmp.nano and icmp.endian == "<"

    v4 = [(s, f, o, pl) for s, f, o, _t, pl in ether_payloads(icmp)]

    # LINKTYPE_RAW: IPv4 then IPv6 (shifted in time to follow the IPv4 part)
    v6 = [(s, f, o, pl) for s, f, o, _t, pl in ether_payloads(ipv6, want=(0x86DD,))]
    raw = list(v4)
    if v6:
        last = v4[-1][0] + v4[-1][1] / 1e6 if v4 else 0.0
        first6 = v6[0][0] + v6[0][1] / 1e6
        shift = last + 1.0 - first6
        for s, f, o, pl in v6:
            t = s + f / 1e6 + shift
            sec = int(t)
            raw.append((sec, min(round((t - sec) * 1e6), 999999), o, pl))
    write_pcap(d / "rawip.pcap", LINKTYPE_RAW, raw)

    write_pcap(d / "rawip228.pcap", LINKTYPE_IPV4, v4)

    AF_INET = 2
    write_pcap(
        d / "null.pcap", LINKTYPE_NULL, [(s, f, o + 4, struct.pack("<I", AF_INET) + pl) for s, f, o, pl in v4]
    )
    write_pcap(
        d / "loop.pcap", LINKTYPE_LOOP, [(s, f, o + 4, struct.pack(">I", AF_INET) + pl) for s, f, o, pl in v4]
    )

    write_pcap(d / "bigendian.pcap", LINKTYPE_ETHERNET, icmp.records, endian=">")

    if no_vlan:
        print("keeping live-recorded vlan.pcap / qinq.pcap")
    else:
        write_synthetic_vlan(d, icmp)

    gzip_file(d / "http.pcap", d / "http.pcap.gz")
    gzip_file(d / "multi.pcapng", d / "multi.pcapng.gz")


def write_synthetic_vlan(d: Path, icmp: Pcap):
    tag100 = [(0x8100, 100)]
    write_pcap(
        d / "vlan.pcap",
        LINKTYPE_ETHERNET,
        [(s, f, o + 4, insert_tags(data, tag100)) for s, f, o, data in icmp.records],
    )
    qinq = [(0x88A8, 200), (0x8100, 300)]
    write_pcap(
        d / "qinq.pcap",
        LINKTYPE_ETHERNET,
        [(s, f, o + 8, insert_tags(data, qinq)) for s, f, o, data in icmp.records],
    )


if __name__ == "__main__":
    main(sys.argv)
