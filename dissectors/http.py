"""HTTP/1.x: Hypertext Transfer Protocol 1.0 and 1.1 (RFC 9112 messages, RFC 9110 semantics)."""

from __future__ import annotations

import zlib

from analyzer.context import PacketContext
from analyzer.cursor import ByteCursor, generated, text_node
from analyzer.model import Field, Layer, Problem, Severity
from analyzer.registry import Next, Protocol, Registry
from dissectors.http_names import HEADER_FIELDS, STATUS_TEXT
from dissectors.http_parse import (
    Head,
    Header,
    body_length,
    is_chunked,
    parse_chunked,
    parse_head,
    pdu_length,
    start_kind,
)

TITLE = "Hypertext Transfer Protocol"
PORTS = (80, 8080, 8000, 3128)
# Decoded bodies (gzip/deflate) stop growing here; the rest is reported, never inflated.
MAX_DECODED_BODY = 10 * 1024 * 1024
# Characters a header name (an RFC 9110 token) may not hold, besides controls and spaces.
TOKEN_SEPARATORS = frozenset('"(),/:;<=>?@[\\]{}')
# Label text is cut here: a 1 MB header line is kept as bytes, not copied into every label.
MAX_LABEL = 64 * 1024
# tshark cuts tree labels of ITEM_LABEL_LENGTH bytes or more to " [truncated]" + 226 bytes.
ITEM_LABEL_LENGTH = 240
TRUNCATED = " [truncated]"
TRUNCATED_KEEP = ITEM_LABEL_LENGTH - 2 - len(TRUNCATED)
# tshark labels a byte string with its first 36 bytes only.
LABEL_BYTES = 36


def dissect(cursor: ByteCursor, layer: Layer, ctx: PacketContext) -> Next | None:
    start, stop = cursor.pos, cursor.limit
    data = cursor.data
    layer.label = TITLE
    if cursor.limit < cursor.end:
        layer.problem(
            "http.truncated", "Packet size limited during capture: HTTP truncated", Severity.WARNING, stop, 0
        )
    head = parse_head(data, start, stop)
    if head is None:
        return _continuation(data, layer, start, stop)
    _start_line(data, layer, head, start)
    line_name = f"http.{head.kind}.line"
    for header in head.headers:
        _header(layer, header, start, line_name)
    if head.truncated:
        layer.problem(
            "http.header_too_long",
            f"Header block longer than {head.headers[-1].end if head.headers else 0} bytes not read further",
            Severity.WARNING,
            start + head.start_end,
            stop - start - head.start_end,
        )
    if head.body_start >= 0:
        text_node(layer, "\r\n", start + head.body_start - _blank_len(data, start + head.body_start), 0)
        layer.children[-1].length = _blank_len(data, start + head.body_start)
    # A header block cut by the end of the segment is still a request or response to tshark 4.0.
    if head.kind == "request":
        _full_uri(layer, head, start)
        generated(layer, "http.request", "Request: True", True, offset=start, hidden=True)
    else:
        generated(layer, "http.response", "Response: True", True, offset=start, hidden=True)
    if head.body_start < 0:
        return None
    body_at = start + head.body_start
    return _body(data, layer, ctx, head, start, body_at, stop)


def _blank_len(data: bytes, body_at: int) -> int:
    return 2 if data[body_at - 2 : body_at] == b"\r\n" else 1


