"""HTTP/1.x message framing (RFC 9112): start lines, header blocks, chunked bodies, PDU length.

Pure byte-level helpers shared by the HTTP dissector and its TCP desegmentation hook. Every
scan is bounded: a header block longer than MAX_HEADER_BYTES or a chunk list longer than
MAX_CHUNKS stops the scan instead of growing without limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analyzer.context import PacketContext
from analyzer.registry import NEED_MORE, PduNeed

# A header block this long without its blank line is dissected as it is, never waited for.
MAX_HEADER_BYTES = 1024 * 1024 + 64 * 1024
MAX_HEADER_LINES = 2000
MAX_CHUNKS = 100_000
# The start line is found within this many bytes (a request line longer than this is not HTTP).
MAX_START_LINE = 64 * 1024

# Request methods tshark 4.0's HTTP heuristic accepts (RFC 9110 and WebDAV's common ones).
METHODS = frozenset(
    b"GET HEAD POST PUT DELETE CONNECT OPTIONS TRACE PATCH PROPFIND PROPPATCH MKCOL COPY MOVE LOCK"
    b" UNLOCK SEARCH REPORT MKACTIVITY CHECKOUT MERGE NOTIFY SUBSCRIBE UNSUBSCRIBE PURGE".split()
)
_STATUS = re.compile(rb"HTTP/1\.[0-9] [0-9]{3}(?:[ \r\n]|$)")
_REQUEST = re.compile(rb"([A-Z][A-Z_-]{0,31}) (\S+) HTTP/1\.[0-9]\r?$")

NO_BODY_STATUS = frozenset((204, 304))


@dataclass(frozen=True, slots=True)
class Header:
    """One header line: offsets relative to the message start; `end` is past its line break."""

    name: str
    value: str
    start: int
    end: int
    text: str  # the whole line including its CR LF, as tshark's label and *.line show it


@dataclass(frozen=True, slots=True)
class Head:
    """A message's start line and header block."""

    kind: str  # "request" or "response"
    start_line: str  # without its line break
    start_end: int  # past the start line's line break
    headers: tuple[Header, ...]
    body_start: int  # past the blank line; -1 when the block has not ended in the bytes given
    truncated: bool = False  # the block was cut at MAX_HEADER_BYTES / MAX_HEADER_LINES

    def get(self, name: str) -> str | None:
        lowered = name.lower()
        for header in self.headers:
            if header.name.lower() == lowered:
                return header.value
        return None

    @property
    def status(self) -> int:
        """The response's status code (0 for a request)."""
        if self.kind != "response":
            return 0
        return int(self.start_line[9:12])


def start_kind(data: bytes, start: int = 0, end: int | None = None) -> str | None:
    """ "request" or "response" when data[start:end] begins with an HTTP/1.x start line."""
    stop = len(data) if end is None else min(end, len(data))
    if data.startswith(b"HTTP/1.", start) and _STATUS.match(data, start, min(stop, start + 13)):
        return "response"
    space = data.find(b" ", start, min(stop, start + 33))
    if space < 0 or data[start:space] not in METHODS:
        return None
    line_end = data.find(b"\n", start, min(stop, start + MAX_START_LINE))
    if line_end < 0:
        # The request line goes on past these bytes: trust the method and the space after it.
        return "request" if space + 1 < stop or stop - start < MAX_START_LINE else None
    return "request" if _REQUEST.match(data, start, line_end) else None


def _line_end(data: bytes, at: int, stop: int) -> int:
    """Offset past the next LF (the line break), or -1 when the line does not end before stop."""
    found = data.find(b"\n", at, stop)
    return -1 if found < 0 else found + 1


def parse_head(data: bytes, start: int = 0, end: int | None = None) -> Head | None:
    """The start line and headers of the message at data[start:]; None when it is not HTTP."""
    stop = len(data) if end is None else min(end, len(data))
    kind = start_kind(data, start, stop)
    if kind is None:
        return None
    # Offsets in the Head are relative to the message start.
    data, start, stop = data[start:stop], 0, stop - start
    first_end = _line_end(data, start, stop)
    if first_end < 0:
        line = data[start:stop].decode("latin-1")
        return Head(kind, line, stop, (), -1)
    start_line = data[start:first_end].rstrip(b"\r\n").decode("latin-1")
    headers: list[Header] = []
    at = first_end
    limit = min(stop, start + MAX_HEADER_BYTES)
    capped = stop > limit
    while at < limit:
        if data.startswith(b"\r\n", at) or data.startswith(b"\n", at):
            blank = 2 if data[at] == 0x0D else 1
            return Head(kind, start_line, first_end, tuple(headers), at + blank)
        line_end = _line_end(data, at, limit)
        if line_end < 0 or len(headers) >= MAX_HEADER_LINES:
            # The block goes on past the bytes given, or past what we agree to read.
            headers.append(_header(data, at, limit if line_end < 0 else line_end))
            cut = capped or len(headers) > MAX_HEADER_LINES
            return Head(kind, start_line, first_end, tuple(headers), -1, truncated=cut)
        headers.append(_header(data, at, line_end))
        at = line_end
    return Head(kind, start_line, first_end, tuple(headers), -1, truncated=capped)


