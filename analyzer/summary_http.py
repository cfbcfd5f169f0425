"""Info column of HTTP/1.x messages for the fast summary paths (tshark 4.0's text), without a tree.

`http_info(payload)` looks only at the start line and, for a message whose body is in the same
bytes, the Content-Type: "GET /index.html HTTP/1.1 ", "HTTP/1.1 200 OK  (text/html)". It returns
None for bytes that do not start an HTTP message, and never raises.
"""

from __future__ import annotations

from dissectors.http_parse import MAX_START_LINE, body_length, parse_head, start_kind


def http_info(payload: bytes) -> str | None:
    """tshark's Info text of the HTTP message starting the payload, or None."""
    if start_kind(payload) is None:
        return None
    line_end = payload.find(b"\n", 0, MAX_START_LINE)
    line = payload[: len(payload) if line_end < 0 else line_end].rstrip(b"\r").decode("latin-1")
    info = f"{line} "
    head = parse_head(payload)
    if head is None or head.body_start < 0:
        return info
    length = body_length(head, payload, 0)
    has_body = not isinstance(length, int) or length > 0
    media = (head.get("content-type") or "").split(";", 1)[0].strip()
    if has_body and media and len(payload) > head.body_start:
        info += f" ({media})"
    return info
