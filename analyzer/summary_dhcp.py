"""tshark's Info column for DHCP/BOOTP ("DHCP Discover - Transaction ID 0x1a2b3c4d"), struct-fast."""

from __future__ import annotations

from dissectors.dhcp_names import MESSAGE_TYPES

VENDOR_OFFSET = 236
MAGIC_COOKIE = b"\x63\x82\x53\x63"
PAD, END, MESSAGE_TYPE = 0, 255, 53


def dhcp_info(data: bytes, offset: int, end: int) -> str | None:
    """The Info text for the BOOTP message in `data[offset:end]`; None if it is too short to say.

    Like tshark: the last complete option 53 names the message; without one it is plain BOOTP
    ("Boot Request from MAC" / "Boot Reply"). Never raises.
    """
    end = min(end, len(data))
    if offset < 0 or end - offset < 8:
        return None
    op = data[offset]
    xid = int.from_bytes(data[offset + 4 : offset + 8], "big")
    message = _message_type(data, offset, end)
    if message is not None:
        # tshark: "%sDHCP %-8s - Transaction ID 0x%x" (the prefix is for proxyDHCP, port 4011).
        return f"DHCP {message:<8} - Transaction ID 0x{xid:x}"
    if op == 1:
        hw_type, hw_len = data[offset + 1], data[offset + 2]
        chaddr = data[offset + 28 : offset + 28 + hw_len]
        if len(chaddr) < hw_len:
            return None
        text = ":".join(f"{b:02x}" for b in chaddr)
        if hw_type in (1, 6) and hw_len == 6:
            return f"Boot Request from {text} ({text})"
        return f"Boot Request from {text}"
    if op == 2:
        return "Boot Reply"
    return f"Unknown BOOTP message type ({op})"


def _message_type(data: bytes, offset: int, end: int) -> str | None:
    cookie_at = offset + VENDOR_OFFSET
    at = cookie_at + (4 if data[cookie_at : cookie_at + 4] == MAGIC_COOKIE else 64)
    found: str | None = None
    while at < end:
        code = data[at]
        if code == END:
            break
        if code == PAD:
            at += 1
            continue
        if at + 1 >= end:
            break
        length = data[at + 1]
        if code == MESSAGE_TYPE and length and at + 2 + length <= end:
            value = data[at + 2]
            found = MESSAGE_TYPES.get(value, f"Unknown Message Type (0x{value:02x})")
        at += 2 + length
    return found
