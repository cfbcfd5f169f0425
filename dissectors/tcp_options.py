"""TCP options (RFC 9293 3.2, RFC 7323 timestamps and window scale, RFC 2018 SACK), as tshark shows them.

SACK edges are shown raw: tshark shows them relative to the connection's initial sequence
numbers, which only the connection tracker knows.
"""

from __future__ import annotations

from collections.abc import Callable

from analyzer.cursor import ByteCursor, Truncated, generated
from analyzer.model import Field, Layer, Severity

EOL, NOP, MSS, WSCALE, SACK_PERM, SACK, TIMESTAMP = 0, 1, 2, 3, 4, 5, 8
MAX_WINDOW_SHIFT = 14  # RFC 7323 2.3

# Wireshark's tcp_option_kind_vs (`tshark -G values`).
KIND_NAMES: dict[int, str] = {
    0: "End of Option List",
    1: "No-Operation",
    2: "Maximum Segment Size",
    3: "Window Scale",
    4: "SACK Permitted",
    5: "SACK",
    6: "Echo",
    7: "Echo Reply",
    8: "Time Stamp Option",
    9: "Partial Order Connection Permitted",
    10: "Partial Order Service Profile",
    11: "CC",
    12: "CC.NEW",
    13: "CC.ECHO",
    14: "TCP Alternate Checksum Request",
    15: "TCP Alternate Checksum Data",
    16: "Skeeter",
    17: "Bubba",
    18: "Trailer Checksum Option",
    19: "MD5 Signature Option",
    20: "SCPS Capabilities",
    21: "Selective Negative Acknowledgements",
    22: "Record Boundaries",
    23: "Corruption experienced",
    24: "SNAP",
    25: "Unassigned",
    26: "TCP Compression Filter",
    27: "Quick-Start Response",
    28: "User Timeout Option",
    29: "The TCP Authentication Option",
    30: "Multipath TCP",
    34: "TCP Fast Open Cookie",
    76: "Riverbed Probe",
    78: "Riverbed Transparency",
    172: "Accurate ECN Order 0",
    174: "Accurate ECN Order 1",
    253: "RFC3692-style Experiment 1",
    254: "RFC3692-style Experiment 2",
}

# Options tshark has a dissector for: kind -> (filter name of the option item, its title).
# Kinds without one are shown as "Unknown" with their payload.
OPTIONS: dict[int, tuple[str, str]] = {
    0: ("tcp.options.eol", "End of Option List (EOL)"),
    1: ("tcp.options.nop", "No-Operation (NOP)"),
    2: ("tcp.options.mss", "Maximum segment size"),
    3: ("tcp.options.wscale", "Window scale"),
    4: ("tcp.options.sack_perm", "SACK permitted"),
    5: ("tcp.options.sack", "SACK"),
    6: ("tcp.options.echo", "Echo"),
    7: ("tcp.options.echoreply", "Echo reply"),
    8: ("tcp.options.timestamp", "Timestamps"),
    11: ("tcp.options.cc", "CC"),
    12: ("tcp.options.ccnew", "CC.NEW"),
    13: ("tcp.options.ccecho", "CC.ECHO"),
    19: ("tcp.options.md5", "TCP MD5 signature"),
    20: ("tcp.options.scps", "SCPS capabilities"),
    21: ("tcp.options.snack", "Selective Negative Acknowledgment"),
    22: ("tcp.options.scpsrec", "SCPS record boundary"),
    23: ("tcp.options.scpscor", "SCPS corruption experienced"),
    27: ("tcp.options.qs", "Quick-Start"),
    28: ("tcp.options.user_to", "User Timeout"),
    29: ("tcp.options.ao", "TCP AO"),
    34: ("tcp.options.tfo", "TCP Fast Open"),
    76: ("tcp.options.rvbd.probe", "Riverbed Probe"),
    78: ("tcp.options.rvbd.trpy", "Riverbed Transparency"),
    172: ("tcp.options.acc_ecn", "Accurate ECN"),
    174: ("tcp.options.acc_ecn", "Accurate ECN"),
    253: ("tcp.options.experimental", "Experimental"),
    254: ("tcp.options.experimental", "Experimental"),
}

# The length each fixed-size option must have.
FIXED_LENGTHS = {MSS: 4, WSCALE: 3, SACK_PERM: 2, TIMESTAMP: 10}

# A decoder reads an option's body (cursor just past kind and length) and returns the text
# appended to its "TCP Option - ..." line.
Decoder = Callable[[ByteCursor, Field, Layer, int], str]


def _plural(count: int) -> str:
    return "" if count == 1 else "s"


def _mss(cursor: ByteCursor, item: Field, layer: Layer, length: int) -> str:
    value = cursor.uint(item, "tcp.options.mss_val", "MSS Value", 2)
    return f": {value} bytes"


def _wscale(cursor: ByteCursor, item: Field, layer: Layer, length: int) -> str:
    at = cursor.pos
    shift = cursor.uint(item, "tcp.options.wscale.shift", "Shift count", 1)
    if shift > MAX_WINDOW_SHIFT:
        layer.problem(
            "tcp.options.wscale.shift.invalid",
            f"Window scale shift exceeds {MAX_WINDOW_SHIFT}",
            Severity.WARNING,
            at,
            1,
            group="Protocol",
        )
    multiplier = 1 << min(shift, MAX_WINDOW_SHIFT)
    generated(
        item, "tcp.options.wscale.multiplier", f"[Multiplier: {multiplier}]", multiplier, offset=at, length=1
    )
    return f": {shift} (multiply by {multiplier})"


