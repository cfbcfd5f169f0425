"""`layerscope capture` between two namespaces with real peers: DHCP and DNS from dnsmasq, an HTTP
server, dhclient (with our own -sf script: it must never touch /etc/resolv.conf), dig, curl and a
refused connection. The written file is checked with our dissectors and read back by tshark and
tcpdump, which must count the same packets."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from analyzer.model import Dissection
from analyzer.session import iter_dissections
from captures.pcapfile import open_capture

from .conftest import SERVER_IP, NetnsPair, need_tools, start_capture, stop_capture

DHCP_SCRIPT = """#!/bin/sh
# dhclient -sf: record the lease, configure nothing (the namespace keeps its static address).
echo "$reason ${{new_ip_address:-}}" >> {log}
exit 0
"""


@dataclass
class Scenario:
    path: Path
    status: int
    stderr: str
    dissections: list[Dissection]
    lease: str
    iface: str


def _wait_for(check, what: str, timeout: float = 15) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _start_servers(pair: NetnsPair) -> None:
    tmp = pair.tmp
    (tmp / "www").mkdir(exist_ok=True)
    (tmp / "www" / "hello.txt").write_text("hello from the server namespace\n")
    pair.spawn(
        pair.server,
        "dnsmasq",
        "--keep-in-foreground",
        "--no-resolv",
        "--no-hosts",
        "--conf-file=/dev/null",
        f"--pid-file={tmp}/dnsmasq.pid",
        f"--dhcp-leasefile={tmp}/dnsmasq.leases",
        f"--interface={pair.server_if}",
        "--bind-interfaces",
        "--except-interface=lo",
        "--dhcp-range=10.66.0.100,10.66.0.150,255.255.255.0,1h",
        "--no-ping",
        "--address=/www.example.test/10.66.0.2",
        "--user=root",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pair.spawn(
        pair.server,
        sys.executable,
        "-m",
        "http.server",
        "8000",
        "--bind",
        SERVER_IP,
        "--directory",
        str(tmp / "www"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def http_ready() -> bool:
        url = f"http://{SERVER_IP}:8000/hello.txt"
        return pair.run(pair.client, "curl", "-s", "-o", "/dev/null", url, check=False).returncode == 0

    def dns_ready() -> bool:
        probe = pair.run(
            pair.client,
            "dig",
            f"@{SERVER_IP}",
            "+short",
            "+time=1",
            "+tries=1",
            "ready.example.test",
            check=False,
        )
        return probe.returncode == 0

    _wait_for(http_ready, "the HTTP server")
    _wait_for(dns_ready, "dnsmasq")


def _run_dhclient(pair: NetnsPair) -> str:
    tmp = pair.tmp
    log = tmp / "dhclient.log"
    script = tmp / "dhclient-script.sh"
    script.write_text(DHCP_SCRIPT.format(log=log))
    script.chmod(0o755)
    client = pair.spawn(
        pair.client,
        "dhclient",
        "-4",
        "-d",
        "-1",
        "-sf",
        str(script),
        "-pf",
        str(tmp / "dhclient.pid"),
        "-lf",
        str(tmp / "dhclient.leases"),
        pair.client_if,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(lambda: log.exists() and "BOUND" in log.read_text(), "a DHCP lease", timeout=20)
    client.terminate()
    client.wait(10)
    return log.read_text()


@pytest.fixture(scope="module")
def scenario(netns: NetnsPair) -> Scenario:
    need_tools("dnsmasq", "dhclient", "dig", "curl", "tshark", "tcpdump")
    _start_servers(netns)
    path = netns.tmp / "peers.pcapng"
    capture = start_capture(netns, netns.client, "-i", netns.client_if, "-w", str(path))
    lease = _run_dhclient(netns)
    netns.run(netns.client, "dig", f"@{SERVER_IP}", "+time=2", "+tries=1", "www.example.test", "A")
    netns.run(netns.client, "curl", "-s", "-o", "/dev/null", f"http://{SERVER_IP}:8000/hello.txt")
    refused = netns.run(netns.client, "curl", "-s", f"http://{SERVER_IP}:9/", check=False)
    assert refused.returncode == 7  # "Failed to connect": the RST came back
    time.sleep(0.3)  # let the last replies reach the socket
    status, stderr = stop_capture(capture, signal.SIGINT)
    return Scenario(path, status, stderr, list(iter_dissections(path)), lease, netns.client_if)


def _shows(dissections: list[Dissection], name: str) -> list[str]:
    return [field.show for dissection in dissections for field in dissection.values(name)]


def _captured(stderr: str) -> int:
    found = re.search(r"^(\d+) packets? captured$", stderr, re.M)
    assert found, stderr
    return int(found.group(1))


def test_sigint_stops_cleanly_and_reports_counts(scenario: Scenario) -> None:
    assert scenario.status == 0, scenario.stderr
    assert _captured(scenario.stderr) == len(scenario.dissections) > 10
    assert re.search(r"^\d+ packets? dropped by the kernel", scenario.stderr, re.M)


def test_tshark_and_tcpdump_read_the_same_count(scenario: Scenario) -> None:
    shark = subprocess.run(["tshark", "-r", str(scenario.path)], capture_output=True, text=True, check=True)
    dump = subprocess.run(["tcpdump", "-nr", str(scenario.path)], capture_output=True, text=True, check=True)
    count = len(scenario.dissections)
    assert len(shark.stdout.splitlines()) == count
    assert len(dump.stdout.splitlines()) == count
    with open_capture(scenario.path) as reader:
        frames = list(reader)
        assert reader.warnings == []
    assert {frame.interface_name for frame in frames} == {scenario.iface}
    assert all(frame.linktype == 1 and frame.ts_digits == 9 for frame in frames)
    # Kernel timestamps of packets handled on different CPUs may be a little out of order.
    stamps = [frame.timestamp_ns for frame in frames]
    assert abs(max(stamps) / 1e9 - time.time()) < 600 and max(stamps) - min(stamps) < 600 * 10**9


def test_dhcp_exchange(scenario: Scenario) -> None:
    assert re.search(r"^BOUND 10\.66\.0\.1\d\d$", scenario.lease, re.M), scenario.lease
    # DHCP message types: Discover, Offer, Request, ACK, in that order.
    assert _shows(scenario.dissections, "dhcp.option.dhcp")[:4] == ["1", "2", "3", "5"]


def test_dns_query_and_answer(scenario: Scenario) -> None:
    answers = [d for d in scenario.dissections if d.values("dns.a")]
    assert any(d.first("dns.qry.name").show == "www.example.test" for d in answers)  # type: ignore[union-attr]
    assert "10.66.0.2" in _shows(answers, "dns.a")


def _tcp_to(dissections: list[Dissection], port: str) -> list[str]:
    """tcp.flags of the segments of the connections to `port`, both directions, in order."""
    return [
        d.first("tcp.flags").show  # type: ignore[union-attr]
        for d in dissections
        if port in (_shows([d], "tcp.dstport") + _shows([d], "tcp.srcport"))
    ]


def test_http_handshake_and_response(scenario: Scenario) -> None:
    flags = _tcp_to(scenario.dissections, "8000")
    assert flags[:3] == ["0x0002", "0x0012", "0x0010"]  # SYN, SYN-ACK, ACK
    assert "200" in _shows(scenario.dissections, "http.response.code")
    assert "GET" in _shows(scenario.dissections, "http.request.method")


def test_refused_connection(scenario: Scenario) -> None:
    assert _tcp_to(scenario.dissections, "9")[:2] == ["0x0002", "0x0014"]  # SYN, then RST-ACK


def test_capture_filter_keeps_only_matching_packets(netns: NetnsPair, scenario: Scenario) -> None:
    # `scenario` started dnsmasq in the server namespace.
    path = netns.tmp / "filtered.pcap"
    capture = start_capture(
        netns, netns.client, "-i", netns.client_if, "-f", "udp port 53", "-F", "pcap", "-w", str(path)
    )
    netns.run(netns.client, "ping", "-c", "2", "-i", "0.2", SERVER_IP)
    netns.run(netns.client, "dig", f"@{SERVER_IP}", "+time=2", "+tries=1", "filter.example.test", check=False)
    time.sleep(0.3)
    status, stderr = stop_capture(capture, signal.SIGTERM)
    assert status == 0, stderr
    dissections = list(iter_dissections(path))
    assert _captured(stderr) == len(dissections) >= 2
    assert all("dns" in d.protocols for d in dissections)
    with open_capture(path) as reader:
        assert reader.info.format == "pcap"
