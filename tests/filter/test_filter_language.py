"""Display filter language on hand-built frames: operators, literals, multi-occurrence rules, errors.

Each expectation was checked with tshark 4.0 (`tshark -Y`) on the capture the frame comes from.
"""

from __future__ import annotations

import pytest

from analyzer.filter import FilterError, compile_filter
from analyzer.filter.lexer import tokenize
from analyzer.model import Dissection
from analyzer.pipeline import dissect_frame
from captures.frame import Frame

# 10.77.0.1:45124 -> 10.77.0.2:81 TCP SYN with MSS, SACK_PERM, timestamps, WS (tcp-rst.pcap #3).
SYN = bytes.fromhex(
    "02770000000b02770000000a08004500003c7c5540004006a9ca0a4d00010a4d0002b0440051f897af5600000000"
    "a002faf0af8d0000020405b40402080a4c91e3cc000000000103030a"
)
# ICMP port unreachable from 10.77.0.2 quoting a UDP datagram 10.77.0.1 -> 10.77.0.2 (icmp.pcap #10).
ICMP_ERROR = bytes.fromhex(
    "02770000000a02770000000b080045c00058d10a00004001943e0a4d00020a4d0001030311d3000000004500003c"
    "6f0840004011b70c0a4d00010a4d0002881d8299002894096c6179657273636f70652d7564702d6c617965727363"
    "6f70652d7564702d6c61"
)


def dissect(data: bytes) -> Dissection:
    return dissect_frame(Frame(1, 1_700_000_000_000_000_000, data, len(data), 1), strict=True)


SYN_TREE = dissect(SYN)
ERROR_TREE = dissect(ICMP_ERROR)


def matches(text: str, tree: Dissection = SYN_TREE) -> bool:
    return compile_filter(text).matches(tree)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tcp", True),
        ("udp", False),
        ("!udp && ip", True),
        ("not tcp or eth", True),
        ("tcp.srcport == 45124", True),
        ("tcp.srcport eq 45124 and tcp.dstport ne 80", True),
        ("tcp.port == 81", True),
        ("tcp.port in {80, 81}", True),
        ("tcp.port in {1..100}", True),
        ("tcp.port not in {1..100}", False),
        ("tcp.dstport == 0x51", True),
        ("tcp.dstport == 0121", True),
        ("tcp.dstport == 0b1010001", True),
        ("tcp.dstport == 'Q'", True),
        ("tcp.flags.syn == 1 && tcp.flags.ack == 0", True),
        ("tcp.flags.syn == True", True),
        ("tcp.flags.syn == 2", True),  # any non-zero literal is true, as in tshark
        ("tcp.flags & 0x02", True),
        ("tcp.flags & 0x12 == 0x12", False),
        ("tcp.flags bitwise_and 0x10", False),
        ("ip.addr == 10.0.0.0/8", True),
        ("ip.src == 10.77.0.2/32", False),
        ("ip.dst == 10.77.0.2", True),
        ("ip.src > 10.77.0.0 && ip.src < 10.77.0.2", True),
        ("eth.src == 02:77:00:00:00:0a", True),
        ("eth.src == 02-77-00-00-00-0a", True),
        ("eth.src == 0277.0000.000a", True),
        ("eth.src[0:3] == 02:77:00", True),
        ("eth.src[-1] == 0a", True),
        ("eth.src[1-2] == 77:00", True),
        ("eth.src[4:] == 00:0a", True),
        ("eth.src[0,5] == 02:0a", True),
        ("eth.src[10:2] == 00:0a", False),  # out of range: no value
        ("frame[12:2] == 08:00", True),
        ("tcp contains 05:b4", True),
        ('frame.protocols == "eth:ethertype:ip:tcp"', True),
        ('frame.protocols contains "ip"', True),
        ('frame.protocols matches "IP:TCP$"', True),  # case-insensitive, as PCRE2_CASELESS
        ('frame.protocols matches "(?-i)IP:TCP$"', False),
        ('frame.protocols ~ "^eth:"', True),
        ('frame.protocols == "eth:\\x65thertype:ip:tcp"', True),
        ('upper(frame.protocols) contains "TCP"', True),
        ("len(eth.src) == 6", True),
        ("len(ip) == 20", True),
        ("ip.ttl + 1 == 65", True),
        ("{frame.len - 14} == ip.len", True),
        ("frame.len == 74", True),
        ("frame.time_relative == 0", True),
        ("dns", False),
        ('dns.qry.name contains "example"', False),
        ("!http.request", True),
    ],
)
def test_filter_on_syn(text: str, expected: bool) -> None:
    assert matches(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ip.src == 10.77.0.1", True),  # the quoted header's source
        ("ip.src != 10.77.0.1", False),  # 4.0: "all not equal"
        ("!(ip.src == 10.77.0.1)", False),
        ("ip.src ~= 10.77.0.1", True),  # "any not equal"
        ("ip.src === 10.77.0.1", False),
        ("ip.src == ip.dst", True),  # some pair is equal across the two headers
        ("ip.src != ip.dst", False),
        ("ip.src#1 == 10.77.0.2 && ip.src#2 == 10.77.0.1", True),
        ("ip.src#2 == 10.77.0.2", False),
        ("count(ip.src) == 2", True),
        ("icmp && udp", True),
        ("udp.port == 33433", True),
        ("udp.port != 53", True),
        ("tcp.port != 53", False),  # no value: false, unlike !(tcp.port == 53)
        ("!(tcp.port == 53)", True),
    ],
)
def test_fields_that_occur_twice(text: str, expected: bool) -> None:
    assert matches(text, ERROR_TREE) is expected


