"""JavaScript Object Notation (RFC 8259) bodies, as tshark 4.0's json dissector shows them.

Objects, arrays and members nest as in the text; a member's key and its path ("/items/[]/id")
follow its value, and a member or array item holding a plain value also gets the path and the
member with that value ("[Path with value: /items/[]/id:38]", "[Member with value: []:1]").
Several values one after the other are shown one after the other. The parser is our own:
offsets point at the bytes and nesting is bounded.

As tshark does, a body that is not made of objects and arrays (a bare string or number, or text
that stops being JSON on the way) keeps an empty JSON item, followed by the body as text.
"""

from __future__ import annotations

import json

from analyzer.context import PacketContext
from analyzer.cursor import ByteCursor, generated
from analyzer.model import Field, Layer
from analyzer.registry import Next, Protocol, Registry

TITLE = "JavaScript Object Notation"
# Media types tshark 4.0 hands to its json dissector.
JSON_TYPES = (
    "application/json",
    "application/json-rpc",
    "application/jsonrequest",
    "application/dds-web+json",
    "application/vnd.oma.lwm2m+json",
    "application/schema+json",
    "application/problem+json",
)
MAX_DEPTH = 64  # nesting deeper than this is reported rather than followed
MAX_ITEMS = 100_000  # values shown at most; the rest of a huge body stays in the layer's range
_WHITESPACE = b" \t\r\n"
_NUMBER_BYTES = frozenset(b"+-0123456789.eE")


class _Stop(Exception):
    """The text stops being JSON at `offset`."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message, self.offset = message, offset


class _Parser:
    def __init__(self, data: bytes, start: int, end: int) -> None:
        self.data, self.at, self.end = data, start, end
        self.items = 0

    def skip_space(self) -> None:
        data, end = self.data, self.end
        while self.at < end and data[self.at] in _WHITESPACE:
            self.at += 1

    def peek(self) -> int:
        self.skip_space()
        if self.at >= self.end:
            raise _Stop("The JSON text ends early", self.at)
        return self.data[self.at]

    def expect(self, byte: int) -> None:
        if self.peek() != byte:
            raise _Stop(f"Expected {chr(byte)!r}", self.at)
        self.at += 1

    def value(self, parent: Field | Layer, path: str, key: str, depth: int) -> None:
        """One value under `parent`; `key` is its member name ("[]" for an array item)."""
        self.items += 1
        if depth > MAX_DEPTH:
            raise _Stop(f"JSON nested deeper than {MAX_DEPTH} levels", self.at)
        if self.items > MAX_ITEMS:
            raise _Stop(f"More than {MAX_ITEMS} JSON values", self.at)
        first = self.peek()
        start = self.at
        if first == ord("{"):
            self.container(parent, path, depth, "json.object", "Object", ord("}"))
            return
        if first == ord("["):
            self.container(parent, path, depth, "json.array", "Array", ord("]"))
            return
        if first == ord('"'):
            text = self.string()
            name, label, shown = "json.value.string", f"String value: {text}", text
        elif first in _NUMBER_BYTES:
            while self.at < self.end and self.data[self.at] in _NUMBER_BYTES:
                self.at += 1
            shown = self.data[start : self.at].decode("ascii")
            try:
                float(shown)
            except ValueError:
                raise _Stop(f"Not a JSON number: {shown}", start) from None
            name, label = "json.value.number", f"Number value: {shown}"
        else:
            word = next((w for w in (b"true", b"false", b"null") if self.data.startswith(w, start)), None)
            if word is None or start + len(word) > self.end:
                raise _Stop("Not a JSON value", start)
            self.at = start + len(word)
            shown = word.decode("ascii")
            name, label = f"json.value.{shown}", f"{shown.capitalize()} value"
        generated(parent, "json.path_with_value", f"[Path with value: {path}:{shown}]", f"{path}:{shown}")
        generated(parent, "json.member_with_value", f"[Member with value: {key}:{shown}]", f"{key}:{shown}")
        if name in ("json.value.true", "json.value.false", "json.value.null"):
            parent.add(Field(name, label, None, "1", start, self.at - start))  # FT_NONE prints "1"
        else:
            parent.add(Field(name, label, shown, shown, start, self.at - start))

    def container(
        self, parent: Field | Layer, path: str, depth: int, name: str, label: str, closing: int
    ) -> None:
        start = self.at
        node = parent.add(Field(name, label, None, "1", start, 0))  # FT_NONE prints "1"
        self.at += 1
        if self.peek() == closing:
            self.at += 1
        else:
            while True:
                if name == "json.object":
                    self.member(node, path, depth)
                else:
                    self.value(node, f"{path}/[]", "[]", depth + 1)
                following = self.peek()
                self.at += 1
                if following == closing:
                    break
                if following != ord(","):
                    raise _Stop(f"Expected ',' or {chr(closing)!r}", self.at - 1)
        node.length = self.at - start

    def member(self, parent: Field, path: str, depth: int) -> None:
        if self.peek() != ord('"'):
            raise _Stop("Expected a member name", self.at)
        start = self.at
        if self.data[start] != ord('"'):
            raise _Stop("Expected a member name", start)
        key = self.string()
        key_end = self.at
        node = parent.add(Field("json.member", f"Member: {key}", key, key, start, 0))
        self.expect(ord(":"))
        member_path = f"{path}/{key}"
        self.value(node, member_path, key, depth + 1)
        node.add(Field("json.key", f"Key: {key}", key, key, start + 1, key_end - start - 2))
        generated(node, "json.path", f"[Path: {member_path}]", member_path)
        node.length = self.at - start

    def string(self) -> str:
        """The string at a quote, unescaped (bad escapes kept as written)."""
        start = self.at
        data, at, end = self.data, self.at + 1, self.end
        while at < end:
            byte = data[at]
            if byte == 0x5C:  # backslash: the next byte is escaped
                at += 2
                continue
            if byte == 0x22:
                break
            at += 1
        else:
            raise _Stop("Unterminated JSON string", start)
        self.at = at + 1
        raw = data[start : at + 1].decode("utf-8", "replace")
        try:
            text: str = json.loads(raw)
        except ValueError:
            text = raw[1:-1]
        return text


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start, stop = cursor.pos, cursor.limit
    media = f": {ctx.media_type}" if ctx.media_type else ""
    layer.label = f"{TITLE}{media}"
    layer.offset, layer.length = start, stop - start
    parser = _Parser(cursor.data, start, stop)
    try:
        while True:
            parser.skip_space()
            if parser.at >= stop:
                break
            if parser.data[parser.at] not in b"{[":
                raise _Stop("Not a JSON object or array", parser.at)
            parser.value(layer, "", "", 0)
    except _Stop:
        # tshark then shows the body as text, after an empty JSON item.
        layer.children.clear()
        return Next("media_type", ("text/plain",), start, stop, at_root=True)
    return None


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("json", "JSON", TITLE, dissect))
    for media in JSON_TYPES:
        registry.bind("media_type", media, "json")
