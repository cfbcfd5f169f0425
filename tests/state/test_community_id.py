"""Community ID v1 against values tshark 4.0's communityid dissector printed for our captures."""

from __future__ import annotations

from analyzer.state.community_id import community_id, icmp_ports


def test_icmp_echo_request_and_reply_share_an_id() -> None:
    request = community_id("10.77.0.1", "10.77.0.2", 1, *icmp_ports(1, 8, 0)[:2])
    reply = community_id("10.77.0.2", "10.77.0.1", 1, *icmp_ports(1, 0, 0)[:2])
    assert request == reply == "1:hKGnLfLKwFVNYs/4ymGhV18LE+w="  # tests/data/frag.pcap


def test_ipv6_echo_request() -> None:
    assert community_id("fd77::1", "fd77::2", 58, 128, 129) == "1:FON2pGMtuwYcVQfftE6qjDb3arM="


def test_fragment_without_ports() -> None:
    assert community_id("10.77.0.1", "10.77.0.2", 1, has_ports=False) == "1:oJ7EG/+M3B3MrUCz1EGgsZJaBts="


def test_tcp_direction_does_not_matter_but_seed_does() -> None:
    forward = community_id("10.0.0.1", "10.0.0.2", 6, 40000, 80)
    assert forward == community_id("10.0.0.2", "10.0.0.1", 6, 80, 40000)
    assert forward != community_id("10.0.0.1", "10.0.0.2", 6, 40000, 80, seed=1)
    assert forward.startswith("1:") and len(forward) == 30


def test_one_way_icmp_is_not_reordered() -> None:
    sport, dport, one_way = icmp_ports(1, 3, 3)
    assert (sport, dport, one_way) == (3, 3, True)
    there = community_id("10.0.0.2", "10.0.0.1", 1, sport, dport, one_way=one_way)
    back = community_id("10.0.0.1", "10.0.0.2", 1, sport, dport, one_way=one_way)
    assert there != back
