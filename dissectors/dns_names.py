"""DNS names and value tables (RFC 1035 4.1.4 compression, RFC 2673 bitstring labels), as tshark 4.0."""

from __future__ import annotations

from analyzer.cursor import Truncated

# tshark keeps at most 255 bytes a name, one of them for the terminating NUL and one for the
# first label's missing dot: a longer name becomes "<Name too long>".
MAX_NAME_TEXT = 253
LOOP_TEXT = "<Name contains a pointer that loops>"
TOO_LONG_TEXT = "<Name too long>"
EXTENDED_TEXT = "<Unknown extended label>"
ROOT_TEXT = "<Root>"


class BadLabel(Exception):
    """A label type 0x80 (reserved): tshark throws, and so the message is malformed here."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"reserved label type at offset {offset}")
        self.offset = offset


# How a walk from a compression target ended: a finished suffix, a loop, an unknown extended
# label, a reserved label type (BadLabel) or a read past the data (Truncated).
_DONE, _LOOP, _EXTENDED, _BAD, _CUT = range(5)


class _Suffix:
    """The name text reachable from one compression target, computed once per message."""

    __slots__ = ("error", "raw", "status", "visited", "visited_to_last_pointer")

    def __init__(self) -> None:
        self.raw = b""
        self.visited = 0
        self.visited_to_last_pointer = 0
        self.status = _DONE
        self.error: Exception | None = None


class NameReader:
    """Expands the names of one message, sharing the work on compression targets.

    tshark walks every pointer afresh and calls a name a loop once it has visited more bytes
    than the message holds; hostile messages (thousands of records pointing into one long
    chain) would make that quadratic, so each target's suffix is walked once and reused.
    """

    def __init__(self, data: bytes, msg_start: int, end: int) -> None:
        self.data = data
        self.msg_start = msg_start
        self.end = end
        self.limit = min(end, len(data))
        self.budget = max(end - msg_start, 0)
        self._suffixes: dict[int, _Suffix] = {}

    def _byte(self, at: int) -> int:
        if at < self.msg_start or at >= self.limit:
            raise Truncated(at, 1, self.limit <= at < self.end)
        return self.data[at]

    def _labels(self, offset: int, raw: bytearray) -> tuple[int, int, int]:
        """Read labels from `offset` into `raw` up to a pointer or the end of the name.

        Returns (offset after what was read, bytes visited, pointer target or -1).
        """
        visited = 0
        while True:
            length = self._byte(offset)
            offset += 1
            if length == 0:
                return offset, visited, -1
            visited += 1
            kind = length & 0xC0
            if kind == 0x00:
                if offset + length > self.limit:
                    raise Truncated(offset, length, offset + length <= self.end)
                if len(raw) <= MAX_NAME_TEXT:
                    if raw:
                        raw.append(0x2E)
                    raw += self.data[offset : offset + length]
                else:
                    raw.append(0x2E)  # already too long: only the length matters now
                offset += length
                visited += length
            elif kind == 0x40:
                if length & 0x3F != 0x01:
                    raise _Extended(offset)
                bits = self._byte(offset)
                offset += 1
                size = (bits - 1) // 8 + 1
                if offset + size > self.limit:
                    raise Truncated(offset, size, offset + size <= self.end)
                raw += b"\\[x" + self.data[offset : offset + size].hex().encode() + f"/{bits}]".encode()
                offset += size
            elif kind == 0x80:
                raise BadLabel(offset - 1)
            else:
                target = self.msg_start + ((length & 0x3F) << 8 | self._byte(offset))
                return offset + 1, visited + 1, target

    def _suffix(self, target: int) -> _Suffix:
        """The walk from `target` to the end of its name, following pointers (iteratively)."""
        path: list[tuple[int, _Suffix, int]] = []
        on_path: set[int] = set()
        tail: _Suffix | None = None
        while True:
            known = self._suffixes.get(target)
            if known is not None:
                tail = known
                break
            if target in on_path:
                tail = _Suffix()
                tail.status = _LOOP
                break
            on_path.add(target)
            piece = _Suffix()
            raw = bytearray()
            try:
                _, visited, following = self._labels(target, raw)
            except _Extended:
                piece.status = _EXTENDED
                following = -1
                visited = 0
            except (BadLabel, Truncated) as error:
                piece.status = _BAD if isinstance(error, BadLabel) else _CUT
                piece.error = error
                following = -1
                visited = 0
            piece.raw = bytes(raw[: MAX_NAME_TEXT + 1])
            piece.visited = visited
            piece.visited_to_last_pointer = visited if following >= 0 else 0
            path.append((target, piece, following))
            if following < 0:
                tail = None
                break
            target = following
        for at, piece, following in reversed(path):
            if following >= 0 and tail is not None:
                if tail.status != _DONE:
                    piece.status, piece.error = tail.status, tail.error
                joined = piece.raw + (b"." if piece.raw and tail.raw else b"") + tail.raw
                piece.raw = joined[: MAX_NAME_TEXT + 1]
                piece.visited_to_last_pointer = piece.visited + tail.visited_to_last_pointer
                piece.visited += tail.visited
            self._suffixes[at] = piece
            tail = piece
        assert tail is not None
        return tail

    def read(self, start: int) -> tuple[str, int, int, bool]:
        """Expand the name at `start`: (text, bytes used at `start`, tshark's name length, special).

        Texts are format_text()-escaped; `special` marks tshark's placeholders ("<Root>"...).
        """
        raw = bytearray()
        try:
            used, visited, target = self._labels(start, raw)
        except _Extended as extended:
            return EXTENDED_TEXT, extended.offset - start, len(EXTENDED_TEXT), True
        used -= start
        if target >= 0:
            if visited >= self.budget:
                return LOOP_TEXT, used, len(LOOP_TEXT), True
            suffix = self._suffix(target)
            if suffix.status == _LOOP or visited + suffix.visited_to_last_pointer >= self.budget:
                return LOOP_TEXT, used, len(LOOP_TEXT), True
            if suffix.status == _EXTENDED:
                return EXTENDED_TEXT, used, len(EXTENDED_TEXT), True
            if suffix.error is not None:
                raise suffix.error
            if raw and suffix.raw:
                raw.append(0x2E)
            raw += suffix.raw
        if not raw:
            return ROOT_TEXT, used, len(ROOT_TEXT), True
        if len(raw) > MAX_NAME_TEXT:
            return TOO_LONG_TEXT, used, len(TOO_LONG_TEXT), True
        return format_text(bytes(raw)), used, len(raw), False


class _Extended(Exception):
    """An extended label other than a bitstring: tshark gives up on the name there."""

    def __init__(self, offset: int) -> None:
        super().__init__("unknown extended label")
        self.offset = offset


def read_name(data: bytes, start: int, msg_start: int, end: int) -> tuple[str, int, int, bool]:
    """One name without a shared reader (see NameReader.read)."""
    return NameReader(data, msg_start, end).read(start)


_NAMED = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}
_ESCAPES = {code: _NAMED.get(code, f"\\{code:03o}") for code in range(0x20)}
_ESCAPES[0x7F] = "\\177"
_ESCAPES.update({code: f"\\u{code:04x}" for code in range(0x80, 0xA0)})


def format_text(raw: bytes) -> str:
    """tshark's format_text: UTF-8 with invalid bytes as U+FFFD, control characters escaped."""
    return raw.decode("utf-8", "replace").translate(_ESCAPES)


def label_count(text: str, name_len: int) -> int:
    """tshark's dns.count.labels: dots plus one, for names longer than one character."""
    return text.count(".") + 1 if name_len > 1 else 0


# dns_types_vals (short names, used in labels and Info) for the types tshark 4.0 knows.
TYPE_NAMES: dict[int, str] = {
    0: "Unused", 1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG", 9: "MR",
    10: "NULL", 11: "WKS", 12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT", 17: "RP",
    18: "AFSDB", 19: "X25", 20: "ISDN", 21: "RT", 22: "NSAP", 23: "NSAP-PTR", 24: "SIG", 25: "KEY",
    26: "PX", 27: "GPOS", 28: "AAAA", 29: "LOC", 30: "NXT", 31: "EID", 32: "NIMLOC", 33: "SRV",
    34: "ATMA", 35: "NAPTR", 36: "KX", 37: "CERT", 38: "A6", 39: "DNAME", 40: "SINK", 41: "OPT",
    42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY",
    49: "DHCID", 50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA", 55: "HIP", 57: "RKEY", 58: "TALINK",
    59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD", 64: "SVCB", 65: "HTTPS",
    99: "SPF", 100: "UINFO", 101: "UID", 102: "GID", 103: "UNSPEC", 104: "NID", 105: "L32",
    106: "L64", 107: "LP", 108: "EUI48", 109: "EUI64", 249: "TKEY", 250: "TSIG", 251: "IXFR",
    252: "AXFR", 253: "MAILA", 254: "MAILB", 255: "ANY", 256: "URI", 257: "CAA", 32768: "TA",
    32769: "DLV", 65281: "WINS", 65282: "WINS-R", 65422: "XPF",
}  # fmt: skip

# dns_types_description_vals: the text in "Type: A (Host Address) (1)", where it differs.
TYPE_DESCRIPTIONS: dict[int, str] = {
    1: "A (Host Address)", 2: "NS (authoritative Name Server)", 3: "MD (Mail Destination)",
    4: "MF (Mail Forwarder)", 5: "CNAME (Canonical NAME for an alias)",
    6: "SOA (Start Of a zone of Authority)", 7: "MB (MailBox domain name)",
    8: "MG (Mail Group member)", 9: "MR (Mail Rename domain)", 10: "NULL RR",
    11: "WKS (Well Known Service)", 12: "PTR (domain name PoinTeR)", 13: "HINFO (host information)",
    14: "MINFO (Mailbox or mail list information)", 15: "MX (Mail eXchange)",
    16: "TXT (Text strings)", 17: "RP (Responsible Person)", 18: "AFSDB (AFS Data Base location)",
    19: "X25 (XX.25 PSDN address)", 20: "ISDN (ISDN address)", 21: "RT (Route Through)",
    22: "NSAP (NSAP address)", 23: "NSAP-PTR (NSAP domain name pointer)",
    24: "SIG (security signature)", 25: "KEY (security key)",
    26: "PX (X.400 mail mapping information)", 27: "GPOS (Geographical Position)",
    28: "AAAA (IPv6 Address)", 29: "LOC (Location Information)", 30: "NXT (Next Domain)",
    31: "EID (Endpoint Identifier)", 32: "NIMLOC (Nimrod Locator)", 33: "SRV (Server Selection)",
    34: "ATMA (ATM Address)", 35: "NAPTR (Naming Authority Pointer)", 36: "KX (Key Exchanger)",
    38: "A6 (OBSOLETE - use AAAA)", 43: "DS (Delegation Signer)",
    44: "SSHFP (SSH Key Fingerprint)", 46: "RRSIG (Resource Record Signature)",
    47: "NSEC (Next Secure)", 48: "DNSKEY (DNS Public Key)", 55: "HIP (Host Identity Protocol)",
    58: "TALINK (Trust Anchor LINK)", 59: "CDS (Child DS)",
    60: "CDNSKEY (DNSKEY(s) the Child wants reflected in DS)", 61: "OPENPGPKEY (OpenPGP Key)",
    62: "CSYNC (Child-to-Parent Synchronization)", 64: "SVCB (General Purpose Service Endpoints)",
    65: "HTTPS (HTTPS Specific Service Endpoints)", 104: "NID (NodeID)", 105: "L32 (Locator32)",
    106: "L64 (Locator64)", 107: "LP (Locator FQDN)", 249: "TKEY (Transaction Key)",
    250: "TSIG (Transaction Signature)", 251: "IXFR (incremental transfer)",
    252: "AXFR (transfer of an entire zone)", 253: "MAILB (mailbox-related RRs)",
    254: "MAILA (mail agent RRs)", 255: "* (A request for all records the server/cache has available)",
    257: "CAA (Certification Authority Restriction)", 32768: "TA (DNSSEC Trust Authorities)",
    32769: "DLV (DNSSEC Lookaside Validation)",
}  # fmt: skip

CLASS_NAMES = {1: "IN", 2: "CS", 3: "CH", 4: "HS", 254: "NONE", 255: "ANY"}
OPCODE_NAMES = {
    0: "Standard query",
    1: "Inverse query",
    2: "Server status request",
    4: "Zone change notification",
    5: "Dynamic update",
    6: "DNS Stateful operations (DSO)",
}
RCODE_NAMES = {
    0: "No error",
    1: "Format error",
    2: "Server failure",
    3: "No such name",
    4: "Not implemented",
    5: "Refused",
    6: "Name exists",
    7: "RRset exists",
    8: "RRset does not exist",
    9: "Not authoritative",
    10: "Name out of zone",
    11: "DSO-Type not implemented",
}
EDNS_OPTION_NAMES = {
    0: "Reserved",
    1: "LLQ - Long-lived query",
    2: "UL - Update lease",
    3: "NSID - Name Server Identifier",
    4: "Owner (reserved)",
    5: "DAU - DNSSEC Algorithm Understood (RFC6975)",
    6: "DHU - DS Hash Understood (RFC6975)",
    7: "N3U - NSEC3 Hash Understood (RFC6975)",
    8: "CSUBNET - Client subnet",
    9: "EDNS EXPIRE (RFC7314)",
    10: "COOKIE",
    11: "EDNS TCP Keepalive",
    12: "PADDING",
    13: "CHAIN",
    15: "Extended DNS Error",
    20730: "Experimental - CSUBNET - Client subnet",
}


def type_name(rtype: int) -> str:
    """The short type name of labels and the Info column ("A", "Unknown (999)")."""
    return TYPE_NAMES.get(rtype) or f"Unknown ({rtype})"


def type_text(rtype: int) -> str:
    """The value part of a Type line: "A (Host Address) (1)", "Unknown (999)"."""
    name = TYPE_DESCRIPTIONS.get(rtype) or TYPE_NAMES.get(rtype)
    return f"{name} ({rtype})" if name else f"Unknown ({rtype})"


def class_text(rclass: int) -> str:
    return f"{CLASS_NAMES.get(rclass, 'Unknown')} (0x{rclass:04x})"


def duration(seconds: int) -> str:
    """Wireshark's unsigned_time_secs_to_str: "1 day, 2 hours, 3 minutes, 4 seconds"."""
    if seconds == 0:
        return "0 seconds"
    parts = []
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return ", ".join(parts)
