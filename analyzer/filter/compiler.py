"""Semantic check and compilation of a filter's syntax tree into closures over a Packet.

Wireshark 4.0's semantics for fields that occur several times in a packet (an ICMP error quotes
a second IP header): `==`, `>`, `contains`, `matches`, `in` and `~=` are true if ANY pair of
values satisfies them; `!=` is "all not equal" (false when either side has no value, so
`!(a == b)` differs from `a != b` on packets without the field); `===` is "all equal". A field
that is absent makes every comparison false and its presence test false.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from analyzer.filter.catalog import CATALOG
from analyzer.filter.errors import FilterError
from analyzer.filter.packet import Packet
from analyzer.filter.syntax import (
    Arith,
    Call,
    Compare,
    Exists,
    Literal,
    Logical,
    Member,
    Negate,
    Node,
    Not,
    Slice,
    Word,
)
from analyzer.filter.values import (
    CONTAINS,
    MATCHES,
    NUMERIC,
    SLICEABLE,
    Family,
    LiteralError,
    family_of,
    parse_bytes,
    parse_literal,
    pretty_type,
    to_bytes,
)

Test = Callable[[Packet], bool]
Values = Callable[[Packet], list[object]]
Predicate = Callable[[Any, Any], bool]
IP_FAMILIES = frozenset({Family.IPV4, Family.IPV6})
_SYMBOLS = {"any_eq": "==", "all_ne": "!=", "all_eq": "===", "any_ne": "~=", "gt": ">", "ge": ">="}
_SYMBOLS |= {"lt": "<", "le": "<="}


@dataclass(slots=True)
class Typed:
    """A compiled value expression: its family, its Wireshark type and how to get its values."""

    family: Family
    ftype: str
    get: Values
    name: str  # what error messages call it


class Compiler:
    def __init__(self, text: str, absent: Callable[[str], bool]) -> None:
        self.text = text
        self.absent = absent
        # Every catalog name the filter reads (fields and protocols), with its family.
        self.families: dict[str, Family] = {}
        # True once the filter reads more than values of plain fields and the presence of
        # protocols (a protocol's bytes, a length, a display text): only a tree can answer.
        self.needs_tree = False

    # -- helpers ----------------------------------------------------------------------------

    def source(self, node: Node) -> str:
        return self.text[node.start : node.end]

    def error(self, message: str, node: Node) -> FilterError:
        return FilterError(message, node.start, node.end)

    def is_literal(self, node: Node) -> bool:
        return isinstance(node, Literal) or (isinstance(node, Word) and node.text not in CATALOG)

    # -- tests ------------------------------------------------------------------------------

    def test(self, node: Node) -> Test:
        if isinstance(node, Logical):
            left, right = self.test(node.left), self.test(node.right)
            if node.op == "and":
                return lambda p: left(p) and right(p)
            return lambda p: left(p) or right(p)
        if isinstance(node, Not):
            inner = self.test(node.test)
            return lambda p: not inner(p)
        if isinstance(node, Exists):
            return self.exists(node.value)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Member):
            return self.member(node)
        raise self.error(f'"{self.source(node)}" was unexpected in this context.', node)

    def exists(self, node: Node) -> Test:
        if isinstance(node, Word) and node.text not in CATALOG:
            raise self.error(f"{node.text} is neither a field nor a protocol name.", node)
        if isinstance(node, Literal):
            raise self.error(f'"{node.text}" is not a valid protocol or protocol field.', node)
        typed = self.field(node, presence=True) if isinstance(node, Word) else self.value(node)
        get = typed.get
        if isinstance(node, Arith):
            return lambda p: any(value != 0 for value in get(p))
        return lambda p: bool(get(p))

    def compare(self, node: Compare) -> Test:
        op = node.op
        left_lit, right_lit = self.is_literal(node.left), self.is_literal(node.right)
        if left_lit and right_lit:
            raise self.error(f"{self.source(node.left)} is neither a field nor a protocol name.", node.left)
        if op in ("contains", "matches") and left_lit:
            raise self.error(f"{self.source(node.left)} is neither a field nor a protocol name.", node.left)
        if left_lit:
            right = self.value(node.right)
            self.check_operator(op, right, node.right)
            left = self.literal(node.left, right, op)
        else:
            left = self.value(node.left)
            self.check_operator(op, left, node.left)
            right = self.literal(node.right, left, op) if right_lit else self.value(node.right)
        if not right_lit and not left_lit and not _compatible(left.family, right.family):
            raise self.error(f"{left.name} and {right.name} are not of compatible types.", node.right)
        if op == "matches":
            return self.matcher(node, left, right)
        predicate = _predicate(op, left.family)
        get_left, get_right = left.get, right.get
        if op == "all_ne":
            return lambda p: _all(predicate, get_left(p), get_right(p))
        if op == "all_eq":
            return lambda p: _all(predicate, get_left(p), get_right(p))
        if right_lit:
            constants = right.get(NO_PACKET)
            if len(constants) == 1:
                constant = constants[0]
                return lambda p: any(predicate(value, constant) for value in get_left(p))
        return lambda p: _any(predicate, get_left(p), get_right(p))

    def check_operator(self, op: str, left: Typed, node: Node) -> None:
        family = left.family
        if op == "contains" and family not in CONTAINS:
            raise self.error(
                f"{left.name} (type={pretty_type(left.ftype)}) cannot participate in contains comparison.",
                node,
            )
        if op == "matches" and family not in MATCHES:
            raise self.error(
                f"{left.name} (type={pretty_type(left.ftype)}) cannot participate in matches comparison.",
                node,
            )
        if family is Family.NONE:
            symbol = _SYMBOLS.get(op, op)
            raise self.error(
                f"{left.name} (type={pretty_type(left.ftype)}) cannot participate in '{symbol}' comparison.",
                node,
            )

    def matcher(self, node: Compare, left: Typed, right: Typed) -> Test:
        if not isinstance(node.right, Literal) or not node.right.quoted:
            raise self.error("Regular expressions must be given as quoted strings.", node.right)
        pattern = node.right.text
        flags = re.IGNORECASE | re.DOTALL  # Wireshark 4.0 compiles with PCRE2_CASELESS
        if pattern.startswith("(?-i)"):
            pattern, flags = pattern[5:], re.DOTALL
        try:
            text_regex = re.compile(pattern, flags)
            byte_regex = re.compile(pattern.encode("utf-8", "surrogateescape"), flags)
        except re.error as bad:
            raise self.error(f"Regex compilation error: {bad}.", node.right) from None
        get = left.get
        if left.family is Family.STRING:
            return lambda p: any(text_regex.search(str(value)) for value in get(p))
        return lambda p: any(byte_regex.search(_as_bytes(value)) for value in get(p))

    def member(self, node: Member) -> Test:
        if self.is_literal(node.value):
            raise self.error(f"{self.source(node.value)} is neither a field nor a protocol name.", node.value)
        typed = self.value(node.value)
        self.check_operator("in", typed, node.value)
        eq = _predicate("any_eq", typed.family)
        singles: list[object] = []
        ranges: list[tuple[object, object]] = []
        for low, high in node.members:
            low_value = self.constant(low, typed, "any_eq")
            if high is None:
                singles.append(low_value)
            else:
                ranges.append((_order_key(low_value), _order_key(self.constant(high, typed, "any_eq"))))
        get, negated = typed.get, node.negated

        def inside(value: object) -> bool:
            if any(eq(value, single) for single in singles):
                return True
            key = _order_key(value)
            return any(low <= key <= high for low, high in ranges)  # type: ignore[operator]

        if negated:
            return lambda p: not any(inside(value) for value in get(p))
        return lambda p: any(inside(value) for value in get(p))

    # -- values -----------------------------------------------------------------------------

    def value(self, node: Node) -> Typed:
        if isinstance(node, Word):
            return self.field(node)
        if isinstance(node, Slice):
            return self.slice(node)
        if isinstance(node, Arith):
            return self.arith(node)
        if isinstance(node, Negate):
            inner = self.value(node.value)
            if inner.family not in NUMERIC:
                raise self.error(f"{inner.name} cannot be negated.", node)
            get = inner.get
            return Typed(inner.family, inner.ftype, lambda p: [-v for v in get(p)], inner.name)  # type: ignore[operator]
        if isinstance(node, Call):
            return self.call(node)
        raise self.error(f'"{self.source(node)}" was unexpected in this context.', node)

    def field(self, node: Word, presence: bool = False) -> Typed:
        entry = CATALOG.get(node.text)
        if entry is None:
            raise self.error(f"{node.text} is neither a field nor a protocol name.", node)
        ftype, _base, protocol = entry
        family = family_of(ftype)
        if family is Family.PROTOCOL and not presence:
            self.needs_tree = True
        name, layer = node.text, node.layer
        if self.absent(protocol):
            return Typed(family, ftype, lambda p: [], name)
        self.families[name] = family
        return Typed(family, ftype, lambda p: p.values(name, layer), name)

    def slice(self, node: Slice) -> Typed:
        inner = self.value(node.value)
        if inner.family not in SLICEABLE:
            raise self.error(
                f'"{inner.name}" is a {pretty_type(inner.ftype)}'
                " and cannot be sliced into a sequence of bytes.",
                node.value,
            )
        family, get, ranges = inner.family, inner.get, node.ranges

        def sliced(p: Packet) -> list[object]:
            out: list[object] = []
            for value in get(p):
                piece = _slice(to_bytes(family, value), ranges)
                if piece is not None:
                    out.append(piece)
            return out

        return Typed(Family.BYTES, "FT_BYTES", sliced, f"{inner.name}[...]")

    def arith(self, node: Arith) -> Typed:
        if self.is_literal(node.left) and self.is_literal(node.right):
            raise self.error("Constant arithmetic expression on the LHS is invalid.", node)
        if self.is_literal(node.left):
            right = self.value(node.right)
            left = self.literal(node.left, right, "arith")
        else:
            left = self.value(node.left)
            right = (
                self.literal(node.right, left, "arith")
                if self.is_literal(node.right)
                else self.value(node.right)
            )
        allowed = {Family.INT, Family.BOOL} if node.op == "&" else NUMERIC
        for side in (left, right):
            if side.family not in allowed:
                raise self.error(f"{side.name} is not a valid operand for {node.op}.", node)
        function = _ARITH[node.op]
        get_left, get_right = left.get, right.get

        def compute(p: Packet) -> list[object]:
            out: list[object] = []
            for a in get_left(p):
                for b in get_right(p):
                    try:
                        out.append(function(a, b))
                    except ZeroDivisionError:
                        continue
            return out

        typed = left if not self.is_literal(node.left) else right
        return Typed(typed.family, typed.ftype, compute, self.source(node))

    def call(self, node: Call) -> Typed:
        name = node.name
        if name not in _FUNCTIONS:
            raise FilterError(f"Function '{name}' does not exist", node.start, node.start + len(name))
        if len(node.args) != 1:
            raise self.error(f"Function {name}() takes exactly one argument.", node)
        arg = node.args[0]
        if self.is_literal(arg):
            raise self.error(f"{self.source(arg)} is neither a field nor a protocol name.", arg)
        inner = self.value(arg)
        get = inner.get
        if name in ("len", "string"):
            self.needs_tree = True
        if name == "count":
            if not isinstance(arg, Word):
                raise self.error("Only fields can be used as parameter for count()", arg)
            return Typed(
                Family.INT, "FT_UINT32", lambda p: [n] if (n := len(get(p))) else [], self.source(node)
            )
        if name == "len":
            if isinstance(arg, Word) and inner.family in (Family.PROTOCOL, Family.NONE, Family.STRING):
                field_name, layer = arg.text, arg.layer
                if inner.family is Family.NONE or not self.absent(CATALOG[field_name][2]):
                    return Typed(
                        Family.INT,
                        "FT_UINT32",
                        lambda p: list(p.lengths(field_name, layer)),
                        self.source(node),
                    )
                return Typed(Family.INT, "FT_UINT32", lambda p: [], self.source(node))
            family = inner.family
            if family not in SLICEABLE:
                raise self.error(f"{inner.name} (type={pretty_type(inner.ftype)}) has no length.", arg)
            return Typed(
                Family.INT,
                "FT_UINT32",
                lambda p: [len(to_bytes(family, v)) for v in get(p)],
                self.source(node),
            )
        if name in ("upper", "lower"):
            if inner.family is not Family.STRING:
                raise self.error(f"Only string type fields can be used as parameter for {name}()", arg)
            change = str.upper if name == "upper" else str.lower
            return Typed(
                Family.STRING, "FT_STRING", lambda p: [change(str(v)) for v in get(p)], self.source(node)
            )
        # string(): the field's display text.
        if not isinstance(arg, Word):
            raise self.error("Only fields can be used as parameter for string()", arg)
        field_name, layer = arg.text, arg.layer
        if self.absent(CATALOG[field_name][2]):
            return Typed(Family.STRING, "FT_STRING", lambda p: [], self.source(node))
        return Typed(
            Family.STRING, "FT_STRING", lambda p: list(p.shows(field_name, layer)), self.source(node)
        )

    # -- literals ---------------------------------------------------------------------------

    def literal(self, node: Node, other: Typed, op: str) -> Typed:
        value = self.constant(node, other, op)
        constant = [value]
        return Typed(other.family, other.ftype, lambda p: constant, self.source(node))

    def constant(self, node: Node, other: Typed, op: str) -> object:
        if not self.is_literal(node):
            raise self.error(f'"{self.source(node)}" was unexpected in this context.', node)
        if isinstance(node, Literal):
            text, quoted = node.text, node.quoted
            if not quoted:  # a character constant is an integer
                if other.family in (Family.INT, Family.BOOL):
                    return ord(text)
                text, quoted = text, True
        else:
            assert isinstance(node, Word)
            text, quoted = node.text, False
            if node.layer is not None:
                raise self.error(f"{text} is neither a field nor a protocol name.", node)
        family = other.family
        if family is Family.NONE or (op == "matches"):
            return text
        try:
            if op == "contains" and family is Family.ETHER:
                return text.encode("utf-8", "surrogateescape") if quoted else parse_bytes(text)
            if op == "arith":
                return parse_literal(
                    text, "FT_INT64" if family is Family.INT else other.ftype, family, quoted, ""
                )
            return parse_literal(text, other.ftype, family, quoted, other.name)
        except LiteralError as bad:
            raise self.error(str(bad), node) from None


class _NoPacket:
    """Stands in for a packet when reading a constant's value at compile time."""

    def values(self, name: str, layer: int | None) -> list[object]:
        return []

    def shows(self, name: str, layer: int | None) -> list[str]:
        return []

    def lengths(self, name: str, layer: int | None) -> list[int]:
        return []


