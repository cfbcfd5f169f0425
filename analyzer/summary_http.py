"""Info column of HTTP/1.x messages for the fast summary paths (tshark 4.0's text), without a tree.

`http_info(payload)` looks only at the start line and, for a message whose body is in the same
bytes, the Content-Type: "GET /index.html HTTP/1.1 ", "HTTP/1.1 200 OK  (text/html)". It returns
None for bytes that do not start an HTTP message, and never raises.
"""

from __future__ import annotations

from dissectors.http_parse import MAX_START_LINE, body_length, parse_head, start_kind

MAX_MESSAGES = 64  # pipelined messages described in one segment's Info (bounded work)


def http_info(payload: bytes) -> str | None:
    """tshark's Info text of the HTTP messages starting the payload, or None.

    Pipelined messages that follow a complete one in the same bytes add their own text, as
    tshark's Info shows them one after the other ("GET /a HTTP/1.1 GET /b HTTP/1.1 ")."""
    texts: list[str] = []
    start = 0
    while len(texts) < MAX_MESSAGES:
        message = payload[start:] if start else payload
        if start_kind(message) is None:
            break
        text, used = _message_info(message)
        texts.append(text)
        if used <= 0 or used >= len(message):
            break
        start += used
    return "".join(texts) if texts else None


def _message_info(payload: bytes) -> tuple[str, int]:
    """The Info text of the message at the start of `payload`, and its length when all of it is
    there (0 otherwise)."""
    line_end = payload.find(b"\n", 0, MAX_START_LINE)
    line = payload[: len(payload) if line_end < 0 else line_end].rstrip(b"\r").decode("latin-1")
    info = f"{line} "
    head = parse_head(payload)
    if head is None or head.body_start < 0:
        return info, 0
    length = body_length(head, payload, 0)
    if isinstance(length, int) and head.body_start + length > len(payload):
        return info, 0  # the body goes on in later segments: nothing describes it here
    has_body = not isinstance(length, int) or length > 0
    media = (head.get("content-type") or "").split(";", 1)[0].strip()
    if has_body and media and len(payload) > head.body_start:
        info += f" ({media})"
    return info, head.body_start + length if isinstance(length, int) else 0
