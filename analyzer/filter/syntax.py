"""Display filter syntax tree and parser (Wireshark 4.0's grammar, precedence low to high):

    or (||)  <  and (&&)  <  not (!)  <  relations (== != === ~= > >= < <= contains matches ~ in)
    <  bitwise & (bitwise_and)  <  + -  <  * / %  <  unary -  <  field[slice], field#layer, f(x)

Parentheses group logical tests; braces group arithmetic ({ip.ttl + 1}) and write sets after `in`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analyzer.filter.errors import FilterError
from analyzer.filter.lexer import Kind, Token, tokenize


@dataclass(slots=True)
class Node:
    start: int
    end: int


# -- values ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Word(Node):
    """An unquoted word: a field or protocol name if the catalog knows it, else a literal."""

    text: str
    layer: int | None = None


@dataclass(slots=True)
class Literal(Node):
    text: str
    quoted: bool  # "string" (True) or 'c' character constant (False)


@dataclass(slots=True)
class Slice(Node):
    value: Node
    # (start, length) with None for "to the end"; start may be negative (from the end).
    ranges: list[tuple[int, int | None]]


@dataclass(slots=True)
class Arith(Node):
    op: str  # + - * / % &
    left: Node
    right: Node


@dataclass(slots=True)
class Negate(Node):
    value: Node


@dataclass(slots=True)
class Call(Node):
    name: str
    args: list[Node]


# -- tests ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Exists(Node):
    """A value used as a test: a field is present, or an expression is non-zero."""

    value: Node


@dataclass(slots=True)
class Compare(Node):
    op: str  # canonical: any_eq all_ne all_eq any_ne gt ge lt le contains matches
    left: Node
    right: Node


@dataclass(slots=True)
class Member(Node):
    value: Node
    # Each member is (value, None) or a range (low, high).
    members: list[tuple[Node, Node | None]] = field(default_factory=list)
    negated: bool = False


@dataclass(slots=True)
class Logical(Node):
    op: str  # and, or
    left: Node
    right: Node


@dataclass(slots=True)
class Not(Node):
    test: Node


RELATIONS = {
    "==": "any_eq",
    "eq": "any_eq",
    "any_eq": "any_eq",
    "!=": "all_ne",
    "ne": "all_ne",
    "all_ne": "all_ne",
    "===": "all_eq",
    "all_eq": "all_eq",
    "~=": "any_ne",
    "any_ne": "any_ne",
    ">": "gt",
    "gt": "gt",
    ">=": "ge",
    "ge": "ge",
    "<": "lt",
    "lt": "lt",
    "<=": "le",
    "le": "le",
    "contains": "contains",
    "matches": "matches",
    "~": "matches",
}
KEYWORDS = frozenset({*RELATIONS, "and", "or", "not", "in", "bitwise_and"})
TESTS = (Exists, Compare, Member, Logical, Not)


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0

    # -- token helpers ----------------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def accept(self, *texts: str) -> Token | None:
        token = self.token
        if token.kind in (Kind.OP, Kind.WORD) and token.text in texts:
            self.pos += 1
            return token
        return None

    def expect(self, text: str) -> Token:
        found = self.accept(text)
        if found is None:
            raise self.unexpected()
        return found

    def unexpected(self, token: Token | None = None) -> FilterError:
        token = token or self.token
        if token.kind is Kind.END:
            return FilterError("Unexpected end of filter expression.", token.start, token.end + 1)
        shown = self.text[token.start : token.end]
        return FilterError(f'"{shown}" was unexpected in this context.', token.start, token.end)

    # -- grammar ------------------------------------------------------------------------------

    def parse(self) -> Node:
        if self.token.kind is Kind.END:
            raise FilterError("Unexpected end of filter expression.", 0, 1)
        node = self.or_test()
        if self.tokens[self.pos].kind is not Kind.END:
            raise self.unexpected()
        return node

    def or_test(self) -> Node:
        node = self.and_test()
        while self.accept("||", "or"):
            right = self.and_test()
            node = Logical(node.start, right.end, "or", node, right)
        return node

    def and_test(self) -> Node:
        node = self.not_test()
        while self.accept("&&", "and"):
            right = self.not_test()
            node = Logical(node.start, right.end, "and", node, right)
        return node

    def not_test(self) -> Node:
        token = self.accept("!", "not")
        if token is not None:
            inner = self.not_test()
            return Not(token.start, inner.end, inner)
        return self.relation()

    def relation(self) -> Node:
        if self.token.kind is Kind.OP and self.token.text == "(":
            open_paren = self.expect("(")
            inner = self.or_test()
            close = self.expect(")")
            inner.start, inner.end = open_paren.start, close.end
            return inner
        left = self.value()
        token = self.token
        if token.kind in (Kind.OP, Kind.WORD) and token.text in RELATIONS:
            self.pos += 1
            right = self.value()
            return Compare(left.start, right.end, RELATIONS[token.text], left, right)
        if self.accept("in"):
            return self.member_set(left, False)
        if token.kind is Kind.WORD and token.text == "not" and self.tokens[self.pos + 1].text == "in":
            self.pos += 2
            return self.member_set(left, True)
        return Exists(left.start, left.end, left)

    def member_set(self, value: Node, negated: bool) -> Member:
        self.expect("{")
        members: list[tuple[Node, Node | None]] = []
        while True:
            low = self.value()
            high = self.value() if self.accept("..") else None
            members.append((low, high))
            if not self.accept(","):
                break
        close = self.expect("}")
        return Member(value.start, close.end, value, members, negated)

    def value(self) -> Node:
        node = self.sum()
        while self.accept("&", "bitwise_and"):
            right = self.sum()
            node = Arith(node.start, right.end, "&", node, right)
        return node

    def sum(self) -> Node:
        node = self.product()
        while True:
            token = self.accept("+", "-")
            if token is None:
                return node
            right = self.product()
            node = Arith(node.start, right.end, token.text, node, right)

    def product(self) -> Node:
        node = self.unary()
        while True:
            token = self.accept("*", "/", "%")
            if token is None:
                return node
            right = self.unary()
            node = Arith(node.start, right.end, token.text, node, right)

    def unary(self) -> Node:
        token = self.accept("-")
        if token is not None:
            inner = self.unary()
            return Negate(token.start, inner.end, inner)
        return self.postfix(self.primary())

    def primary(self) -> Node:
        token = self.token
        if token.kind is Kind.STRING or token.kind is Kind.CHAR:
            self.pos += 1
            return Literal(token.start, token.end, token.text, token.kind is Kind.STRING)
        if token.kind is Kind.OP and token.text == "{":
            self.pos += 1
            inner = self.value()
            close = self.expect("}")
            inner.start, inner.end = token.start, close.end
            return inner
        if token.kind is not Kind.WORD or token.text in KEYWORDS:
            raise self.unexpected()
        self.pos += 1
        if self.token.kind is Kind.OP and self.token.text == "(" and self.token.start == token.end:
            return self.call(token)
        return Word(token.start, token.end, token.text)

    def call(self, name: Token) -> Call:
        self.expect("(")
        args: list[Node] = []
        if not self.accept(")"):
            while True:
                args.append(self.value())
                if not self.accept(","):
                    break
            self.expect(")")
        return Call(name.start, self.tokens[self.pos - 1].end, name.text, args)

    def postfix(self, node: Node) -> Node:
        while True:
            if isinstance(node, Word) and node.layer is None and self.accept("#"):
                number = self.token
                if number.kind is not Kind.WORD or not number.text.isdigit():
                    raise self.unexpected()
                self.pos += 1
                node.layer, node.end = int(number.text), number.end
            elif self.token.kind is Kind.OP and self.token.text == "[":
                self.pos += 1
                ranges = [self.slice_range()]
                while self.accept(","):
                    ranges.append(self.slice_range())
                close = self.expect("]")
                node = Slice(node.start, close.end, node, ranges)
            else:
                return node

    def slice_range(self) -> tuple[int, int | None]:
        """One range of a slice: i:j (start, length), i-j (start..end), i, i:, :j."""
        start = self.signed_int() if self.token.text != ":" else 0
        if self.accept(":"):
            if self.token.kind is Kind.WORD:
                return start, self.signed_int()
            return start, None
        if self.accept("-"):
            last = self.signed_int()
            if last < start or (start < 0) != (last < 0):
                raise FilterError(f"Range {start}-{last} is not valid.", self.token.start, self.token.end)
            return start, last - start + 1
        return start, 1

    def signed_int(self) -> int:
        negative = self.accept("-") is not None
        token = self.token
        if token.kind is not Kind.WORD or not token.text.isdigit():
            raise self.unexpected()
        self.pos += 1
        return -int(token.text) if negative else int(token.text)


def parse(text: str) -> Node:
    """The syntax tree of a display filter, or FilterError pointing at the first problem."""
    return Parser(text).parse()
