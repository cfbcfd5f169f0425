"""HttpTransactions: HTTP request/response pairing per TCP stream, as tshark 4.0's single pass shows it.

Requests and responses pair first in, first out on a connection (RFC 9112 9.3 pipelining). Each
request gets `[HTTP request k/k]` and `[Prev request in frame]`; each response its number, the time
since its request, the previous request and response frames, the request's frame and URI. Like
tshark's single pass, nothing points forward (no http.response_in on requests).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from analyzer.model import Dissection, Field, Layer
from analyzer.state.tcp_fields import relative_time


@dataclass(slots=True)
class _Request:
    frame: int
    timestamp_ns: int
    uri: str
    previous: int  # the frame of the request before this one on the connection (0: none)


@dataclass(slots=True)
class _Conversation:
    requests: int = 0
    responses: int = 0
    waiting: deque[_Request] = field(default_factory=deque)
    last_request: int = 0
    last_response: int = 0


def _node(name: str, label: str, value: int | float | str, show: str) -> Field:
    return Field(name, label, value, show, -1, 0, generated=True)


class HttpTransactions:
    """The annotator (see analyzer.session.ANNOTATORS); runs after desegmentation."""

    def __init__(self) -> None:
        self._conversations: dict[int, _Conversation] = {}

    def annotate(self, dissection: Dissection) -> Dissection:
        http = [layer for layer in dissection.layers if layer.proto == "http"]
        if not http:
            return dissection
        stream = dissection.first("tcp.stream")
        if stream is None or not isinstance(stream.value, int):
            return dissection
        conv = self._conversations.setdefault(stream.value, _Conversation())
        for layer in http:
            if layer.find("http.request") is not None:
                self._request(dissection, layer, conv)
            elif layer.find("http.response") is not None:
                self._response(dissection, layer, conv)
        return dissection

    def _request(self, dissection: Dissection, layer: Layer, conv: _Conversation) -> None:
        conv.requests += 1
        number = conv.requests
        full = layer.find("http.request.full_uri")
        uri = str(full.value) if full is not None else ""
        items = [_node("http.request_number", f"[HTTP request {number}/{number}]", number, str(number))]
        if conv.last_request:
            prev = conv.last_request
            items.append(_node("http.prev_request_in", f"[Prev request in frame: {prev}]", prev, str(prev)))
        _insert_after(layer, "http.request", items)
        conv.waiting.append(
            _Request(dissection.frame.number, dissection.frame.timestamp_ns, uri, conv.last_request)
        )
        conv.last_request = dissection.frame.number

    def _response(self, dissection: Dissection, layer: Layer, conv: _Conversation) -> None:
        conv.responses += 1
        number = conv.responses
        total = max(conv.requests, number)
        items = [_node("http.response_number", f"[HTTP response {number}/{total}]", number, str(number))]
        request = conv.waiting.popleft() if conv.waiting else None
        if request is not None:
            text = relative_time(dissection.frame.timestamp_ns - request.timestamp_ns)
            item = _node("http.time", f"[Time since request: {text} seconds]", 0.0, text)
            item.value = (dissection.frame.timestamp_ns - request.timestamp_ns) / 1e9
            items.append(item)
        previous_request = request.previous if request is not None else 0
        if previous_request:
            items.append(
                _node(
                    "http.prev_request_in",
                    f"[Prev request in frame: {previous_request}]",
                    previous_request,
                    str(previous_request),
                )
            )
        if conv.last_response:
            prev = conv.last_response
            items.append(_node("http.prev_response_in", f"[Prev response in frame: {prev}]", prev, str(prev)))
        if request is not None:
            items.append(
                _node(
                    "http.request_in",
                    f"[Request in frame: {request.frame}]",
                    request.frame,
                    str(request.frame),
                )
            )
            if request.uri:
                items.append(
                    _node("http.response_for.uri", f"[Request URI: {request.uri}]", request.uri, request.uri)
                )
        _insert_after(layer, "http.response", items)
        conv.last_response = dissection.frame.number


def _insert_after(layer: Layer, name: str, items: list[Field]) -> None:
    for position, item in enumerate(layer.children):
        if item.name == name:
            layer.children[position + 1 : position + 1] = items
            return
    layer.children.extend(items)