def _header(data: bytes, at: int, line_end: int) -> Header:
    raw = data[at:line_end]
    text = raw.decode("latin-1")
    name, colon, value = text.rstrip("\r\n").partition(":")
    if not colon:
        return Header("", "", at, line_end, text)
    return Header(name, value.lstrip(" \t"), at, line_end, text)


def content_length(head: Head) -> int | None:
    """The Content-Length as a number, or None when absent or not a number."""
    value = head.get("content-length")
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isdigit() and len(value) <= 18 else None


def is_chunked(head: Head) -> bool:
    value = head.get("transfer-encoding")
    return value is not None and value.strip().lower().endswith("chunked")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One chunk: offsets in the data; `size` as declared; `data_end` clamped to the data."""

    start: int  # the size line
    size: int
    size_line_end: int
    data_end: int
    end: int  # past the CR LF after the data (or data_end when it is missing)


@dataclass(frozen=True, slots=True)
class ChunkedBody:
    chunks: tuple[Chunk, ...]
    trailers: tuple[Header, ...]
    end: int  # past the last byte of the body found
    complete: bool  # the last chunk and the trailer section ended inside the data
    bad_size: int = -1  # offset of a size line that is not a hex number


def parse_chunked(data: bytes, start: int, stop: int) -> ChunkedBody:
    """Walk a chunked body (RFC 9112 7.1) in data[start:stop], never past stop."""
    chunks: list[Chunk] = []
    at = start
    while at < stop and len(chunks) < MAX_CHUNKS:
        line_end = _line_end(data, at, min(stop, at + 1024))
        if line_end < 0:
            return ChunkedBody(tuple(chunks), (), at, False)
        size_text = data[at:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return ChunkedBody(tuple(chunks), (), at, False, bad_size=at)
        if size == 0:
            chunks.append(Chunk(at, 0, line_end, line_end, line_end))
            trailers: list[Header] = []
            t_at = line_end
            while t_at < stop and len(trailers) < MAX_HEADER_LINES:
                if data.startswith(b"\r\n", t_at) or data.startswith(b"\n", t_at):
                    blank = 2 if data[t_at] == 0x0D else 1
                    return ChunkedBody(tuple(chunks), tuple(trailers), t_at + blank, True)
                t_end = _line_end(data, t_at, stop)
                if t_end < 0:
                    break
                trailers.append(_header(data, t_at, t_end))
                t_at = t_end
            return ChunkedBody(tuple(chunks), tuple(trailers), t_at, False)
        data_end = min(line_end + size, stop)
        end = data_end
        if data_end == line_end + size:
            if data.startswith(b"\r\n", data_end):
                end = data_end + 2
            elif data.startswith(b"\n", data_end):
                end = data_end + 1
        chunks.append(Chunk(at, size, line_end, data_end, end))
        if end == data_end:
            return ChunkedBody(tuple(chunks), (), end, False)
        at = end
    return ChunkedBody(tuple(chunks), (), at, False)


def body_length(head: Head, data: bytes, start: int) -> int | PduNeed | None:
    """How many bytes the body has (from head.body_start), NEED_MORE, or None for "until close"."""
    if head.kind == "response" and (head.status < 200 or head.status in NO_BODY_STATUS):
        return 0
    if is_chunked(head):
        walked = parse_chunked(data, start + head.body_start, len(data))
        if walked.complete:
            return walked.end - (start + head.body_start)
        if walked.bad_size >= 0:
            return walked.bad_size - (start + head.body_start)
        return NEED_MORE
    length = content_length(head)
    if length is not None:
        return length
    return 0 if head.kind == "request" else None


def _may_start(data: bytes) -> bool:
    """True when data is too short to tell, but could begin a start line."""
    if b"\n" in data or len(data) > 40:
        return False
    if b"HTTP/1."[: len(data)] == data[:7]:
        return True
    word = data.split(b" ", 1)[0]
    if b" " not in data:
        return any(method.startswith(word) for method in METHODS)
    return word in METHODS


def pdu_length(data: bytes, ctx: PacketContext) -> int | PduNeed | None:
    """Desegmentation hook: the length of the HTTP message at data[0:] (see Registry.pdu_lengths).

    A response without Content-Length or chunking lasts until the connection closes: NEED_MORE
    until the desegmenter sees the FIN. A header block past MAX_HEADER_BYTES is taken as it is.
    """
    head = parse_head(data)
    if head is None:
        return NEED_MORE if _may_start(data) else None
    if head.body_start < 0:
        return len(data) if head.truncated else NEED_MORE
    body = body_length(head, data, 0)
    if body is None or isinstance(body, PduNeed):
        return NEED_MORE
    return head.body_start + body
