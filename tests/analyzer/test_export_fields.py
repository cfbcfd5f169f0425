"""`-T fields` with tshark's -E options: parsing, cells, and the CLI against tshark on a real capture."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.export.fields import (
    FieldsOptionError,
    FieldsOptions,
    fields_header,
    fields_row,
    parse_fields_option,
)
from analyzer.model import Dissection, Field, Layer
from captures.frame import Frame

DATA = Path(__file__).resolve().parents[1] / "data"


def parse(*specs: str) -> FieldsOptions:
    options = FieldsOptions()
    for spec in specs:
        options = parse_fields_option(spec, options)
    return options


def sample() -> Dissection:
    layer = Layer("ip", "IPv4", 0, 20)
    for offset, address in ((12, "10.0.0.1"), (16, "10.0.0.2\t\x1b")):
        layer.add(Field("ip.addr", f"Address: {address}", address, address, offset, 4))
    layer.add(Field("ip.ttl", "Time to Live: 64", 64, "64", 8, 1))
    return Dissection(Frame(1, 0, bytes(20), 20, 228), [layer])


def test_parsing_follows_tshark() -> None:
    assert parse() == FieldsOptions(False, "\t", "a", ",", "")
    assert parse("header=y", "separator=/s", "aggregator=;;", "quote=d", "occurrence=l") == FieldsOptions(
        True, " ", "l", ";", '"'
    )
    assert parse("separator=/t", "aggregator=/s", "quote=s", "occurrence=2").separator == "\t"
    assert parse("quote=s").quote == "'" and parse("quote=d", "quote=n").quote == ""
    for bad in ("header=maybe", "separator=", "quote=x", "occurrence=0", "occurrence=z", "bogus=y", "header"):
        with pytest.raises(FieldsOptionError):
            parse(bad)


def test_rows_escape_quote_and_aggregate() -> None:
    names = ["ip.addr", "ip.ttl", "tcp.port"]
    assert fields_row(sample(), names, parse()) == "10.0.0.1,10.0.0.2\\t\\x1b\t64\t"
    assert fields_row(sample(), names, parse("quote=d", "separator=,")) == '"10.0.0.1,10.0.0.2\\t\\x1b","64",'
    assert fields_row(sample(), names, parse("occurrence=f", "separator=/s")) == "10.0.0.1 64 "
    assert fields_row(sample(), names, parse("occurrence=2", "quote=s")) == "'10.0.0.2\\t\\x1b'\t\t"
    assert fields_row(sample(), names, parse("occurrence=3")) == "\t\t"
    assert fields_header(names, parse("quote=d", "separator=;")) == "ip.addr;ip.ttl;tcp.port"


FIELDS = ["frame.number", "frame.len", "ip.src", "ip.addr", "ip.ttl", "ip.flags.df", "ip.id", "icmp.type"]
OPTION_SETS = [
    [],
    ["header=y", "quote=d"],
    ["occurrence=l", "separator=/s"],
    ["occurrence=f", "aggregator=/s", "quote=s"],
    ["separator=;", "aggregator=|", "header=y"],
]


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark (the oracle) is not installed")
@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda opts: " ".join(opts) or "defaults")
def test_cli_fields_equal_tshark(options: list[str]) -> None:
    # rawip228.pcap: raw IPv4 with ICMP errors quoting a second IP header (repeated fields).
    capture = DATA / "rawip228.pcap"
    args = [arg for spec in options for arg in ("-E", spec)] + [
        arg for name in FIELDS for arg in ("-e", name)
    ]
    ours = subprocess.run(
        [sys.executable, "-m", "analyzer", "read", "-n", "-r", str(capture), "-T", "fields", *args],
        capture_output=True,
        check=True,
    )
    theirs = subprocess.run(["tshark", "-n", "-r", str(capture), "-T", "fields", *args], capture_output=True)
    assert theirs.stdout.count(b"\n") > 10
    assert ours.stdout.decode() == theirs.stdout.decode()