NO_PACKET = _NoPacket()
_FUNCTIONS = frozenset({"len", "count", "upper", "lower", "string"})
_ARITH: dict[str, Callable[[object, object], object]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": lambda a, b: a // b if isinstance(a, int) and isinstance(b, int) else a / b,  # type: ignore[operator]
    "%": operator.mod,
    "&": operator.and_,
}


def _compatible(a: Family, b: Family) -> bool:
    numeric = {Family.INT, Family.BOOL}
    byteish = {Family.BYTES, Family.ETHER, Family.PROTOCOL}
    return a == b or (a in numeric and b in numeric) or (a in byteish and b in byteish)


def _as_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogateescape")


def _ip_eq(a: tuple[int, int], b: tuple[int, int]) -> bool:
    mask = a[1] & b[1]
    return (a[0] & mask) == (b[0] & mask)


def _order_key(value: object) -> object:
    return value[0] if isinstance(value, tuple) else value


def _predicate(op: str, family: Family) -> Predicate:
    if family in IP_FAMILIES:
        if op in ("any_eq", "all_eq"):
            return _ip_eq
        if op in ("any_ne", "all_ne"):
            return lambda a, b: not _ip_eq(a, b)
        compare = _ORDER[op]
        return lambda a, b: bool(compare(_order_key(a), _order_key(b)))
    if op == "contains":
        return lambda a, b: b in a
    if op in ("any_eq", "all_eq"):
        return operator.eq
    if op in ("any_ne", "all_ne"):
        return operator.ne
    return _ORDER[op]


