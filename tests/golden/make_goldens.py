"""Regenerate the tshark golden files: `python tests/golden/make_goldens.py [GROUP...]`.

For each field group `tests/golden/fields/GROUP.txt` (one Wireshark field name a line) and
each capture in `tests/data/`, runs tshark 4.0 and writes `tests/golden/out/GROUP/CAPTURE.tsv`.
Review the result as a diff before committing. The exact command is TSHARK_COMMAND below.
A group file may start with `# prefs: name:VALUE ...` to override PREFS for that group (it then
also gets its own `out/GROUP/CAPTURE.chain`, since other preferences run other protocols).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"

# Preferences: verify checksums (Wireshark's default is not to), and leave IP fragments and
# TCP segments unreassembled, since the core dissectors look at one frame at a time.
PREFS = [
    "ip.check_checksum:TRUE",
    "tcp.check_checksum:TRUE",
    "udp.check_checksum:TRUE",
    "ip.defragment:FALSE",
    "ipv6.defragment:FALSE",
    "tcp.desegment_tcp_streams:FALSE",
]
TSHARK_COMMAND = [
    "tshark",
    "-n",
    "-T",
    "fields",
    "-E",
    "header=y",
    "-E",
    "occurrence=a",
    "-E",
    "aggregator=,",
]


def captures() -> list[Path]:
    names = ("*.pcap", "*.pcapng", "*.pcap.gz", "*.pcapng.gz")
    return sorted({path for pattern in names for path in DATA.glob(pattern)})


def command(capture: Path, fields: list[str], prefs: list[str] | None = None) -> list[str]:
    cmd = [*TSHARK_COMMAND]
    for pref in PREFS if prefs is None else prefs:
        cmd += ["-o", pref]
    cmd += ["-r", str(capture)]
    for name in fields:
        cmd += ["-e", name]
    return cmd


def read_fields(group: str) -> list[str]:
    lines = (HERE / "fields" / f"{group}.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def pref_overrides(group: str) -> dict[str, str]:
    """The group file's `# prefs: name:VALUE name:VALUE` header lines, e.g. a group of
    reassembly fields asks for `# prefs: ip.defragment:TRUE` (tests/test_golden_fields.py
    reads the same lines to dissect that group with the same preferences)."""
    overrides: dict[str, str] = {}
    for line in (HERE / "fields" / f"{group}.txt").read_text().splitlines():
        if line.startswith("# prefs:"):
            for item in line.removeprefix("# prefs:").split():
                name, _, value = item.partition(":")
                overrides[name] = value
    return overrides


def group_prefs(group: str) -> list[str]:
    """PREFS with the group's overrides applied (overrides of prefs not in PREFS are added)."""
    overrides = pref_overrides(group)
    prefs = []
    for pref in PREFS:
        name = pref.partition(":")[0]
        prefs.append(f"{name}:{overrides.pop(name)}" if name in overrides else pref)
    return prefs + [f"{name}:{value}" for name, value in overrides.items()]


def write_chains() -> None:
    """tshark's `frame.protocols` per frame: which protocols it ran, to align with ours."""
    out_dir = HERE / "out" / "chains"
    out_dir.mkdir(parents=True, exist_ok=True)
    for capture in captures():
        result = subprocess.run(command(capture, ["frame.protocols"]), capture_output=True, check=True)
        (out_dir / f"{capture.name}.chain").write_bytes(result.stdout)


def main(groups: list[str]) -> None:
    write_chains()
    if not groups:
        groups = sorted(path.stem for path in (HERE / "fields").glob("*.txt"))
    for group in groups:
        fields = read_fields(group)
        prefs = group_prefs(group)
        out_dir = HERE / "out" / group
        out_dir.mkdir(parents=True, exist_ok=True)
        for capture in captures():
            result = subprocess.run(command(capture, fields, prefs), capture_output=True, check=True)
            (out_dir / f"{capture.name}.tsv").write_bytes(result.stdout)
            if prefs != PREFS:
                # Other preferences run other protocols: the group keeps its own chains.
                chain = subprocess.run(
                    command(capture, ["frame.protocols"], prefs), capture_output=True, check=True
                )
                (out_dir / f"{capture.name}.chain").write_bytes(chain.stdout)
        print(f"{group}: {len(fields)} fields x {len(captures())} captures")


if __name__ == "__main__":
    main(sys.argv[1:])
