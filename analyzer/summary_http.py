"""Info column of HTTP/1.x messages for the fast summary paths (tshark 4.0's text), without a tree.

`http_summary(payload)` looks only at the start line and, for a message whose body is in the same
bytes, the Content-Type: ("HTTP", "GET /index.html HTTP/1.1 "), ("HTTP", "HTTP/1.1 200 OK
(text/html)"); a JSON body adds its dissector's name, as tshark's columns show it: ("HTTP/JSON",
"HTTP/1.1 200 OK , JavaScript Object Notation (application/json)"). It returns None for bytes that
do not start an HTTP message, and never raises.
"""

from __future__ import annotations

from dissectors.http_parse import MAX_START_LINE, body_length, parse_head, start_kind
from dissectors.json import JSON_TYPES
from dissectors.json import TITLE as JSON_TITLE

MAX_MESSAGES = 64  # pipelined messages described in one segment's Info (bounded work)


def http_info(payload: bytes) -> str | None:
    """tshark's Info text of the HTTP messages starting the payload, or None."""
    found = http_summary(payload)
    return found[1] if found is not None else None


def http_summary(payload: bytes) -> tuple[str, str] | None:
    """tshark's Protocol and Info of the HTTP messages starting the payload, or None.

    Pipelined messages that follow a complete one in the same bytes add their own text, as
    tshark's Info shows them one after the other ("GET /a HTTP/1.1 GET /b HTTP/1.1 ")."""
    texts: list[str] = []
    protocol = "HTTP"
    start = 0
    while len(texts) < MAX_MESSAGES:
        message = payload[start:] if start else payload
        if start_kind(message) is None:
            break
        text, used, json_body = _message_info(message)
        texts.append(text)
        if json_body:
            protocol = "HTTP/JSON"
        if used <= 0 or used >= len(message):
            break
        start += used
    return (protocol, "".join(texts)) if texts else None


def _message_info(payload: bytes) -> tuple[str, int, bool]:
    """The Info text of the message at the start of `payload`, its length when all of it is there
    (0 otherwise), and whether its body goes to the JSON dissector."""
    line_end = payload.find(b"\n", 0, MAX_START_LINE)
    line = payload[: len(payload) if line_end < 0 else line_end].rstrip(b"\r").decode("latin-1")
    info = f"{line} "
    head = parse_head(payload)
    if head is None or head.body_start < 0:
        return info, 0, False
    length = body_length(head, payload, 0)
    if isinstance(length, int) and head.body_start + length > len(payload):
        return info, 0, False  # the body goes on in later segments: nothing describes it here
    has_body = not isinstance(length, int) or length > 0
    media = (head.get("content-type") or "").split(";", 1)[0].strip()
    json_body = False
    if has_body and media and len(payload) > head.body_start:
        json_body = media.lower() in JSON_TYPES
        if json_body:
            info += f", {JSON_TITLE}"
        info += f" ({media})"
    return info, head.body_start + length if isinstance(length, int) else 0, json_body
