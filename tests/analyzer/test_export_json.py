"""JSON and JSON Lines export: the documented schema, typed values, safe text."""

from __future__ import annotations

import io
import json
from typing import Any

from analyzer.export.jsonout import dumps, packet_object, write_json, write_jsonl
from analyzer.model import Dissection, Field, Layer, Severity
from captures.frame import Frame

RAW = bytes.fromhex("0a0000010a000002")


def sample(number: int = 1) -> Dissection:
    frame = Frame(number, 1_700_000_000_123_456_789, RAW, 60, 228)
    ip = Layer("ip", "Internet Protocol Version 4", 0, 8, short_name="IPv4")
    ip.add(Field("ip.src", "Source Address: 10.0.0.1", "10.0.0.1", "10.0.0.1", 0, 4))
    ip.add(
        Field("ip.addr", "Source or Destination Address: 10.0.0.1", "10.0.0.1", "10.0.0.1", 0, 4, hidden=True)
    )
    ip.add(
        Field("ip.addr", "Source or Destination Address: 10.0.0.2", "10.0.0.2", "10.0.0.2", 4, 4, hidden=True)
    )
    flags = ip.add(Field("ip.flags", "Flags: 0x2", 2, "0x02", 6, 1, mask=0xE0))
    flags.add(Field("ip.flags.df", ".1.. .... = Don't fragment: Set", True, "1", 6, 1, mask=0x40))
    ip.add(Field("ip.opt", "Options: 0a00", b"\x0a\x00", "0a00", 0, 2))
    ip.add(Field("", "Text \x1b[31m\x85\x7f", None, "", -1, 0))
    ip.add(Field("ip.len", "[Ratio: nan]", float("nan"), "nan", -1, 0, generated=True))
    ip.problem("ip.bad", "Bad thing", Severity.WARNING, 0, 1, group="Protocol")
    return Dissection(frame, [ip])


def test_packet_object_schema() -> None:
    obj: Any = packet_object(sample())
    assert obj["frame"] == 1
    assert obj["timestamp_ns"] == 1_700_000_000_123_456_789
    assert obj["timestamp"] == 1_700_000_000.1234568
    assert (obj["wire_length"], obj["captured_length"], obj["linktype"]) == (60, 8, 228)
    layer = obj["layers"][0]
    assert layer["proto"] == "ip" and layer["offset"] == 0 and layer["length"] == 8 and layer["depth"] == 0
    assert layer["problems"] == [
        {
            "code": "ip.bad",
            "severity": "Warning",
            "group": "Protocol",
            "message": "Bad thing",
            "offset": 0,
            "length": 1,
        }
    ]
    src, addr, _, flags, opt, text, ratio = layer["fields"]
    assert src == {
        "name": "ip.src", "label": "Source Address: 10.0.0.1", "value": "10.0.0.1", "show": "10.0.0.1",
        "offset": 0, "length": 4, "children": [],
    }  # fmt: skip
    assert addr["hidden"] is True
    assert flags["mask"] == 0xE0 and flags["value"] == 2 and flags["children"][0]["value"] is True
    assert opt["value"] == "0a00"
    assert text["name"] == "" and text["value"] is None
    assert ratio["generated"] is True and ratio["value"] == "nan"
    assert obj["fields"] == {
        "ip.src": "10.0.0.1",
        "ip.addr": ["10.0.0.1", "10.0.0.2"],
        "ip.flags": 2,
        "ip.flags.df": True,
        "ip.opt": "0a00",
        "ip.len": "nan",
    }


def test_only_selected_fields() -> None:
    obj: Any = packet_object(sample(), only=["ip.addr", "tcp.port"])
    assert "layers" not in obj
    assert obj["fields"] == {"ip.addr": ["10.0.0.1", "10.0.0.2"], "tcp.port": None}


def test_text_is_valid_json_with_every_control_escaped() -> None:
    text = dumps(packet_object(sample()))
    assert "\n" not in text and "\x1b" not in text and "\x85" not in text and "\x7f" not in text
    assert json.loads(text)["layers"][0]["fields"][5]["label"] == "Text \x1b[31m\x85\x7f"
    assert json.loads(dumps("\udcff")) == "\udcff"  # lone surrogates survive as escapes


def test_array_and_lines() -> None:
    out = io.StringIO()
    assert write_json([sample(1), sample(2)], out) == 2
    assert [item["frame"] for item in json.loads(out.getvalue())] == [1, 2]
    out = io.StringIO()
    write_json([], out)
    assert json.loads(out.getvalue()) == []
    out = io.StringIO()
    assert write_jsonl([sample(1), sample(2)], out) == 2
    assert [json.loads(line)["frame"] for line in out.getvalue().splitlines()] == [1, 2]
