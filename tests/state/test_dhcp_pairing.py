"""DHCP transactions: DORA, renew, release, NAK and xid reuse (table-driven), and dhcp.pcap end to end."""

from __future__ import annotations

from pathlib import Path

from analyzer.context import Preferences
from analyzer.export.fields import field_text
from analyzer.session import iter_dissections
from analyzer.state.dhcp_pairing import (
    ACK,
    DECLINE,
    DISCOVER,
    INFORM,
    NAK,
    OFFER,
    RELEASE,
    REQUEST,
    DhcpMessage,
    DhcpTracker,
)

DATA = Path(__file__).resolve().parent.parent / "data"
MS = 1_000_000
MAC, OTHER_MAC = "02:77:00:00:00:0a", "02:77:00:00:00:0c"
SERVER = "10.77.0.2"


def msg(
    frame: int, ms: int, msg_type: int, xid: int = 0x1234, mac: str = MAC, **facts: str | int
) -> DhcpMessage:
    return DhcpMessage(frame, ms * MS, xid, msg_type, mac, **facts)  # type: ignore[arg-type]


# message -> (transaction, step, kind, previous frame, outcome)
SCENARIO = [
    (msg(1, 0, DISCOVER, host_name="labclient"), (0, 1, "DORA", 0, None)),
    (msg(2, 1, OFFER, yiaddr="10.77.0.123", server_id=SERVER, lease_time=120), (0, 2, "DORA", 1, None)),
    (msg(3, 2, REQUEST, requested_addr="10.77.0.123", server_id=SERVER), (0, 3, "DORA", 2, None)),
    (msg(4, 3, DISCOVER, mac=OTHER_MAC), (1, 1, "DORA", 0, None)),  # another client, same xid
    (msg(5, 4, ACK, yiaddr="10.77.0.123", server_id=SERVER, lease_time=120), (0, 4, "DORA", 3, "ACK")),
    (msg(6, 6000, REQUEST, ciaddr="10.77.0.123"), (2, 1, "renew", 0, None)),  # same xid after the ACK
    (msg(7, 6002, NAK, server_id=SERVER), (2, 2, "renew", 6, "NAK")),
    (msg(8, 7000, RELEASE, xid=0x99, ciaddr="10.77.0.123"), (3, 1, "RELEASE", 0, "RELEASE")),
    (msg(9, 8000, INFORM, xid=0x77, ciaddr="10.77.0.123"), (4, 1, "INFORM", 0, None)),
    (msg(10, 8001, ACK, xid=0x77, server_id=SERVER), (4, 2, "INFORM", 9, "ACK")),
    (msg(11, 9000, DECLINE, xid=0x55), (5, 1, "DECLINE", 0, "DECLINE")),
    (msg(12, 9001, OFFER, mac=OTHER_MAC), (1, 2, "DORA", 4, None)),  # still within 30 s
    (msg(13, 45000, OFFER, mac=OTHER_MAC), (6, 1, "DORA", 0, None)),  # 45 s later: a new one
]


def test_steps_and_transactions() -> None:
    tracker = DhcpTracker()
    for message, expected in SCENARIO:
        step = tracker.feed(message)
        assert (step.transaction, step.number, step.kind, step.prev_frame, step.outcome) == expected, message
    dora = tracker.transactions()[0]
    assert dora.msg_types == ["DISCOVER", "OFFER", "REQUEST", "ACK"]
    assert dora.frames == [1, 2, 3, 5]
    assert (dora.host_name, dora.requested_addr, dora.offered_addr, dora.assigned_addr) == (
        "labclient",
        "10.77.0.123",
        "10.77.0.123",
        "10.77.0.123",
    )
    assert (dora.server_addr, dora.lease_time, dora.outcome) == (SERVER, 120, "ACK")
    assert dora.step_durations_ns == [MS, MS, 2 * MS] and dora.duration_ns == 4 * MS
    renew = tracker.transactions()[2]
    assert (renew.client_addr, renew.assigned_addr, renew.outcome) == ("10.77.0.123", None, "NAK")


def test_rediscover_restarts_the_transaction() -> None:
    tracker = DhcpTracker()
    tracker.feed(msg(1, 0, DISCOVER))
    assert tracker.feed(msg(2, 1000, DISCOVER)).transaction == 1  # a client that starts over


def test_dhcp_pcap_end_to_end() -> None:
    """dhcp.pcap: DORA (frames 1-4), a real renewal with the same xid (7-8), then a RELEASE (9)."""
    rows = {
        d.frame.number: (
            field_text(d, "layerscope.dhcp.transaction"),
            field_text(d, "layerscope.dhcp.step"),
            field_text(d, "layerscope.dhcp.prev_frame"),
            field_text(d, "layerscope.dhcp.outcome"),
        )
        for d in iter_dissections(DATA / "dhcp.pcap", prefs=Preferences(resolve_names=False), strict=True)
    }
    assert rows == {
        1: ("0", "1", "", ""),
        2: ("0", "2", "1", ""),
        3: ("0", "3", "2", ""),
        4: ("0", "4", "3", "ACK"),
        5: ("", "", "", ""),
        6: ("", "", "", ""),
        7: ("1", "1", "", ""),
        8: ("1", "2", "7", "ACK"),
        9: ("2", "1", "", "RELEASE"),
    }
