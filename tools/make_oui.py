"""Build dissectors/data/manuf.txt.gz, the offline MAC vendor and well-known address table.

    python tools/make_oui.py [--manuf PATH] [--wka PATH]

Vendors come from the Wireshark `manuf` text scapy ships (scapy/libs/manuf.py, a base85 gzip
blob), read as text so scapy is never imported; `--manuf` takes a plain Wireshark `manuf` file
instead (Wireshark 4.0's own file has 8-character short names, "IntelCor" where scapy's newer
copy says "Intel"). Well-known addresses (Broadcast, IPv4mcast, IPv6mcast, ...) come from
Wireshark's `wka` file when one is installed.

Output lines, tab separated, in the order Wireshark 4.0 loads them (later lines win):
    V  OUI(6 hex)  short  long     a 24-bit vendor prefix
    E  MAC(12 hex) name            one exact address
    W  KEY(12 hex) name            a masked range, keyed by its masked address
"""

from __future__ import annotations

import argparse
import base64
import gzip
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "dissectors" / "data" / "manuf.txt.gz"
DEFAULT_WKA = Path("/usr/share/wireshark/wka")


def scapy_manuf_text() -> str:
    spec = importlib.util.find_spec("scapy")
    if spec is None or spec.origin is None:
        raise SystemExit("scapy is not installed; pass --manuf PATH")
    source = (Path(spec.origin).parent / "libs" / "manuf.py").read_text(encoding="utf-8")
    match = re.search(r'DATA = _d\("""(.*?)"""\)', source, re.S)
    if match is None:
        raise SystemExit("scapy/libs/manuf.py has an unexpected layout")
    return gzip.decompress(base64.b85decode(match.group(1).replace("\n", ""))).decode("utf-8")


def parse_address(text: str) -> tuple[bytes, int]:
    """'00:1B:C5:00:00/36' or '01-00-5E/25' -> (6 zero-padded bytes, prefix bits; 48 if exact)."""
    spec, _, bits = text.partition("/")
    octets = bytes(int(part, 16) for part in re.split(r"[:.-]", spec) if part)
    prefix = int(bits) if bits else 24 if len(octets) == 3 else 48
    return octets.ljust(6, b"\0")[:6], prefix


def entries(text: str) -> list[tuple[bytes, int, str, str]]:
    found: list[tuple[bytes, int, str, str]] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        parts = [part.strip() for part in re.split(r"\t+", line.strip())]
        if len(parts) < 2:
            parts = line.split(None, 1)
            if len(parts) < 2:
                continue
        try:
            address, prefix = parse_address(parts[0])
        except ValueError:
            continue
        short = parts[1]
        long = parts[2] if len(parts) > 2 else short
        found.append((address, prefix, short, long))
    return found


def masked_key(address: bytes, prefix: int) -> bytes:
    value = int.from_bytes(address, "big") & ~((1 << (48 - prefix)) - 1) & (1 << 48) - 1
    return value.to_bytes(6, "big")


def render(rows: list[tuple[bytes, int, str, str]]) -> list[str]:
    lines: list[str] = []
    for address, prefix, short, long in rows:
        if prefix == 24:
            lines.append(f"V\t{address[:3].hex()}\t{short}\t{long}")
        elif prefix >= 48:
            lines.append(f"E\t{address.hex()}\t{short}")
        else:
            lines.append(f"W\t{masked_key(address, prefix).hex()}\t{short}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manuf", type=Path, help="a Wireshark manuf file (default: scapy's copy)")
    parser.add_argument("--wka", type=Path, default=DEFAULT_WKA, help="a Wireshark wka file")
    args = parser.parse_args()
    manuf = args.manuf.read_text(encoding="utf-8") if args.manuf else scapy_manuf_text()
    lines = render(entries(manuf))
    if args.wka.exists():
        lines += render(entries(args.wka.read_text(encoding="utf-8")))
    else:
        print(f"warning: {args.wka} not found; no well-known address names")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(OUT, "wb", mtime=0) as handle:
        handle.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(f"{OUT}: {len(lines)} entries")


if __name__ == "__main__":
    main()
