"""FragmentSummary, the fast summary's defragmenter, agrees with tshark on the real captures."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.summary_frag import HELD, FragmentSummary
from captures.pcapfile import iter_records

TESTS = Path(__file__).resolve().parent.parent
GOLDEN = TESTS / "golden" / "out" / "defrag"
ETHERNET = 14


def golden_column(capture: str, name: str) -> list[str]:
    lines = (GOLDEN / f"{capture}.tsv").read_text(encoding="utf-8").split("\n")
    column = lines[0].split("\t").index(name)
    return [line.split("\t")[column] for line in lines[1:] if line]


def outcomes(capture: str, frag: FragmentSummary) -> list[str]:
    """Per frame: "" (not a kept fragment), "held", or the reassembled payload's hex."""
    found = []
    for number, (_offset, stamp, _wire, _link, _digits, _iface, data) in enumerate(
        iter_records(TESTS / "data" / capture), 1
    ):
        ethertype = data[12] << 8 | data[13]
        if ethertype == 0x0800:
            outcome = frag.ipv4(number, stamp, data, ETHERNET)
        elif ethertype == 0x86DD and data[ETHERNET + 6] == 44:
            outcome = frag.ipv6(number, stamp, data, ETHERNET, ETHERNET + 40)
        else:
            outcome = None
        if outcome is None:
            found.append("")
        else:
            found.append("held" if outcome is HELD else (outcome.datagram or b"").hex())
    return found


@pytest.mark.parametrize(("capture", "prefix"), [("frag.pcap", "ip"), ("ipv6.pcap", "ipv6")])
def test_completing_frames_and_datagrams_match_tshark(capture: str, prefix: str) -> None:
    ours = outcomes(capture, FragmentSummary(check_checksum=True))
    reassembled = golden_column(capture, f"{prefix}.reassembled.data")
    frames = golden_column(capture, "data.len")
    chains = (GOLDEN / f"{capture}.chain").read_text(encoding="utf-8").split("\n")[1:]
    assert any(reassembled)
    for number, (got, want, chain) in enumerate(zip(ours, reassembled, chains, strict=False), 1):
        if want:
            assert got == want, f"frame {number}"
        elif chain.endswith(("ip:data", "ipv6.fraghdr:data")):
            assert got == "held", f"frame {number}"
        else:
            assert got == "", f"frame {number}"
    assert len(ours) == len(frames)


def test_disabled_versions_keep_nothing() -> None:
    assert set(outcomes("frag.pcap", FragmentSummary(ipv4=False))) == {""}
    assert set(outcomes("ipv6.pcap", FragmentSummary(ipv6=False))) == {""}


def test_bad_header_checksum_is_not_kept_when_checked() -> None:
    records = list(iter_records(TESTS / "data" / "frag.pcap"))
    frame = bytearray(records[2][6])  # frame 3: the first fragment of the first ping
    frame[ETHERNET + 10] ^= 0xFF
    assert FragmentSummary(check_checksum=True).ipv4(3, 0, bytes(frame), ETHERNET) is None
    assert FragmentSummary(check_checksum=False).ipv4(3, 0, bytes(frame), ETHERNET) is HELD
