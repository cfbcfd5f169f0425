"""Dissections as JSON (`-T json`: one array) and JSON Lines (`-T jsonl`: one object a line).

Schema (also in docs/json-schema.md), one object per packet:

    {
      "frame": 1,                          # frame number, 1-based
      "timestamp": 1795432664.822596,      # epoch seconds (float, convenient)
      "timestamp_ns": 1795432664822596000, # epoch nanoseconds (integer, exact)
      "wire_length": 98, "captured_length": 98, "linktype": 1,
      "protocols": "eth:ethertype:ip:icmp:data",
      "layers": [
        {"proto": "ip", "label": "Internet Protocol Version 4, Src: ...", "offset": 14,
         "length": 20, "depth": 0,
         "problems": [{"code": "ip.bad_hdr_len", "severity": "Error", "group": "Protocol",
                       "message": "...", "offset": 14, "length": 1}],
         "fields": [{"name": "ip.version", "label": "0100 .... = Version: 4", "value": 4,
                     "show": "4", "offset": 14, "length": 1, "mask": 240,
                     "generated": true, "hidden": true,   # only present when true / non-zero
                     "children": [...]}]}
      ],
      "fields": {"ip.src": "10.77.0.1", "eth.addr": ["02:77:00:00:00:0b", "02:77:00:00:00:0a"]}
    }

`value` keeps the decoded type: numbers as numbers, booleans as booleans, addresses and text as
strings, byte strings as lowercase hex strings, no value as null; non-finite floats as strings.
`show` is exactly what `tshark -T fields` prints. Text-only tree lines have `"name": ""` and
are left out of the flat `fields` map, where a name seen once maps to its value and a name seen
more than once to the list of its values in tree order. With `-e NAME` only the flat map is
written, restricted to those names (every listed name present, null when absent).
Output is UTF-8; control characters (C0, DEL, C1) are always \\u-escaped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from typing import TextIO

from analyzer.model import Dissection, Field, Layer, Problem, Value

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]

# json.dumps escapes C0 controls itself; with ensure_ascii off it leaves DEL and C1 raw.
_EXTRA_ESCAPES = {code: f"\\u{code:04x}" for code in [0x7F, *range(0x80, 0xA0)]}


def json_value(value: Value) -> JsonValue:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def field_object(item: Field) -> dict[str, JsonValue]:
    found: dict[str, JsonValue] = {
        "name": item.name,
        "label": item.label,
        "value": json_value(item.value),
        "show": item.show,
        "offset": item.offset,
        "length": item.length,
    }
    if item.mask:
        found["mask"] = item.mask
    if item.generated:
        found["generated"] = True
    if item.hidden:
        found["hidden"] = True
    found["children"] = [field_object(child) for child in item.children]
    return found


def problem_object(problem: Problem) -> dict[str, JsonValue]:
    return {
        "code": problem.code,
        "severity": problem.severity.label,
        "group": problem.group,
        "message": problem.message,
        "offset": problem.offset,
        "length": problem.length,
    }


def layer_object(layer: Layer) -> dict[str, JsonValue]:
    return {
        "proto": layer.proto,
        "label": layer.label,
        "offset": layer.offset,
        "length": layer.length,
        "depth": layer.depth,
        "problems": [problem_object(problem) for problem in layer.problems],
        "fields": [field_object(child) for child in layer.children],
    }


def flat_fields(dissection: Dissection, only: Sequence[str] | None = None) -> dict[str, JsonValue]:
    """{name: value} for names seen once, {name: [values]} for repeated names, in tree order."""
    wanted = set(only) if only is not None else None
    seen: dict[str, list[JsonValue]] = {name: [] for name in only} if only is not None else {}
    for item in dissection.walk():
        if not item.name or (wanted is not None and item.name not in wanted):
            continue
        seen.setdefault(item.name, []).append(json_value(item.value))
    return {name: (values[0] if len(values) == 1 else values or None) for name, values in seen.items()}


def packet_object(dissection: Dissection, only: Sequence[str] | None = None) -> dict[str, JsonValue]:
    frame = dissection.frame
    found: dict[str, JsonValue] = {
        "frame": frame.number,
        "timestamp": frame.timestamp_ns / 1e9,
        "timestamp_ns": frame.timestamp_ns,
        "wire_length": frame.wire_len,
        "captured_length": frame.cap_len,
        "linktype": frame.linktype,
        "protocols": dissection.protocols,
    }
    if only is None:
        found["layers"] = [layer_object(layer) for layer in dissection.layers]
    found["fields"] = flat_fields(dissection, only)
    return found


def dumps(obj: JsonValue) -> str:
    """One line of JSON, readable UTF-8, with every control character escaped."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = text.translate(_EXTRA_ESCAPES)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (undecodable bytes kept by a dissector) become \udcXX escapes,
        # which are valid inside JSON strings, the only place they can occur.
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def write_jsonl(dissections: Iterable[Dissection], out: TextIO, only: Sequence[str] | None = None) -> int:
    """One object a line; returns how many packets were written."""
    count = 0
    for dissection in dissections:
        out.write(dumps(packet_object(dissection, only)) + "\n")
        count += 1
    return count


def write_json(dissections: Iterable[Dissection], out: TextIO, only: Sequence[str] | None = None) -> int:
    """A JSON array, one packet object a line, written as the packets come."""
    count = 0
    for dissection in dissections:
        out.write("[\n" if count == 0 else ",\n")
        out.write(dumps(packet_object(dissection, only)))
        count += 1
    out.write("\n]\n" if count else "[]\n")
    return count
