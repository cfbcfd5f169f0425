"""Protocol and Info columns of application messages (DNS, DHCP, HTTP) for the fast summary paths.

Both summary paths (analyzer/summary.py and analyzer/summary_fast.py) ask here first when a
UDP or TCP payload uses a port an application dissector is bound to, so the two cannot
disagree. Every function returns None when the payload is not a message it can describe, and
never raises.
"""

from __future__ import annotations

# The DNS, DHCP and HTTP summarisers (and the dissector name tables they share) are imported on
# the first packet that uses their ports: importing them loads the dissectors package, ~70 ms
# that a capture without such packets, and the TUI's first screen, need not pay.

DNS_UDP_PORTS = (53, 5353, 5355)
DHCP_PORTS = (67, 68)
# Ports worth a look at all: a set test keeps the common case (no application) cheap.
UDP_APP_PORTS = frozenset((*DNS_UDP_PORTS, *DHCP_PORTS))
HTTP_PORTS = frozenset((80, 8080, 8000, 3128))
TCP_APP_PORTS = frozenset((53, *HTTP_PORTS))


def udp_app(sport: int, dport: int, data: bytes, at: int, end: int) -> tuple[str, str] | None:
    """(Protocol, Info) of the UDP payload data[at:end], trying the lower port first as tshark."""
    for port in sorted((sport, dport)):
        if port in DNS_UDP_PORTS:
            from analyzer.summary_dns import dns_info, protocol_name

            info = dns_info(data, at, end, mdns=port == 5353)
            if info is not None:
                return protocol_name(port), info
        elif port in DHCP_PORTS:
            from analyzer.summary_dhcp import dhcp_info

            info = dhcp_info(data, at, end)
            if info is not None:
                return ("DHCP" if info.startswith("DHCP") else "BOOTP"), info
    return None


def may_start_message(sport: int, dport: int, first_byte: int) -> bool:
    """False when a TCP payload starting with this byte (on an application port) needs no look.

    Every payload does: DNS over TCP can start with any byte, and on an HTTP port whatever does
    not start a message is a "Continuation" (tshark hands HTTP every new segment). Kept as the
    one place both summary paths ask, should an application with a cheaper test be added.
    """
    return True


def tcp_app(
    sport: int, dport: int, data: bytes, at: int, end: int, http_seen: bool = False
) -> tuple[str, str] | None:
    """(Protocol, Info) of a TCP segment's payload data[at:end], when it holds whole messages,
    or when it continues one on a connection where HTTP was seen (`http_seen`)."""
    if at >= end:
        return None
    if 53 in (sport, dport):
        from analyzer.summary_dns import dns_tcp_info

        info = dns_tcp_info(data, at, end)
        if info is not None:
            return "DNS", info
    if sport in HTTP_PORTS or dport in HTTP_PORTS:
        # Request methods and "HTTP/" all start with an upper-case letter: this one-byte test
        # spares bulk-data segments the copy and parse. Bytes that start no message are the
        # rest of an earlier one, which tshark (without reassembly) calls a Continuation, once
        # the connection has carried HTTP (before that, the HTTP dissector declines them).
        found = None
        if 0x41 <= data[at] <= 0x5A:
            from analyzer.summary_http import http_summary

            found = http_summary(data[at:end])
        if found is not None:
            return found
        if http_seen:
            return "HTTP", "Continuation"
    return None
