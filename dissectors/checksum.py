"""Internet checksum (RFC 1071) and the TCP/UDP pseudo-header sum (RFC 9293, RFC 768, RFC 8200)."""

from __future__ import annotations

import sys

_LITTLE_ENDIAN = sys.byteorder == "little"


def _fold(total: int) -> int:
    """Fold a sum of 16-bit words to 16 bits with end-around carry."""
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def ones_complement_sum(data: bytes, initial: int = 0) -> int:
    """The folded 16-bit ones'-complement sum of `data` (big-endian words) plus `initial`.

    An odd trailing byte is padded with zero, as RFC 1071 says. Summing native-order words
    and swapping the folded result gives the big-endian sum (RFC 1071 section 2(B)), which
    lets memoryview do the work instead of a Python loop.
    """
    if len(data) % 2:
        data = data + b"\x00"
    total = _fold(sum(memoryview(data).cast("H")))
    if _LITTLE_ENDIAN:
        total = ((total & 0xFF) << 8) | (total >> 8)
    return _fold(total + initial)


def internet_checksum(data: bytes, initial: int = 0) -> int:
    """The Internet checksum: the complement of the ones'-complement sum.

    `initial` is a partial sum to start from (e.g. `pseudo_header_sum(...)`). Over data that
    includes a correct checksum field the result is 0.
    """
    return ~ones_complement_sum(data, initial) & 0xFFFF


def pseudo_header_sum(src: bytes, dst: bytes, protocol: int, length: int) -> int:
    """The partial sum of the IPv4 (4-byte addresses) or IPv6 (16-byte) pseudo-header.

    IPv4 carries a zero byte, the protocol and a 16-bit length; IPv6 a 32-bit length,
    three zero bytes and the next header. Both sum to the same words, so one function
    serves both.
    """
    return ones_complement_sum(src + dst, _fold(protocol + (length >> 16) + (length & 0xFFFF)))


def should_be(field: int, computed: int) -> int:
    """The checksum value the field should have held, as Wireshark reports it.

    `computed` is `internet_checksum` over the data including the field (0 when correct);
    this is Wireshark's in_cksum_shouldbe, which keeps its 0x0000/0xffff choices.
    """
    return _fold(field + computed)
