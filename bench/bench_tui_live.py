"""Live TUI benchmark: do thousands of packets a second stay smooth in the live-capture TUI?

    /tmp/venv/bin/python bench/bench_tui_live.py [--rates 2000,5000,10000] [--seconds 10]
        [--modes plain,filter] [--filter "udp.dstport == 9999"] [--size 160x48] [--no-baseline]
        [--keys up,end] [--sample] [--json FILE]

Needs root and `ip netns`. Two network namespaces joined by a veth pair are created (unique names,
deleted at the end whatever happens); no traffic leaves them. For each rate and mode a fresh child
runs `LayerscopeApp(capture=LiveCapture(iface))` headless under Textual's `run_test` inside the
client namespace (this file re-run under `ip netns exec`), while the server namespace offers:

- UDP: a raw AF_PACKET sender paced in 4 ms slots, Ethernet/IPv4/UDP frames to a MAC nobody owns
  (the client's stack drops them; the promiscuous capture sees them): 9 of 10 to port 9999 with 18
  bytes of zeros, 1 of 10 a DNS query for example.com to port 53;
- TCP: `python -m http.server` (port 8080, decoded as HTTP) answering a client in the client
  namespace that fetches a 4 KB file 10 times a second on fresh connections.

A baseline run with the HTTP fetches alone (no UDP) comes first unless `--no-baseline`.

Measured by the child over the sending window (from the agreed start time for `--seconds`):

- loop lag: how late each tick of a 50 ms Textual `set_interval` timer runs against its own
  schedule (the timer's `next_timer`), i.e. how long the UI's event loop was busy or waiting for
  the GIL; median, p99, max;
- key: 20 keys spread over the window, by default alternately `up` (the list stops following the
  newest packet) and `end` (it follows again; `--keys` changes the cycle), posted the way the
  terminal driver posts them (the pilot's `press` waits for an idle app, which a live capture
  never is); from the post until the packet list's action ran and the next frame was composed
  (`App._display`); median, max;
- behind: packets indexed (`len(app.index)`) but not yet in the list (`packet_list.count`),
  sampled at every tick; age: how old the newest listed packet (the last displayed row, shown or
  scrolled off) is against the wall clock (its kernel timestamp), sampled at every tick from 0.5 s
  into the window (before that the newest row may predate the load), and its last value ("end");
- CPU: the child's user + system CPU seconds per wall second over the window, the UI (main)
  thread's alone (the rest is the capture pump and the analysis, tree and filter workers), and the
  whole machine's (/proc/stat: the app, the senders, the HTTP server and anything else running;
  the app's threads share one GIL, so the app itself tops out near 1.0);
- counts: UDP frames sent and HTTP fetches done, packets in the index at the end, rows shown, the
  capture's own count and the kernel's received / dropped (PACKET_STATISTICS, read at the stop,
  `s`, SETTLE s after the window); "unread" is what the kernel had queued for the capture socket
  but the app had not read when stopped: a capture falling behind shows here, not as drops, until
  the 32 MiB socket buffer is full;
- frames/s: screen updates composed per second (Textual repaints only what changed);
- a second table splits the app's CPU by thread (/proc/self/task/*/stat over the window), each
  thread named by the worker it was seen running most at the lag timer's ticks (its outermost
  project function: _pump the capture, analyse the colouring/views pass, annotate the
  stream-aware tree's replay, run_filter the display filter).

Mode `filter` applies `--filter` through `app.apply_filter_text` once the capture runs (before the
load starts) and measures the same; if the app answers a live display filter with a warning only,
the table says "filter: not supported" and the other filter runs are skipped. `--sample` adds,
per run, where each thread of the child was (sys._current_frames every 5 ms; see Sampler; the
sampler takes the GIL too, so it slows what it watches a little). `--json` keeps every sample.
Printed as Markdown; the defaults take about two minutes. The machine is shared: read the
machine CPU column before comparing runs.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLIENT_IP = "10.69.0.1"
SERVER_IP = "10.69.0.2"
HTTP_PORT = 8080
UDP_PORT = 9999
TICK = 0.05  # seconds between the lag timer's ticks
KEYS = 20  # keys posted per window
KEY_LIMIT = 5.0  # seconds a key may take before it counts as lost
SETTLE = 1.0  # seconds after the window for the capture to drain before it is stopped
AGE_AFTER = 0.5  # seconds into the window before the newest listed packet's age is sampled
LEAD_IN = 1.0  # seconds between starting the senders and the window, for their start-up
HTTP_PER_SECOND = 10
HTTP_BYTES = 4096
MARK = "@@bench "  # prefix of the child's protocol lines on stdout

# A raw AF_PACKET sender paced in 4 ms slots from an agreed start time (epoch seconds).
SENDER = """
import json, socket, struct, sys, time
iface, rate, seconds, start_at = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])