def _label(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[:MAX_LABEL] + "\u2026"


def _shown_width(char: str) -> int:
    """Bytes tshark's label takes for one character (controls escaped, latin-1 as UTF-8)."""
    code = ord(char)
    if char in "\a\b\f\n\r\t\v":
        return 2
    if code < 0x20 or code == 0x7F:
        return 4
    return 1 if code < 0x80 else 2


def _tree_label(text: str) -> str:
    """A tree label cut as tshark 4.0 cuts one of ITEM_LABEL_LENGTH (240) bytes or more:
    " [truncated]" in front, 238 bytes in all."""
    total, cut = 0, -1
    for index, char in enumerate(text):
        total += _shown_width(char)
        if cut < 0 and total > TRUNCATED_KEEP:
            cut = index
        if total >= ITEM_LABEL_LENGTH:
            return TRUNCATED + text[:cut]
    return text


def _start_line(data: bytes, layer: Layer, head: Head, start: int) -> None:
    line_len = head.start_end
    line_text = data[start : start + line_len].decode("latin-1")
    node = text_node(layer, _tree_label(line_text), start, line_len)
    # tshark's expert item is also a field (http.chat, shown as 1 by -e): a hidden first child
    # that the expert lines stand in for in -V, ahead of the method / version fields.
    chat = node.add(Field("http.chat", _label(line_text), True, "1", -1, 0, generated=True, hidden=True))
    layer.problems.append(
        Problem("http.chat", Severity.CHAT, _label(line_text), -1, 0, "Sequence", about=chat)
    )
    text = head.start_line
    if head.kind == "request":
        method, _, rest = text.partition(" ")
        uri, _, version = rest.rpartition(" ")
        if not uri:
            uri, version = version, ""
        node.add(
            Field("http.request.method", f"Request Method: {method}", method, method, start, len(method))
        )
        uri_at = start + len(method) + 1
        uri_item = node.add(
            Field("http.request.uri", _tree_label(f"Request URI: {uri}"), uri, uri, uri_at, len(uri))
        )
        _uri_parts(uri_item, uri, uri_at)
        if version:
            version_at = uri_at + len(uri) + 1
            node.add(
                Field(
                    "http.request.version",
                    f"Request Version: {version}",
                    version,
                    version,
                    version_at,
                    len(version),
                )
            )
        return
    version = text[:8]
    code = int(text[9:12])
    phrase = text[13:]
    node.add(Field("http.response.version", f"Response Version: {version}", version, version, start, 8))
    node.add(Field("http.response.code", f"Status Code: {code}", code, str(code), start + 9, 3))
    desc = STATUS_TEXT.get(code, "Unknown")
    generated(node, "http.response.code.desc", f"[Status Code Description: {desc}]", desc, desc, start + 9, 3)
    if len(text) > 13:
        node.add(
            Field(
                "http.response.phrase", f"Response Phrase: {phrase}", phrase, phrase, start + 13, len(phrase)
            )
        )


def _uri_parts(item: Field, uri: str, at: int) -> None:
    path, question, query = uri.partition("?")
    if not question:
        return
    item.add(Field("http.request.uri.path", f"Request URI Path: {path}", path, path, at, len(path)))
    query_at = at + len(path) + 1
    query_item = item.add(
        Field("http.request.uri.query", f"Request URI Query: {query}", query, query, query_at, len(query))
    )
    for parameter in query.split("&"):
        query_item.add(
            Field(
                "http.request.uri.query.parameter",
                f"Request URI Query Parameter: {parameter}",
                parameter,
                parameter,
                query_at,
                len(parameter),
            )
        )
        query_at += len(parameter) + 1


def _header(layer: Layer, header: Header, start: int, line_name: str) -> None:
    at, length = start + header.start, header.end - header.start
    label = _tree_label(header.text)
    known = HEADER_FIELDS.get(header.name.lower())
    value = header.value.rstrip("\r\n")
    if known is not None:
        item = layer.add(Field(known, label, value, value, at, length))
        if known == "http.content_length_header":
            digits = value.strip()
            if digits.isdigit() and len(digits) <= 18:
                number = int(digits)
                generated(
                    item,
                    "http.content_length",
                    f"[Content length: {number}]",
                    number,
                    str(number),
                    at,
                    length,
                )
    else:
        text_node(layer, label, at, length)
    layer.add(Field(line_name, label, header.text, header.text, at, length, hidden=True))


def _full_uri(layer: Layer, head: Head, start: int) -> None:
    item = layer.find("http.request.uri")
    host = head.get("host")
    if item is None or not isinstance(item.value, str):
        return
    uri = item.value
    if uri.startswith(("http://", "https://")):
        full = uri
    elif host is not None:
        full = f"http://{host.strip()}{uri}"
    else:
        return
    generated(layer, "http.request.full_uri", _tree_label(f"[Full request URI: {full}]"), full, full, start)


def _continuation(data: bytes, layer: Layer, start: int, stop: int) -> Next | None:
    """Bytes that do not start a message: the rest of a body, shown as tshark does (data inside).

    tshark 4.0 first reads lines holding a colon as header lines (flagging names that are not
    tokens), up to a blank line or a line without one; what follows is the body.
    """
    at = start
    while at < stop:
        end = _tshark_line_end(data, at, stop)
        raw = data[at:end]
        if at > start and raw in (b"\r\n", b"\n", b"\r"):
            text_node(layer, raw.decode("latin-1"), at, end - at)
            at = end
            break
        # What tshark 4.0 was seen to take for a header: a printable first byte (or a space) and a colon.
        if (at == start and not 0x20 <= data[at] < 0x7F) or b":" not in raw:
            break
        _stray_header(layer, raw, at)
        at = end
    if at >= stop:
        return None
    body = data[at:stop]
    # tshark 4.0 was seen to show File Data for a continuation after header-like lines or of
    # text, and not for a binary one (the Data item alone).
    if at > start or _is_text(body):
        _file_data(layer, body, at, stop - at)
    return Next("http.continuation", (), at, stop, inside=True)


def _is_text(body: bytes) -> bool:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\t\r\n" for ch in text)


def _tshark_line_end(data: bytes, at: int, stop: int) -> int:
    """Past the end of the line at `at`: tshark ends lines at CR LF, LF or a lone CR."""
    for index in range(at, stop):
        byte = data[index]
        if byte == 0x0A:
            return index + 1
        if byte == 0x0D:
            return index + 2 if index + 1 < stop and data[index + 1] == 0x0A else index + 1
    return stop


def _stray_header(layer: Layer, raw: bytes, at: int) -> None:
    if not _is_text(raw):
        # tshark shows binary junk taken for a header as a truncated, re-encoded label; we keep
        # the bytes in the layer's range without a tree line rather than imitate it wrongly.
        return
    text = raw.decode("latin-1")
    name, _, rest = text.partition(":")
    known = HEADER_FIELDS.get(name.lower())
    if known is not None:
        value = rest.lstrip(" \t").rstrip("\r\n")
        layer.add(Field(known, _tree_label(text), value, value, at, len(raw)))
        return
    node = text_node(layer, _tree_label(text), at, len(raw))
    if not name or any(ch in TOKEN_SEPARATORS or not 0x21 <= ord(ch) <= 0x7E for ch in name):
        message = "Illegal characters found in header name"
        bad = node.add(Field("http.bad_header_name", message, True, "", -1, 0, generated=True, hidden=True))
        layer.problems.append(
            Problem("http.bad_header_name", Severity.WARNING, message, -1, 0, "Protocol", about=bad)
        )


def _file_data(layer: Layer, body: bytes, offset: int, length: int) -> None:
    text = body.decode("utf-8", "replace")
    layer.add(Field("http.file_data", f"File Data: {len(body)} bytes", text, text, offset, length))


def _body(
    data: bytes, layer: Layer, ctx: PacketContext, head: Head, start: int, body_at: int, stop: int
) -> Next | None:
    declared = body_length(head, data, start)
    # Without a declared length (until the connection closes, a chunked body cut short): what is there.
    body_end = min(body_at + declared, stop) if isinstance(declared, int) else stop
    if is_chunked(head):
        body, body_end = _dechunk(data, layer, body_at, stop)
        if body is None:
            return None
        return _hand_on(layer, ctx, head, body, -1, body_end, dechunked=True)
    if body_end <= body_at:
        return None
    # A body that goes on past this segment gets no expert item: tshark 4.0 shows none.
    return _hand_on(layer, ctx, head, data[body_at:body_end], body_at, body_end, dechunked=False)


def _dechunk(data: bytes, layer: Layer, body_at: int, stop: int) -> tuple[bytes | None, int]:
    walked = parse_chunked(data, body_at, stop)
    node = text_node(layer, "HTTP chunked response", body_at, max(walked.end - body_at, 0))
    pieces: list[bytes] = []
    for chunk in walked.chunks:
        if chunk.size == 0:
            last = text_node(node, "End of chunked encoding", chunk.start, chunk.end - chunk.start)
            last.add(
                Field(
                    "http.chunk_size",
                    "Chunk size: 0 octets",
                    0,
                    "0",
                    chunk.start,
                    chunk.size_line_end - chunk.start,
                )
            )
            continue
        octets = f"{chunk.size} octet{'' if chunk.size == 1 else 's'}"
        item = text_node(node, f"Data chunk ({octets})", chunk.start, chunk.end - chunk.start)
        size_len = chunk.size_line_end - chunk.start
        item.add(
            Field(
                "http.chunk_size", f"Chunk size: {octets}", chunk.size, str(chunk.size), chunk.start, size_len
            )
        )
        piece = data[chunk.size_line_end : chunk.data_end]
        pieces.append(piece)
        item.add(
            Field(
                "http.chunk_data",
                f"Chunk data: {_bytes_preview(piece)}",
                piece,
                piece.hex(),
                chunk.size_line_end,
                len(piece),
            )
        )
        if chunk.end > chunk.data_end:
            boundary = data[chunk.data_end : chunk.end]
            item.add(
                Field(
                    "http.chunk_boundary",
                    f"Chunk boundary: {_bytes_preview(boundary)}",
                    boundary,
                    boundary.hex(),
                    chunk.data_end,
                    len(boundary),
                )
            )
        if chunk.data_end - chunk.size_line_end < chunk.size:
            layer.problem(
                "http.chunk_size_past_data",
                f"Chunk size {chunk.size} goes past the {chunk.data_end - chunk.size_line_end} bytes there",
                Severity.WARNING,
                chunk.start,
                size_len,
            )
    for trailer in walked.trailers:
        node.add(
            Field(
                "http.chunked_trailer_part",
                _tree_label(f"trailer-part: {trailer.text}"),
                trailer.text,
                trailer.text,
                trailer.start,
                trailer.end - trailer.start,
            )
        )
    if walked.complete and walked.trailers is not None and walked.chunks and walked.chunks[-1].size == 0:
        blank = _blank_len(data, walked.end)
        text_node(node, "\r\n", walked.end - blank, blank)
    if walked.bad_size >= 0:
        layer.problem(
            "http.chunk_size_bad",
            "Chunk size is not a hexadecimal number",
            Severity.WARNING,
            walked.bad_size,
            0,
        )
    return b"".join(pieces), walked.end


def _bytes_preview(raw: bytes) -> str:
    """A byte string's label text as tshark 4.0 shows it: at most 36 bytes in hex, then an ellipsis."""
    return raw[:LABEL_BYTES].hex() + ("\u2026" if len(raw) > LABEL_BYTES else "")


def _decode(layer: Layer, encoding: str, body: bytes) -> bytes | None:
    """A gzip or deflate body inflated up to MAX_DECODED_BODY, or None when it does not inflate."""
    wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
    try:
        inflater = zlib.decompressobj(wbits)
        out = inflater.decompress(body, MAX_DECODED_BODY)
    except zlib.error:
        if encoding == "deflate":  # some servers send raw deflate without the zlib header
            try:
                inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                out = inflater.decompress(body, MAX_DECODED_BODY)
            except zlib.error:
                return None
        else:
            return None
    if inflater.unconsumed_tail:
        layer.problem(
            "http.decoded_body_capped",
            f"Decoded body cut at {MAX_DECODED_BODY} bytes",
            Severity.WARNING,
        )
    return out


def _hand_on(
    layer: Layer, ctx: PacketContext, head: Head, body: bytes, body_at: int, body_end: int, dechunked: bool
) -> Next | None:
    """File Data, then the body to its media dissector (at the root of the tree, as tshark)."""
    encoding = (head.get("content-encoding") or "").strip().lower()
    decoded: bytes | None = None
    if encoding in ("gzip", "x-gzip", "deflate"):
        decoded = _decode(layer, encoding, body)
        if decoded is not None:
            text_node(
                layer, f"Content-encoded entity body ({encoding}): {len(body)} bytes -> {len(decoded)} bytes"
            )
        else:
            layer.problem("http.decompression_failed", "Decompression failed", Severity.WARNING, body_at, 0)
    shown = decoded if decoded is not None else body
    derived = dechunked or decoded is not None
    if derived:
        _file_data(layer, shown, -1, 0)
    else:
        _file_data(layer, shown, body_at, len(shown))
    media = (head.get("content-type") or "").split(";", 1)[0].strip().lower()
    ctx.media_type = media
    if not shown:
        return None
    table = "media_type" if media else "http.continuation"
    keys: tuple[str, ...] = (media,) if media else ()
    inside = not media
    if derived:
        name = "Uncompressed entity body" if decoded is not None else "De-chunked entity body"
        # A chunked and compressed body: tshark keeps the de-chunked bytes as a source of their own.
        steps = ((f"De-chunked entity body ({len(body)} bytes)", body),) if dechunked and decoded else ()
        return Next(
            table,
            keys,
            0,
            len(shown),
            inside=inside,
            data=shown,
            source_name=f"{name} ({len(shown)} bytes)",
            steps_before=steps,
        )
    return Next(table, keys, body_at, body_end, inside=inside)


def looks_like_http(data: bytes, offset: int, end: int, ctx: PacketContext) -> bool:
    """The content heuristic: a request line or a status line at the start of the payload."""
    return start_kind(data, offset, end) is not None


def register(registry: Registry) -> None:
    registry.add_protocol(Protocol("http", "HTTP", TITLE, dissect))
    registry.bind_many("tcp.port", PORTS, "http")
    registry.add_heuristic("tcp.port", "http", looks_like_http)
    registry.add_pdu_length("http", pdu_length)
