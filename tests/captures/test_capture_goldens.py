"""Framing of the real captures equals tshark 4.0's: count, time, lengths, interface, comments.

Goldens come from tests/golden/make_capture_goldens.py (tests/golden/out/capture/*.frames).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from captures.frame import Frame
from captures.pcapfile import open_capture

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "golden" / "out" / "capture"
DATA = ROOT / "data"


def goldens() -> list[Path]:
    return sorted(GOLDEN.glob("*.frames"))


def cells(frame: Frame, pcapng: bool) -> dict[str, str]:
    seconds, nanoseconds = divmod(frame.timestamp_ns, 10**9)
    return {
        "frame.number": str(frame.number),
        "frame.time_epoch": f"{seconds}.{nanoseconds:09d}" if frame.has_timestamp else "",
        "frame.len": str(frame.wire_len),
        "frame.cap_len": str(frame.cap_len),
        # tshark shows no interface for classic pcap files.
        "frame.interface_id": str(frame.interface_id) if pcapng else "",
        "frame.interface_name": frame.interface_name or "",
        "frame.comment": ",".join(frame.comments),
    }


@pytest.mark.parametrize("golden", goldens(), ids=lambda p: p.stem)
def test_framing_equals_tshark(golden: Path) -> None:
    capture = DATA / golden.name.removesuffix(".frames")
    if not capture.exists():
        pytest.skip(f"{capture.name} is gone from tests/data")
    lines = golden.read_text(encoding="utf-8").splitlines()
    header, rows = lines[0].split("\t"), [line.split("\t") for line in lines[1:]]
    with open_capture(capture) as reader:
        frames = list(reader)
        pcapng = reader.info.format == "pcapng"
        warnings = reader.warnings
    assert len(frames) == len(rows), f"{capture.name}: we read {len(frames)} frames, tshark {len(rows)}"
    mismatches = []
    for frame, row in zip(frames, rows, strict=True):
        ours = cells(frame, pcapng)
        for name, want in zip(header, row, strict=True):
            if ours[name] != want:
                mismatches.append(f"frame {frame.number} {name}: ours {ours[name]!r} tshark {want!r}")
    assert not mismatches, "\n".join(mismatches[:40])
    tshark_complained = golden.with_suffix(".stderr").read_text().strip() != ""
    assert bool(warnings) == tshark_complained, warnings


def test_there_are_goldens_for_every_capture() -> None:
    captures = {p.name for p in DATA.iterdir() if p.suffix in (".pcap", ".pcapng", ".gz")}
    assert captures <= {p.name.removesuffix(".frames") for p in goldens()}, "run make_capture_goldens.py"