@pytest.mark.parametrize(
    ("text", "message", "start", "end"),
    [
        ("ip.src == 300.1.1.1", '"300.1.1.1" is not a valid hostname or IPv4 address.', 10, 19),
        ("foo.bar", "foo.bar is neither a field nor a protocol name.", 0, 7),
        ("ip.src ==", "Unexpected end of filter expression.", 9, 10),
        ('frame contains "abc', "The final quote was missing from a quoted string.", 19, 20),
        ("udp.port in {53 67 68}", '"67" was unexpected in this context.', 16, 18),
        (
            "tcp.flags.syn == true",
            '"true" cannot be found among the possible values for tcp.flags.syn.',
            17,
            21,
        ),
        ("tcp.port == 70000", '"70000" too big for this field, maximum 65535.', 12, 17),
        ("ip.src == 10.0.0.0/33", "Netmask bits in a CIDR IPv4 address should be <= 32, not 33", 10, 21),
        ("ip.src contains 1", "ip.src (type=IPv4 address) cannot participate in contains comparison.", 0, 6),
        ("ip.src == 1.2.3.4)", '")" was unexpected in this context.', 17, 18),
        (
            "eth.src == 02:77:00:00:00",
            '"02:77:00:00:00" contains too few bytes to be a valid Ethernet address.',
            11,
            25,
        ),
        ("foo(ip.src)", "Function 'foo' does not exist", 0, 3),
        ("tcp.srcport == 1.5", '"1.5" is not a valid number.', 15, 18),
        ('frame.protocols matches "("', None, 24, 27),
        ("!", "Unexpected end of filter expression.", 1, 2),
    ],
)
def test_errors_name_the_problem_and_its_columns(
    text: str, message: str | None, start: int, end: int
) -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter(text)
    error = caught.value
    if message is not None:
        assert error.message == message
    assert (error.start, error.end) == (start, end)
    assert error.one_line().endswith(f"(column {start + 1})")
    assert error.caret_line() == " " * start + "^" + "~" * (end - start - 1)


def test_empty_filter_shows_everything() -> None:
    assert compile_filter("  ").constant is True


def test_string_escapes_and_raw_strings() -> None:
    tokens = tokenize(r'"a\x41\101\n\"" r"a\x41"')
    assert [token.text for token in tokens[:2]] == ['aAA\n"', r"a\x41"]


def test_word_operators_equal_symbols() -> None:
    for word, symbol in (("eq", "=="), ("ne", "!="), ("gt", ">"), ("lt", "<"), ("ge", ">="), ("le", "<=")):
        for value in (80, 81, 82):
            assert matches(f"tcp.dstport {word} {value}") is matches(f"tcp.dstport {symbol} {value}")
