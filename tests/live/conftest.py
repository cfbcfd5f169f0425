"""Live-capture fixtures: two network namespaces joined by a veth pair, peers inside, cleanup always.

The client namespace holds 10.66.0.1/24, the server namespace 10.66.0.2/24; nothing is routed
anywhere else, so no test traffic leaves them. Without root or `ip netns`, the tests that need
them SKIP with the reason; with CI=true in the environment such a skip FAILS instead (CI runs as
root: a skipped live suite there means the feature went untested).
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CLIENT_IP = "10.66.0.1"
SERVER_IP = "10.66.0.2"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "load: bounded packet-rate test over a veth pair (runs in CI)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and os.environ.get("CI") == "true":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"live test skipped under CI=true, which must run it: {reason}"


def _netns_problem() -> str | None:
    if os.geteuid() != 0:
        return "live capture tests need root (network namespaces and packet sockets)"
    if shutil.which("ip") is None:
        return "live capture tests need iproute2's `ip`"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"`ip netns` is unavailable: {probe.stderr.strip()}"
    return None


def need_tools(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        pytest.skip(f"live capture tests need {', '.join(missing)} installed")


@dataclass
class NetnsPair:
    """The two namespaces, their veth ends, a scratch directory and the processes started in them."""

    client: str
    server: str
    client_if: str
    server_if: str
    tmp: Path
    processes: list[subprocess.Popen[Any]] = field(default_factory=list)

    def command(self, namespace: str, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", namespace, *argv]

    def run(
        self, namespace: str, *argv: str, timeout: float = 20, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(namespace, *argv), capture_output=True, text=True, timeout=timeout, check=check
        )

    def spawn(self, namespace: str, *argv: str, **options: Any) -> subprocess.Popen[Any]:
        process = subprocess.Popen(self.command(namespace, *argv), **options)
        self.processes.append(process)
        return process

    def layerscope(self, namespace: str, *argv: str, **options: Any) -> subprocess.Popen[Any]:
        return self.spawn(namespace, sys.executable, "-m", "analyzer", *argv, **options)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(10)
        self.processes.clear()


def _sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=20)


@pytest.fixture(scope="session")
def netns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetnsPair]:
    problem = _netns_problem()
    if problem is not None:
        print(f"SKIP live tests: {problem}")
        pytest.skip(problem)
    tag = uuid.uuid4().hex[:6]
    pair = NetnsPair(f"lsc{tag}", f"lss{tag}", f"lsc{tag}", f"lss{tag}", tmp_path_factory.mktemp("netns"))
    try:
        _sh("ip", "netns", "add", pair.client)
        _sh("ip", "netns", "add", pair.server)
        _sh("ip", "link", "add", pair.client_if, "type", "veth", "peer", "name", pair.server_if)
        _sh("ip", "link", "set", pair.client_if, "netns", pair.client)
        _sh("ip", "link", "set", pair.server_if, "netns", pair.server)
        for namespace, iface, address in (
            (pair.client, pair.client_if, CLIENT_IP),
            (pair.server, pair.server_if, SERVER_IP),
        ):
            _sh("ip", "-n", namespace, "addr", "add", f"{address}/24", "dev", iface)
            _sh("ip", "-n", namespace, "link", "set", iface, "up")
            _sh("ip", "-n", namespace, "link", "set", "lo", "up")
        _wait_reachable(pair)
        yield pair
    finally:
        pair.stop_all()
        # Deleting a namespace destroys the veth end inside it, and with it the peer.
        for namespace in (pair.client, pair.server):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=20)
        subprocess.run(["ip", "link", "del", pair.client_if], capture_output=True, timeout=20)


def _wait_reachable(pair: NetnsPair) -> None:
    # A fresh veth needs a moment (IPv6 DAD, carrier) before the first ping answers.
    for _ in range(50):
        done = pair.run(pair.client, "ping", "-c", "1", "-W", "1", SERVER_IP, check=False)
        if done.returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"{SERVER_IP} unreachable from {pair.client}")


def wait_for_line(stream: Any, wanted: str, timeout: float = 20) -> str:
    """Read a pipe until its text contains `wanted`; what was read (in the failure too).

    Reads the file descriptor directly: a buffered readline() could pull the awaited line into
    Python's buffer, where select() no longer sees it.
    """
    seen = ""
    fd = stream.fileno()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        seen += chunk.decode(errors="replace")
        if wanted in seen:
            return seen
    raise AssertionError(f"no {wanted!r} within {timeout} s; read: {seen!r}")


def start_capture(
    pair: NetnsPair, namespace: str, *argv: str, stdout: Any = subprocess.DEVNULL
) -> subprocess.Popen[Any]:
    """`layerscope capture ...` inside a namespace, returned once it says it is capturing."""
    process = pair.layerscope(namespace, "capture", *argv, stdout=stdout, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    wait_for_line(process.stderr, "Capturing on")
    return process


def stop_capture(process: subprocess.Popen[Any], how: int = signal.SIGINT) -> tuple[int, str]:
    """Stop with a signal; the exit status and the rest of stderr."""
    process.send_signal(how)
    _out, err = process.communicate(timeout=20)
    return process.returncode, err