def _timestamp(cursor: ByteCursor, item: Field, layer: Layer, length: int) -> str:
    tsval = cursor.uint(item, "tcp.options.timestamp.tsval", "Timestamp value", 4)
    tsecr = cursor.uint(item, "tcp.options.timestamp.tsecr", "Timestamp echo reply", 4)
    return f": TSval {tsval}, TSecr {tsecr}"


def _sack(cursor: ByteCursor, item: Field, layer: Layer, length: int) -> str:
    left = length - 2
    blocks: list[str] = []
    while left > 0:
        if left < 4:
            _suboption_malformed(layer, cursor.pos, left)
            break
        edge = _sack_edge(cursor, item, "tcp.options.sack_le", "left edge")
        left -= 4
        if left < 4:
            _suboption_malformed(layer, cursor.pos, left)
            break
        right = _sack_edge(cursor, item, "tcp.options.sack_re", "right edge")
        left -= 4
        blocks.append(f" {edge}-{right}")
    count = len(blocks)
    generated(item, "tcp.options.sack.count", f"[TCP SACK Count: {count}]", count)
    if count == 0 or left > 0:
        # tshark's D-SACK check then reads past the option and gives up on the whole list.
        raise Truncated(cursor.pos, 4, snapped=False)
    return "".join(blocks)


def _sack_edge(cursor: ByteCursor, item: Field, name: str, label: str) -> int:
    # Wireshark writes these labels with " = " rather than ": ".
    at = cursor.pos
    value = cursor.read_uint(4)
    item.add(Field(name, f"{label} = {value}", value, str(value), at, 4))
    return value


def _suboption_malformed(layer: Layer, offset: int, length: int) -> None:
    layer.problem(
        "tcp.suboption_malformed", "suboption would go past end of option", Severity.ERROR, offset, length
    )


def _unknown(cursor: ByteCursor, item: Field, layer: Layer, length: int) -> str:
    if length > 2:
        cursor.bytes_field(item, "tcp.options.unknown.payload", "Payload", length - 2)
    return ""


def _nothing(cursor: ByteCursor, item: Field, layer: Layer, length: int) -> str:
    return ""


DECODERS: dict[int, Decoder] = {MSS: _mss, WSCALE: _wscale, TIMESTAMP: _timestamp, SACK: _sack}


def dissect_options(cursor: ByteCursor, options: Field, layer: Layer, is_syn: bool) -> None:
    """Decode the option list under the "Options: (N bytes)" item, appending each name to it.

    Stops at the first option whose length is impossible, as tshark does; every zero byte
    after an End of Option List is shown as another EOL, a non-zero one ends the list.
    """
    nop_run = 0
    after_eol = False
    while cursor.declared_remaining > 0:
        at = cursor.pos
        kind = cursor.peek_uint(1)
        if after_eol and kind != EOL:
            layer.problem(
                "tcp.non_zero_bytes_after_eol",
                "Non-zero header padding",
                Severity.ERROR,
                at,
                cursor.remaining,  # the padding's captured part: a Problem never leaves the frame
                group="Protocol",
            )
            return
        known = OPTIONS.get(kind)
        filter_name, title = known if known is not None else ("tcp.options.unknown", "Unknown")
        if kind in (EOL, NOP):
            item = options.add(
                Field(filter_name, f"TCP Option - {title}", cursor.peek(1), f"{kind:02x}", at, 1)
            )
            cursor.uint(item, "tcp.option_kind", "Kind", 1, names=KIND_NAMES)
            options.label += f", {title}"
            after_eol = after_eol or kind == EOL
            nop_run = nop_run + 1 if kind == NOP else 0
            if nop_run == 4:
                layer.problem(
                    "tcp.nop",
                    "4 NOP in a row - a router may have removed some options",
                    Severity.WARNING,
                    at,
                    1,
                    group="Protocol",
                )
            continue
        nop_run = 0
        name = title if known is not None else f"Unknown (0x{kind:02x})"
        remaining = cursor.declared_remaining
        if remaining < 2:
            _bad_length(layer, at, cursor.remaining, f"{name} (length byte past end of options)")
            return
        length = cursor.peek_uint(1, at=at + 1)
        if length < 2:
            _bad_length(
                layer, at, 1, f"{name} (with too-short option length = {length} byte{_plural(length)})"
            )
            return
        if length > remaining:
            says = f"option length = {length} byte{_plural(length)} says option goes past end of options"
            message = f"{name} ({says})"
            _bad_length(layer, at, min(remaining, cursor.remaining), message)
            return
        body = cursor.restrict_to(length)
        raw = body.data[at : min(at + length, body.limit)]
        item = options.add(Field(filter_name, f"TCP Option - {title}", raw, raw.hex(), at, len(raw)))
        if kind == MSS and not is_syn:
            layer.problem(
                "tcp.options.mss.present",
                "The non-SYN packet does contain a MSS option",
                Severity.WARNING,
                at,
                len(raw),
                group="Protocol",
            )
        body.uint(item, "tcp.option_kind", "Kind", 1, names=KIND_NAMES)
        body.uint(item, "tcp.option_len", "Length", 1)
        expected = FIXED_LENGTHS.get(kind)
        if expected is not None and length != expected:
            _bad_length(layer, at + 1, 1, f"option length should be {expected}")
        else:
            decoder = DECODERS.get(kind, _nothing if known is not None else _unknown)
            item.label += decoder(body, item, layer, length)
        options.label += f", {name}"


def _bad_length(layer: Layer, offset: int, length: int, message: str) -> None:
    layer.problem("tcp.option.len.invalid", message, Severity.NOTE, offset, length, group="Sequence")
