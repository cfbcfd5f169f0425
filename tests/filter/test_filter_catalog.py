"""The field catalog cannot drift: every name our dissectors produce on the test captures is in it.

When this fails after a dissector change, regenerate with `python tools/make_field_catalog.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.filter import compile_filter
from analyzer.filter.catalog import CATALOG
from analyzer.session import iter_dissections

DATA = Path(__file__).resolve().parents[1] / "data"
CAPTURES = sorted(
    p for p in DATA.iterdir() if p.name.endswith((".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz"))
)


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_every_produced_name_is_in_the_catalog(capture: Path) -> None:
    missing: set[str] = set()
    for dissection in iter_dissections(capture, strict=True):
        for layer in dissection.layers:
            if layer.proto not in CATALOG:
                missing.add(layer.proto)
            missing.update(item.name for item in layer.walk() if item.name and item.name not in CATALOG)
    assert not missing, (
        f"not in analyzer/filter/catalog.py (run tools/make_field_catalog.py): {sorted(missing)}"
    )


def test_catalog_types_come_from_wireshark() -> None:
    assert CATALOG["ip.src"] == ("FT_IPv4", "", "ip")
    assert CATALOG["tcp.flags"] == ("FT_UINT16", "BASE_HEX", "tcp")
    assert CATALOG["tcp.flags.syn"][0] == "FT_BOOLEAN"
    assert CATALOG["tcp"][0] == "FT_PROTOCOL"


@pytest.mark.parametrize("text", ['dns.qry.name contains "example"', "http.request", "dhcp.option.dhcp == 1"])
def test_roadmap_names_are_valid_but_absent_until_dissected(text: str) -> None:
    # Compiled against a registry without DNS/HTTP/DHCP, such a filter is constant False.
    compiled = compile_filter(text, dissected={"frame", "eth", "ip", "tcp", "udp"})
    assert compiled.constant is False
    assert compile_filter(f"!({text})", dissected={"frame", "eth", "ip"}).constant is True
