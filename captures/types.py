"""Shared capture-file types: errors, interface and file descriptions, the raw record tuple, limits."""

from __future__ import annotations

from dataclasses import dataclass, field

# (file_offset, timestamp_ns, wire_len, linktype, ts_digits, interface_id, data): what the packet
# index reads. A plain tuple because building millions of objects would dominate the index pass.
RawRecord = tuple[int, int, int, int, int, int, bytes]

NS_PER_SECOND = 1_000_000_000

# Wiretap 4.0's per-encapsulation ceiling on a record's captured length (wtap_max_snaplen_for_encap,
# measured against tshark 4.0.17): the USB link types and D-Bus allow 128 MiB, EBHSCR 8 MiB, the
# rest 256 KiB. A record above its ceiling marks a corrupt file; we stop before allocating it.
MAX_CAPLEN_STANDARD = 262_144
_MAX_CAPLEN_BY_LINKTYPE = {
    189: 128 * 1024 * 1024,  # LINKTYPE_USB_LINUX
    220: 128 * 1024 * 1024,  # LINKTYPE_USB_LINUX_MMAPPED
    231: 128 * 1024 * 1024,  # LINKTYPE_DBUS
    249: 128 * 1024 * 1024,  # LINKTYPE_USBPCAP
    266: 128 * 1024 * 1024,  # LINKTYPE_USB_DARWIN
    279: 8 * 1024 * 1024,  # LINKTYPE_EBHSCR
}

# Wiretap 4.0 refuses pcapng blocks longer than this (the largest EPB plus room for options).
MAX_PCAPNG_BLOCK = 134_348_832

CUT_SHORT = "the capture file appears to have been cut short in the middle of a packet"
CUT_SHORT_HEADER = "the capture file appears to have been cut short in the file header"


def damaged(detail: str) -> str:
    """tshark's wording for a file whose framing is impossible, with wiretap's detail."""
    return f"the capture file appears to be damaged or corrupt ({detail})"


def max_caplen(linktype: int) -> int:
    return _MAX_CAPLEN_BY_LINKTYPE.get(linktype, MAX_CAPLEN_STANDARD)


def digits_for_units(units_per_second: int) -> int:
    """Digits tshark 4.0 shows for a clock of this rate: only 0, 1, 2, 3, 6 or 9 exist there."""
    for threshold, digits in ((NS_PER_SECOND, 9), (1_000_000, 6), (1000, 3), (100, 2), (10, 1)):
        if units_per_second >= threshold:
            return digits
    return 0


class CaptureError(Exception):
    """A file that cannot be read as a capture; `str()` is the one line shown to users."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class FormatError(Exception):
    """Raised by the framers when a file or section header is unusable; the reader adds the path."""


@dataclass(slots=True)
class InterfaceInfo:
    """One capture interface: the only one of a pcap file, or one IDB of a pcapng section.

    `section` is the pcapng section index and `local_id` the interface number inside it (the value
    tshark 4.0 shows as frame.interface_id). `units_per_second` and `ts_offset_s` come from
    if_tsresol and if_tsoffset.
    """

    linktype: int
    name: str | None = None
    snaplen: int = 0
    ts_digits: int = 6
    section: int = 0
    local_id: int = 0
    units_per_second: int = 1_000_000
    ts_offset_s: int = 0


@dataclass(slots=True)
class CaptureInfo:
    """What the file says about itself. For pcapng, `interfaces` and `comments` grow while reading
    (sections after the first are only known once the reader reaches them)."""

    format: str
    compressed: bool = False
    interfaces: list[InterfaceInfo] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    big_endian: bool = False
    sections: int = 1
