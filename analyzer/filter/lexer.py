"""Display filter tokens (Wireshark 4.0's lexer): words, strings, operators, brackets."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from analyzer.filter.errors import FilterError


class Kind(Enum):
    WORD = "word"  # a field name or an unquoted literal: ip.src, 10.0.0.0/8, 00:11:22, 0x1f
    STRING = "string"  # "quoted", value holds the unescaped text
    CHAR = "char"  # 'a', value holds the character
    OP = "op"  # ==, &&, !, (, {, [, ...
    END = "end"


@dataclass(slots=True, frozen=True)
class Token:
    kind: Kind
    text: str  # the operator or word as written; for strings, the decoded value
    start: int
    end: int


# Longest first, so "===" wins over "==" and "==" over "=".
OPERATORS = (
    "===",
    "==",
    "!=",
    "~=",
    ">=",
    "<=",
    "&&",
    "||",
    "..",
    ">",
    "<",
    "!",
    "~",
    "&",
    "+",
    "*",
    "/",
    "%",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "#",
    "-",
)
# Characters of unquoted words: field names, numbers, addresses, byte strings, CIDR masks.
WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-/")
ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def tokenize(text: str) -> list[Token]:
    """Split a filter into tokens; inside [...] slices, numbers, ':' and '-' are separate tokens."""
    tokens: list[Token] = []
    pos, depth = 0, 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        if char == '"' or (char == "r" and text.startswith('r"', pos)):
            token = _string(text, pos)
        elif char == "'":
            token = _char(text, pos)
        elif depth and (char.isdigit() or char in ":-,"):
            end = pos + 1
            while char.isdigit() and end < len(text) and text[end].isdigit():
                end += 1
            token = Token(Kind.WORD if char.isdigit() else Kind.OP, text[pos:end], pos, end)
        elif char in WORD_CHARS and not text.startswith("..", pos) and not (char == "-" and _lone(text, pos)):
            end = pos
            while end < len(text) and text[end] in WORD_CHARS and not text.startswith("..", end):
                end += 1
            token = Token(Kind.WORD, text[pos:end], pos, end)
        else:
            op = next((op for op in OPERATORS if text.startswith(op, pos)), None)
            if op is None:
                raise FilterError(f'"{char}" was unexpected in this context.', pos, pos + 1)
            token = Token(Kind.OP, op, pos, pos + len(op))
            depth += op == "["
            depth -= op == "]" and depth > 0
        tokens.append(token)
        pos = token.end
    tokens.append(Token(Kind.END, "", len(text), len(text)))
    return tokens


def _lone(text: str, pos: int) -> bool:
    """A '-' that is the subtraction operator rather than the start of a word like -1."""
    return pos + 1 >= len(text) or text[pos + 1] not in WORD_CHARS


def _string(text: str, start: int) -> Token:
    raw = text[start] == "r"
    pos = start + (2 if raw else 1)
    out: list[str] = []
    while pos < len(text):
        char = text[pos]
        if char == '"':
            return Token(Kind.STRING, "".join(out), start, pos + 1)
        if char == "\\" and pos + 1 < len(text):
            if raw:
                out.append(text[pos : pos + 2])
                pos += 2
                continue
            decoded, pos = _escape(text, pos)
            out.append(decoded)
            continue
        out.append(char)
        pos += 1
    raise FilterError("The final quote was missing from a quoted string.", len(text), len(text) + 1)


def _escape(text: str, pos: int) -> tuple[str, int]:
    """One backslash escape at `pos`: \\n, \\xhh, \\ooo, \\uXXXX, or the character itself."""
    char = text[pos + 1]
    if char in ESCAPES:
        return ESCAPES[char], pos + 2
    if char == "x":
        digits = _run(text, pos + 2, "0123456789abcdefABCDEF", 2)
        if digits:
            return chr(int(digits, 16)), pos + 2 + len(digits)
    if char in "01234567":
        digits = _run(text, pos + 1, "01234567", 3)
        return chr(int(digits, 8) & 0xFF), pos + 1 + len(digits)
    if char in "uU":
        width = 4 if char == "u" else 8
        digits = _run(text, pos + 2, "0123456789abcdefABCDEF", width)
        if len(digits) == width and int(digits, 16) <= 0x10FFFF:
            return chr(int(digits, 16)), pos + 2 + width
    return char, pos + 2


def _run(text: str, pos: int, allowed: str, limit: int) -> str:
    end = pos
    while end < len(text) and end - pos < limit and text[end] in allowed:
        end += 1
    return text[pos:end]


def _char(text: str, start: int) -> Token:
    """A character constant such as 'a' or '\\n': an integer literal."""
    if start + 1 < len(text) and text[start + 1] == "\\":
        if start + 2 >= len(text):
            raise FilterError("The final quote was missing from a character constant.", start, len(text))
        value, pos = _escape(text, start + 1)
    elif start + 1 < len(text):
        value, pos = text[start + 1], start + 2
    else:
        raise FilterError("The final quote was missing from a character constant.", start, len(text))
    if pos >= len(text) or text[pos] != "'":
        raise FilterError("The final quote was missing from a character constant.", start, pos)
    return Token(Kind.CHAR, value, start, pos + 1)