_ORDER: dict[str, Predicate] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


def _any(predicate: Predicate, left: list[object], right: list[object]) -> bool:
    return any(predicate(a, b) for a in left for b in right)


def _all(predicate: Predicate, left: list[object], right: list[object]) -> bool:
    return bool(left) and bool(right) and all(predicate(a, b) for a in left for b in right)


def _slice(data: bytes, ranges: list[tuple[int, int | None]]) -> bytes | None:
    """Wireshark's drange: every range must lie inside the value, else the slice has no value."""
    out = bytearray()
    size = len(data)
    for start, length in ranges:
        begin = start + size if start < 0 else start
        end = size if length is None else begin + length
        if begin < 0 or begin > size or end > size or (length is not None and length < 0):
            return None
        out += data[begin:end]
    return bytes(out)


def compile_tree(
    node: Node, text: str, absent: Callable[[str], bool]
) -> tuple[Test, dict[str, Family], bool]:
    """The test, the names it reads with their families, and whether only a tree can answer it."""
    compiler = Compiler(text, absent)
    test = compiler.test(node)
    return test, compiler.families, compiler.needs_tree


def absent_protocols(dissected: Collection[str]) -> Callable[[str], bool]:
    """A test for catalog protocols no registered dissector produces (their fields never match)."""
    present = frozenset(dissected)
    return lambda protocol: protocol not in present