def checksum(header):
    total = sum(struct.unpack("!%dH" % (len(header) // 2), header))
    total = (total & 0xFFFF) + (total >> 16)
    return ~((total & 0xFFFF) + (total >> 16)) & 0xFFFF

def frame(dport, payload):
    size = 20 + 8 + len(payload)
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, size, 0, 0x4000, 64, 17, 0,
                       socket.inet_aton(sys.argv[5]), socket.inet_aton(sys.argv[6]))
    head = head[:10] + struct.pack("!H", checksum(head)) + head[12:]
    udp = struct.pack("!HHHH", 40000, dport, 8 + len(payload), 0)
    return bytes.fromhex("020000000099" "020000000002" "0800") + head + udp + payload

query = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\\x07example\\x03com\\x00"
query += struct.pack("!HH", 1, 1)
cycle = [frame(int(sys.argv[7]), bytes(18))] * 9 + [frame(53, query)]
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind((iface, 0))
send, slot = sock.send, 0.004
per_slot = max(1, int(rate * slot))
total = int(rate * seconds)
time.sleep(max(0.0, start_at - time.time()))
sent, start = 0, time.monotonic()
while sent < total:
    for i in range(sent, min(sent + per_slot, total)):
        send(cycle[i % 10])
    sent = min(sent + per_slot, total)
    pause = start + sent / rate - time.monotonic()
    if pause > 0:
        time.sleep(pause)
print(json.dumps({"sent": sent, "seconds": time.monotonic() - start}))
"""

# Fetches a file on a fresh connection HTTP_PER_SECOND times a second over the window.
FETCHER = """
import http.client, json, sys, time
host, port = sys.argv[1], int(sys.argv[2])
rate, start_at, end_at = (float(value) for value in sys.argv[3:6])
ok = failed = 0
time.sleep(max(0.0, start_at - time.time()))
n = 0
while time.time() < end_at:
    try:
        connection = http.client.HTTPConnection(host, port, timeout=2)
        connection.request("GET", "/file.bin", headers={"Connection": "close"})
        response = connection.getresponse()
        response.read()
        connection.close()
        ok += response.status == 200
        failed += response.status != 200
    except OSError:
        failed += 1
    n += 1
    time.sleep(max(0.0, start_at + n / rate - time.time()))
print(json.dumps({"ok": ok, "failed": failed}))
"""


# -- the child: the app inside the client namespace -------------------------------------------------


@dataclass
class Probe:
    """What the child records; times are time.monotonic() seconds."""

    start: float = float("inf")
    end: float = float("inf")
    lateness: list[float] = field(default_factory=list)
    behind: list[int] = field(default_factory=list)
    listed_age: list[float] = field(default_factory=list)
    keys: list[float] = field(default_factory=list)
    lost_keys: int = 0
    frames: int = 0  # frames composed in the window
    # native thread id -> roles it was seen in at the ticks (see _thread_role)
    roles: dict[int, collections.Counter[str]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    acted_at: float | None = None
    painted_at: float = 0.0
    painted: asyncio.Event = field(default_factory=asyncio.Event)

    def inside(self, now: float) -> bool:
        return self.start <= now <= self.end

    def acted(self) -> None:
        if self.acted_at is None:
            self.acted_at = time.monotonic()

    def composed(self) -> None:
        now = time.monotonic()
        if self.inside(now):
            self.frames += 1
        if self.acted_at is not None and not self.painted.is_set():
            self.painted_at = now
            self.painted.set()


class Sampler:
    """Every `period` s, where each thread of the child is (a poor man's py-spy, no CPU counts).

    A thread's role is the UI (main) thread, or the outermost project function on its stack (the
    worker's entry, such as the capture pump); pool threads running no project code are idle and
    not counted. A sample names the innermost project function and the innermost function of all
    (C calls, including waits for the GIL, show as the Python line that made them).
    """

    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        self.ticks = 0
        self.counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me, main = threading.get_ident(), threading.main_thread().ident
        while not self._stop.wait(self.period):
            self.ticks += 1
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                stack = _project_frames(frame)
                if ident == main:
                    role = "UI thread"
                elif stack:
                    role = _name(stack[-1]) + " (worker)"
                else:
                    continue
                inner = _name(frame)
                where = _name(stack[0]) if stack else inner
                self.counts[role][where if not stack or stack[0] is frame else f"{where} > {inner}"] += 1

    def report(self, top: int = 10) -> dict[str, Any]:
        return {
            role: {"samples": sum(counter.values()), "ticks": self.ticks, "top": counter.most_common(top)}
            for role, counter in self.counts.items()
        }


def _thread_role(frame: Any, main: bool) -> str | None:
    """ "UI thread", the worker's entry function (outermost project frame), or None (idle, not ours)."""
    if main:
        return "UI thread"
    stack = _project_frames(frame)
    return stack[-1].f_code.co_name if stack else None


def _note_roles(probe: Probe) -> None:
    natives = {thread.ident: thread.native_id for thread in threading.enumerate()}
    main = threading.main_thread().ident
    for ident, frame in sys._current_frames().items():
        native = natives.get(ident)
        role = _thread_role(frame, ident == main)
        if native is not None and role is not None:
            probe.roles[native][role] += 1


def _thread_cpu() -> dict[int, float]:
    """CPU seconds (user + system) of each live thread of this process, by native id."""
    found: dict[int, float] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(tid)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


def _cpu_by_role(
    before: dict[int, float], after: dict[int, float], roles: Any, total: float
) -> dict[str, float]:
    """The window's CPU seconds per role: each thread's goes to the role it was seen in most; threads
    never seen running project code are "idle/other"; threads that ended are "ended threads"."""
    found: dict[str, float] = collections.defaultdict(float)
    for tid, cpu in after.items():
        seen = roles.get(tid)
        role = seen.most_common(1)[0][0] if seen else "idle/other"
        found[role] += cpu - before.get(tid, 0.0)
    found["ended threads"] += max(0.0, total - sum(found.values()))
    return dict(found)


def _project_frames(frame: Any) -> list[Any]:
    """The frames of analyzer/ and captures/ on the stack, innermost first."""
    found = []
    while frame is not None:
        if "/analyzer/" in frame.f_code.co_filename or "/captures/" in frame.f_code.co_filename:
            found.append(frame)
        frame = frame.f_back
    return found


def _name(frame: Any) -> str:
    path = Path(frame.f_code.co_filename)
    return f"{path.parent.name}/{path.name}:{frame.f_code.co_name}"


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _cpu() -> float:
    usage = os.times()
    return usage.user + usage.system


def _machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all processes, all namespaces) since boot."""
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


async def drive(
    iface: str, mode: str, display_filter: str, size: tuple[int, int], keys: list[str], sample: bool
) -> None:
    """Run the app on `iface`; talk to the parent over stdin/stdout (see `run_child`)."""
    from textual import events

    from analyzer.tui.app import LayerscopeApp
    from captures.live import LiveCapture

    def say(kind: str, payload: dict[str, Any]) -> None:
        print(MARK + json.dumps({"kind": kind, **payload}), flush=True)

    app = LayerscopeApp(capture=LiveCapture(iface))
    probe = Probe()
    result: dict[str, Any] = {"mode": mode}
    async with app.run_test(size=size) as pilot:
        source = app.live
        assert source is not None
        packet_list = app.packet_list
        await pilot.pause(0.5)  # mounted, first frame drawn, dissectors loading
        if mode == "filter":
            app.apply_filter_text(display_filter)
            packet_list.focus()
            await pilot.pause(0.5)
            warnings = [str(note.message) for note in app._notifications if note.severity != "information"]
            if app.display_filter is None and packet_list.rows is None:
                say("unsupported", {"warnings": warnings})
                return
            result["filter_warnings"] = warnings

        # Instruments: the lag timer (its own schedule), the packet list's key actions, frame output.
        def sample_display(now: float) -> None:
            count = packet_list.count
            probe.behind.append(len(app.index) - count)
            shown = packet_list.displayed
            if shown and now >= probe.start + AGE_AFTER:
                packet = packet_list.packet_at(shown - 1)
                if packet < count:
                    stamp = app.index.__dict__["timestamp_ns"][packet]
                    probe.listed_age.append(time.time() - stamp / 1e9)

        timer = app.set_interval(TICK, lambda: None, name="bench-lag")
        original_tick = timer._tick

        async def tick(*, next_timer: float, count: int) -> None:
            now = time.monotonic()
            if probe.inside(now):
                probe.lateness.append(now - next_timer)
                sample_display(now)
                _note_roles(probe)
            await original_tick(next_timer=next_timer, count=count)

        setattr(timer, "_tick", tick)  # noqa: B010 - an instance attribute shadows the method
        for name in ("action_cursor", "action_last"):
            setattr(packet_list, name, _after(getattr(packet_list, name), probe.acted))
        original_display = app._display

        def display(screen: Any, renderable: Any) -> None:
            original_display(screen, renderable)
            if renderable is not None and not app._batch_count:
                probe.composed()

        setattr(app, "_display", display)  # noqa: B010

        say("ready", {})
        line = await asyncio.to_thread(sys.stdin.readline)
        start_at, seconds = (float(part) for part in line.split())
        offset = time.monotonic() - time.time()
        probe.start, probe.end = start_at + offset, start_at + offset + seconds
        sampler = Sampler() if sample else None
        await asyncio.sleep(max(0.0, probe.start - time.monotonic()))
        threads, cpu, ui_cpu = _thread_cpu(), _cpu(), time.thread_time()
        busy, began = _machine_busy(), time.monotonic()
        if sampler is not None:
            sampler.start()
        for number in range(KEYS):
            await asyncio.sleep(max(0.0, probe.start + seconds * (number + 0.5) / KEYS - time.monotonic()))
            await _press(app, probe, keys[number % len(keys)], events.Key)
        await asyncio.sleep(max(0.0, probe.end - time.monotonic()))
        elapsed = time.monotonic() - began
        result["cpu_per_s"] = (_cpu() - cpu) / elapsed
        by_role = _cpu_by_role(threads, _thread_cpu(), probe.roles, _cpu() - cpu)
        result["cpu_by_role"] = {role: spent / elapsed for role, spent in by_role.items()}
        result["ui_cpu_per_s"] = (time.thread_time() - ui_cpu) / elapsed
        result["machine_cpu_per_s"] = (_machine_busy() - busy) / elapsed
        if sampler is not None:
            sampler.stop()
            result["profile"] = sampler.report()
        result["listed_at_end"] = packet_list.count
        result["shown_at_end"] = packet_list.displayed
        result["indexed_at_end"] = len(app.index)
        await asyncio.sleep(SETTLE)
        app.action_stop_capture()
        waited = 0.0
        while source.running and waited < 10:
            await asyncio.sleep(0.05)
            waited += 0.05
        await asyncio.sleep(0.3)
        result.update(
            indexed=len(app.index),
            listed=packet_list.count,
            shown=packet_list.displayed,
            captured=source.stats.captured,
            kernel_received=source.stats.kernel_received,
            kernel_dropped=source.stats.kernel_dropped,
            mix=_mix(app.index),
            lateness=probe.lateness,
            behind=probe.behind,
            listed_age=probe.listed_age,
            keys=probe.keys,
            lost_keys=probe.lost_keys,
            frames_per_s=probe.frames / seconds,
        )
    say("result", result)


def _after(action: Callable[..., None], then: Callable[[], None]) -> Callable[..., None]:
    def run(*args: Any) -> None:
        action(*args)
        then()

    return run


async def _press(app: Any, probe: Probe, key: str, make: Callable[[str, str | None], Any]) -> None:
    probe.acted_at = None
    probe.painted.clear()
    posted = time.monotonic()
    app.post_message(make(key, None))
    try:
        await asyncio.wait_for(probe.painted.wait(), KEY_LIMIT)
    except TimeoutError:
        probe.lost_keys += 1
        return
    probe.keys.append(probe.painted_at - posted)


def _mix(index: Any) -> dict[str, int]:
    """Packets in the index by Protocol column, and those to UDP port 9999."""
    columns = index.__dict__
    names = index._protocols.values
    count = len(index)
    codes = collections.Counter(columns["protocol_code"][:count])
    mix = {names[code]: found for code, found in codes.items()}
    udp = names.index("UDP") if "UDP" in names else -1
    ports, protocols = columns["dst_port"], columns["protocol_code"]
    mix["udp9999"] = sum(1 for i in range(count) if ports[i] == UDP_PORT and protocols[i] == udp)
    return mix


def run_child(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("iface")
    parser.add_argument("--mode", default="plain")
    parser.add_argument("--filter", default="")
    parser.add_argument("--size", default="160x48")
    parser.add_argument("--sample", action="store_true")
    parser.add_argument("--keys", default="up,end")
    args = parser.parse_args(argv)
    width, height = (int(part) for part in args.size.split("x"))
    keys = args.keys.split(",")
    asyncio.run(drive(args.iface, args.mode, args.filter, (width, height), keys, args.sample))
    return 0


# -- the parent: namespaces, traffic, the table ------------------------------------------------------


def _sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=20)


@dataclass
class Pair:
    client: str
    server: str
    tmp: Path
    processes: list[subprocess.Popen[Any]] = field(default_factory=list)

    def command(self, namespace: str, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", namespace, *argv]

    def spawn(self, namespace: str, *argv: str, **options: Any) -> subprocess.Popen[Any]:
        process = subprocess.Popen(self.command(namespace, *argv), **options)
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
        self.processes.clear()


@contextlib.contextmanager
def namespaces() -> Iterator[Pair]:
    """Client and server namespaces joined by a veth pair, an HTTP server in the server one."""
    tag = uuid.uuid4().hex[:6]
    pair = Pair(f"lbc{tag}", f"lbs{tag}", Path(tempfile.mkdtemp(prefix="bench-tui-live-")))
    try:
        _sh("ip", "netns", "add", pair.client)
        _sh("ip", "netns", "add", pair.server)
        _sh("ip", "link", "add", pair.client, "type", "veth", "peer", "name", pair.server)
        for namespace, address in ((pair.client, CLIENT_IP), (pair.server, SERVER_IP)):
            _sh("ip", "link", "set", namespace, "netns", namespace)
            _sh("ip", "-n", namespace, "addr", "add", f"{address}/24", "dev", namespace)
            _sh("ip", "-n", namespace, "link", "set", namespace, "up")
            _sh("ip", "-n", namespace, "link", "set", "lo", "up")
        (pair.tmp / "file.bin").write_bytes(os.urandom(HTTP_BYTES))
        pair.spawn(
            pair.server,
            *(sys.executable, "-m", "http.server", str(HTTP_PORT), "--bind", SERVER_IP),
            *("--directory", str(pair.tmp)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_serving(pair)
        yield pair
    finally:
        pair.stop_all()
        # Deleting a namespace destroys the veth end inside it, and with it the peer.
        for namespace in (pair.client, pair.server):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=20)
        shutil.rmtree(pair.tmp, ignore_errors=True)


def _wait_serving(pair: Pair) -> None:
    url = f"http://{SERVER_IP}:{HTTP_PORT}/file.bin"
    probe = f"import urllib.request; urllib.request.urlopen({url!r}, timeout=1).read()"
    for _ in range(100):
        done = subprocess.run(pair.command(pair.client, sys.executable, "-c", probe), capture_output=True)
        if done.returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"the HTTP server at {url} never answered")


def _read_message(process: subprocess.Popen[Any], limit: float) -> dict[str, Any]:
    """The child's next protocol line (other output is skipped), or RuntimeError with its stderr."""
    assert process.stdout is not None
    deadline = time.monotonic() + limit
    buffered = getattr(process, "bench_buffer", b"")
    fd = process.stdout.fileno()
    while True:
        while b"\n" in buffered:
            line, buffered = buffered.split(b"\n", 1)
            text = line.decode(errors="replace")
            if text.startswith(MARK):
                process.bench_buffer = buffered  # type: ignore[attr-defined]
                found: dict[str, Any] = json.loads(text[len(MARK) :])
                return found
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(0.0, remaining))
        chunk = os.read(fd, 65536) if ready else b""
        if not chunk:
            process.kill()
            _out, err = process.communicate(timeout=10)
            tail = (err or b"").decode(errors="replace")[-3000:]
            raise RuntimeError(f"the child gave no answer (exit {process.returncode}):\n{tail}")
        buffered += chunk


def run_once(pair: Pair, rate: int, seconds: float, mode: str, args: argparse.Namespace) -> dict[str, Any]:
    child_argv = [sys.executable, __file__, "--child", pair.client, "--mode", mode, "--size", args.size]
    child_argv += ["--filter", args.filter, "--keys", args.keys, *(["--sample"] if args.sample else [])]
    child = pair.spawn(
        pair.client, *child_argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert child.stdin is not None
    try:
        first = _read_message(child, 60)
        if first["kind"] == "unsupported":
            return {"unsupported": True, **first}
        start_at = time.time() + LEAD_IN
        sender = pair.spawn(
            pair.server,
            *(sys.executable, "-c", SENDER, pair.server, str(rate), str(seconds), f"{start_at:.6f}"),
            *(SERVER_IP, CLIENT_IP, str(UDP_PORT)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        fetcher = pair.spawn(
            pair.client,
            *(sys.executable, "-c", FETCHER, SERVER_IP, str(HTTP_PORT), str(HTTP_PER_SECOND)),
            *(f"{start_at:.6f}", f"{start_at + seconds:.6f}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        child.stdin.write(f"{start_at:.6f} {seconds}\n".encode())
        child.stdin.flush()
        found = _read_message(child, LEAD_IN + seconds + SETTLE + 60)
        sent_out, sent_err = sender.communicate(timeout=30)
        fetched_out, fetched_err = fetcher.communicate(timeout=30)
        if sender.returncode or fetcher.returncode:
            raise RuntimeError(f"a traffic source failed: {sent_err[-2000:]} {fetched_err[-2000:]}")
        found["udp_sent"] = json.loads(sent_out)["sent"]
        found["sender_seconds"] = json.loads(sent_out)["seconds"]
        found["http"] = json.loads(fetched_out)
        child.wait(30)
        return found
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)


def _cells(rate: int, seconds: float, found: dict[str, Any]) -> list[str]:
    rate_text = f"{rate:,}" if rate else "0 (HTTP only)"
    if found.get("unsupported"):
        return [rate_text, found["mode"], "filter: not supported", *["-"] * 9]

    def ms(values: list[float], *fractions: float) -> str:
        if not values:
            return "-"
        return " / ".join(f"{_percentile(values, fraction) * 1000:.0f}" for fraction in fractions)

    mix = found["mix"]
    http = found["http"]
    lost = f" ({found['lost_keys']} lost)" if found["lost_keys"] else ""
    behind = [float(value) for value in found["behind"]]
    unread = found["kernel_received"] - found["kernel_dropped"] - found["captured"]
    udp, tcp = mix.get("udp9999", 0) + mix.get("DNS", 0), mix.get("TCP", 0) + mix.get("HTTP", 0)
    slow = f" in {found['sender_seconds']:.1f} s" if found["sender_seconds"] > seconds * 1.03 else ""
    return [
        rate_text,
        found["mode"],
        f"{found['udp_sent']:,}{slow} + {http['ok']} GETs"
        + (f" ({http['failed']} failed)" if http["failed"] else ""),
        f"{found['indexed']:,} ({udp:,} UDP, {tcp:,} TCP)",
        f"{found['shown']:,}",
        f"{found['kernel_received']:,} / {found['kernel_dropped']:,} / {unread:,}",
        ms(found["lateness"], 0.5, 0.99, 1.0),
        ms(found["keys"], 0.5, 1.0) + lost,
        f"{statistics.median(behind):,.0f} / {max(behind):,.0f}" if behind else "-",
        ms(found["listed_age"], 0.5, 0.99, 1.0)
        + (f" ({found['listed_age'][-1] * 1000:.0f})" if found["listed_age"] else ""),
        f"{found['frames_per_s']:.0f}",
        f"{found['cpu_per_s']:.2f} ({found['ui_cpu_per_s']:.2f}) / {found['machine_cpu_per_s']:.2f}",
    ]


HEADER = [
    "rate pps",
    "mode",
    "sent (UDP + HTTP)",
    "in index",
    "shown",
    "kernel recv / dropped / unread",
    "loop lag ms med / p99 / max",
    "key ms med / max",
    "list behind index pkts med / max",
    "newest listed age ms med / p99 / max (end)",
    "frames/s",
    "CPU s/s app (UI thread) / machine",
]


def _print_roles(runs: list[tuple[int, dict[str, Any]]]) -> None:
    """The app's CPU seconds per wall second by thread role (worker entry function), one row a run."""
    totals: collections.Counter[str] = collections.Counter()
    for _rate, found in runs:
        for role, spent in found.get("cpu_by_role", {}).items():
            totals[role] += round(spent * 1000)
    if not totals:
        return
    roles = [role for role, _total in totals.most_common()]
    print("\nApp CPU s/s by thread (a thread counts as the worker it ran most at the 50 ms ticks):\n")
    print("| rate pps | mode | " + " | ".join(roles) + " |")
    print("|---|---|" + "---:|" * len(roles))
    for rate, found in runs:
        spent = found.get("cpu_by_role")
        if spent is not None:
            cells = [f"{spent.get(role, 0.0):.2f}" for role in roles]
            print(f"| {rate:,} | {found['mode']} | " + " | ".join(cells) + " |")


def _problem() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces and packet sockets)"
    if shutil.which("ip") is None:
        return "needs iproute2's `ip`"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"`ip netns` is unavailable: {probe.stderr.strip()}"
    return None


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        return run_child(sys.argv[2:])
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rates", default="2000,5000,10000", help="offered UDP rates, packets/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="sending window per run")
    parser.add_argument("--modes", default="plain,filter", help="plain and/or filter")
    parser.add_argument(
        "--filter", default=f"udp.dstport == {UDP_PORT}", help="display filter of mode filter"
    )
    parser.add_argument("--size", default="160x48")
    parser.add_argument(
        "--keys", default="up,end", help="keys posted in turn (only cursor(...) and last actions are timed)"
    )
    parser.add_argument("--sample", action="store_true", help="profile the child's threads by sampling")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run without UDP load")
    parser.add_argument("--json", type=Path, help="also write every run's raw findings here")
    args = parser.parse_args()
    problem = _problem()
    if problem is not None:
        print(f"bench_tui_live: {problem}", file=sys.stderr)
        return 2
    rates = [int(rate) for rate in args.rates.split(",")]
    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    # SIGTERM unwinds like Ctrl+C, so the namespaces are deleted either way.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load = os.getloadavg()
    runs: list[tuple[int, dict[str, Any]]] = []
    filter_supported = True
    plan = [(rate, mode) for rate in rates for mode in modes]
    if not args.no_baseline and 0 not in rates:
        plan.insert(0, (0, "plain"))
    with namespaces() as pair:
        for rate, mode in plan:
            if mode == "filter" and not filter_supported:
                continue
            found = run_once(pair, rate, args.seconds, mode, args)
            if found.get("unsupported"):
                filter_supported = False
                found["mode"] = mode
            runs.append((rate, found))
            print(f"# {rate} pps {mode}: done", file=sys.stderr, flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps([{"rate": rate, **found} for rate, found in runs], indent=1))
    print(
        f"live TUI, terminal {args.size}, {args.seconds:g} s per run, {os.cpu_count()} CPUs,"
        f" load average before {load[0]:.2f}; filter: {args.filter!r}"
        + ("" if filter_supported or "filter" not in modes else " (not supported live)")
    )
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "|".join(["---", "---", *["---:"] * (len(HEADER) - 2)]) + "|")
    for rate, found in runs:
        print("| " + " | ".join(_cells(rate, args.seconds, found)) + " |")
    _print_roles(runs)
    if args.sample:
        for rate, found in runs:
            for role, seen in found.get("profile", {}).items():
                share = seen["samples"] / max(seen["ticks"], 1)
                print(f"\n{rate:,} pps {found['mode']}: {role}, on the stack in {share:.0%} of samples")
                for where, count in seen["top"]:
                    print(f"    {count / max(seen['samples'], 1):6.1%}  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
