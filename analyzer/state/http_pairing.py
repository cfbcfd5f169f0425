"""HttpTransactions: HTTP request/response pairing per TCP stream, as tshark 4.0's single pass shows it.

tshark 4.0 keeps one list of exchanges per connection: every request opens a new exchange, and a
response joins the newest exchange unless that one already has a final (>= 200) response, in
which case it opens an exchange of its own (with no request). So pipelined requests are not
paired first in, first out: the first response goes to the last request sent. Each message shows
its exchange number, the previous exchange's request and response frames, and a response the
time since its request and that request's frame; http.response_for.uri is the connection's last
request URI. Like tshark's single pass, nothing points forward (no http.response_in on requests).
"""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.model import Dissection, Field, Layer
from analyzer.state.tcp_fields import relative_time


@dataclass(slots=True)
class _Exchange:
    number: int
    prev_request: int  # the previous exchange's request frame (0: none)
    prev_response: int  # the previous exchange's response frame (0: none)
    request_frame: int = 0
    timestamp_ns: int = 0
    response_frame: int = 0
    status: int = 0


@dataclass(slots=True)
class _Conversation:
    count: int = 0
    tail: _Exchange | None = None
    last_uri: str = ""

    def open(self) -> _Exchange:
        tail = self.tail
        self.count += 1
        self.tail = _Exchange(
            self.count,
            tail.request_frame if tail is not None else 0,
            tail.response_frame if tail is not None else 0,
        )
        return self.tail


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
        exchange = conv.open()
        exchange.request_frame = dissection.frame.number
        exchange.timestamp_ns = dissection.frame.timestamp_ns
        number = exchange.number
        full = layer.find("http.request.full_uri")
        if full is not None:
            conv.last_uri = str(full.value)
        items = [_node("http.request_number", f"[HTTP request {number}/{conv.count}]", number, str(number))]
        if exchange.prev_request:
            prev = exchange.prev_request
            items.append(_node("http.prev_request_in", f"[Prev request in frame: {prev}]", prev, str(prev)))
        _insert_after(layer, "http.request", items)

    def _response(self, dissection: Dissection, layer: Layer, conv: _Conversation) -> None:
        exchange = conv.tail
        if exchange is None or (exchange.response_frame and exchange.status >= 200):
            exchange = conv.open()
        exchange.response_frame = dissection.frame.number
        code = layer.find("http.response.code")
        exchange.status = code.value if code is not None and isinstance(code.value, int) else 0
        number = exchange.number
        items = [_node("http.response_number", f"[HTTP response {number}/{conv.count}]", number, str(number))]
        if exchange.request_frame:
            text = relative_time(dissection.frame.timestamp_ns - exchange.timestamp_ns)
            item = _node("http.time", f"[Time since request: {text} seconds]", 0.0, text)
            item.value = (dissection.frame.timestamp_ns - exchange.timestamp_ns) / 1e9
            items.append(item)
        if exchange.prev_request:
            prev = exchange.prev_request
            items.append(_node("http.prev_request_in", f"[Prev request in frame: {prev}]", prev, str(prev)))
        if exchange.prev_response:
            prev = exchange.prev_response
            items.append(_node("http.prev_response_in", f"[Prev response in frame: {prev}]", prev, str(prev)))
        if exchange.request_frame:
            frame = exchange.request_frame
            items.append(_node("http.request_in", f"[Request in frame: {frame}]", frame, str(frame)))
        if conv.last_uri:
            uri = conv.last_uri
            items.append(_node("http.response_for.uri", f"[Request URI: {uri}]", uri, uri))
        _insert_after(layer, "http.response", items)


def _insert_after(layer: Layer, name: str, items: list[Field]) -> None:
    for position, item in enumerate(layer.children):
        if item.name == name:
            layer.children[position + 1 : position + 1] = items
            return
    layer.children.extend(items)
