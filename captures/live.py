"""Live capture on a Linux interface: raw frames from an AF_PACKET socket, BPF compiled by libpcap.

scapy's own receive path builds a Packet object per frame (thousands a second at best); here it
only compiles the capture filter (libpcap's pcap_compile through scapy's bindings) and is imported
only when a filter is given. The socket is a plain packet socket read with recvmsg_into into one
reused buffer: kernel timestamps come with each frame (SO_TIMESTAMPNS), the original length and a
stripped VLAN tag from PACKET_AUXDATA (the tag is put back, as libpcap does), and kernel counts of
received and dropped packets from PACKET_STATISTICS. The socket is non-blocking and waited on with
poll() together with a wake-up pipe, so `stop()` works from another thread or a signal handler.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import select
import socket
import struct
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from captures.frame import Frame
from captures.interfaces import ANY, interface_names, interface_type
from captures.types import RawRecord

SNAPLEN = 262_144
BUFFER_BYTES = 32 * 1024 * 1024

# linux/if_packet.h, linux/if_ether.h, asm-generic/socket.h
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_STATISTICS = 6
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
ETH_P_ALL = 0x0003
SO_ATTACH_FILTER = 26
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
_AUXDATA = struct.Struct("=IIIHHHH")
_TIMESPEC = struct.Struct("=qq")
_SLL = struct.Struct("!HHH8sH")

# ARPHRD_* (linux/if_arp.h) -> link type for the frames as a SOCK_RAW socket delivers them; the
# loopback device is Ethernet-framed on Linux. Anything else is captured cooked (SOCK_DGRAM,
# Linux SLL headers built from the socket address), as libpcap does for such devices.
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
_RAW_LINKTYPES = {1: LINKTYPE_ETHERNET, 772: LINKTYPE_ETHERNET, 65534: LINKTYPE_RAW, 519: LINKTYPE_RAW}

PERMISSION_HINT = (
    "run as root, or grant cap_net_raw and cap_net_admin to the interpreter: "
    "setcap cap_net_raw,cap_net_admin=eip {interpreter}"
)


class LiveCaptureError(Exception):
    """A capture that cannot start or cannot go on; `str()` is the one line shown to users."""


@dataclass(slots=True)
class CaptureStats:
    """Counts so far: frames handed out, and the kernel's own received/dropped counts."""

    captured: int
    kernel_received: int
    kernel_dropped: int


def permission_message(iface: str) -> str:
    interpreter = os.path.realpath(sys.executable)
    return f"you don't have permission to capture on {iface}: " + PERMISSION_HINT.format(
        interpreter=interpreter
    )


def no_such_interface_message(iface: str) -> str:
    names = ", ".join([*interface_names(), ANY])
    return f'there is no interface named "{iface}"; the interfaces are: {names}'


def linktype_for(iface: str) -> int:
    """The link type frames from this interface carry (LINUX_SLL for "any" and unusual devices)."""
    if iface == ANY:
        return LINKTYPE_LINUX_SLL
    return _RAW_LINKTYPES.get(interface_type(iface), LINKTYPE_LINUX_SLL)


class _Bpf:
    """A filter compiled by libpcap (through scapy), as the kernel's sock_fprog or a userspace test."""

    def __init__(self, expression: str, linktype: int) -> None:
        try:
            from scapy.arch.common import compile_filter
        except ImportError as exc:  # scapy present but libpcap missing
            raise LiveCaptureError(f"cannot compile capture filters: {exc}") from None
        try:
            self._program: Any = compile_filter(expression, linktype=linktype)
        except Exception as exc:  # scapy raises Scapy_Exception with libpcap's message inside
            raise LiveCaptureError(
                f"invalid capture filter {expression!r}: {_compiler_message(exc)}"
            ) from None
        self._matcher: Any = None

    def attach(self, sock: socket.socket) -> None:
        # struct sock_fprog { unsigned short len; struct sock_filter *filter; }
        fprog = struct.pack("HL", self._program.bf_len, ctypes.addressof(self._program.bf_insns.contents))
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)

    def matches(self, data: bytes, wire_len: int) -> bool:
        """Run the filter in userspace (cooked captures: the kernel sees no SLL header to test)."""
        if self._matcher is None:
            from scapy.libs import winpcapy

            self._matcher = winpcapy._lib.pcap_offline_filter
            self._matcher.restype = ctypes.c_int
            self._matcher.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p]
        # struct pcap_pkthdr { struct timeval ts; bpf_u_int32 caplen; bpf_u_int32 len; }
        header = struct.pack("qqII", 0, 0, len(data), wire_len)
        return bool(self._matcher(ctypes.addressof(self._program), header, data))

    def close(self) -> None:
        if self._program is not None:
            from scapy.libs.winpcapy import pcap_freecode

            pcap_freecode(ctypes.byref(self._program))
            self._program = None


def _compiler_message(exc: Exception) -> str:
    # "Failed to compile filter expression 'x' (can't parse filter expression: syntax error)"
    text = str(exc)
    start = text.rfind(" (")
    if start >= 0 and text.endswith(")"):
        return text[start + 2 : -1]
    return text


class LiveCapture:
    """One interface, opened for capture. Iterate `batches()` (or the capture itself) for Frames.

    Frames are numbered from 1, carry nanosecond kernel timestamps (ts_digits 9), the interface
    name and the interface's link type (`linktype`).
    """

    def __init__(
        self,
        iface: str,
        bpf: str | None = None,
        snaplen: int = SNAPLEN,
        promiscuous: bool = True,
        buffer_bytes: int = BUFFER_BYTES,
    ) -> None:
        self.iface = iface
        self.bpf = bpf
        self.snaplen = snaplen
        if iface != ANY and iface not in interface_names():
            raise LiveCaptureError(no_such_interface_message(iface))
        self.linktype = linktype_for(iface)
        self._cooked = self.linktype == LINKTYPE_LINUX_SLL
        # Compile before opening: a bad filter is reported even without capture rights.
        self._filter = _Bpf(bpf, self.linktype) if bpf else None
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._stopped = False
        self._captured = 0
        self._kernel_received = 0
        self._kernel_dropped = 0
        self._buffer = bytearray(snaplen)
        try:
            self._sock = self._open(promiscuous, buffer_bytes)
        except BaseException:
            self._close_pipe()
            if self._filter is not None:
                self._filter.close()
            raise

    def _open(self, promiscuous: bool, buffer_bytes: int) -> socket.socket:
        kind = socket.SOCK_DGRAM if self._cooked else socket.SOCK_RAW
        # Protocol 0 receives nothing until bind(): no frame slips in before the filter is attached.
        # "any" is never bound (ifindex 0 cannot be named), and is filtered in userspace anyway.
        protocol = socket.htons(ETH_P_ALL) if self.iface == ANY else 0
        try:
            sock = socket.socket(socket.AF_PACKET, kind, protocol)
        except PermissionError:
            raise LiveCaptureError(permission_message(self.iface)) from None
        except OSError as exc:
            raise LiveCaptureError(f"cannot open a capture socket: {exc.strerror or exc}") from None
        try:
            self._configure(sock, promiscuous, buffer_bytes)
        except BaseException:
            sock.close()
            raise
        return sock

    def _configure(self, sock: socket.socket, promiscuous: bool, buffer_bytes: int) -> None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, buffer_bytes)
        except OSError:  # without CAP_NET_ADMIN: the ordinary (capped) receive buffer
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_bytes)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        if self._filter is not None and not self._cooked:
            self._filter.attach(sock)
        try:
            if self.iface != ANY:
                sock.bind((self.iface, ETH_P_ALL))
                if promiscuous:
                    index = socket.if_nametoindex(self.iface)
                    mreq = struct.pack("IHH8s", index, PACKET_MR_PROMISC, 0, b"")
                    sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq)
        except OSError as exc:
            if exc.errno in (errno.ENODEV, errno.ENXIO):
                raise LiveCaptureError(no_such_interface_message(self.iface)) from None
            if exc.errno == errno.ENETDOWN:
                raise LiveCaptureError(f"the interface {self.iface} is down") from None
            raise LiveCaptureError(f"cannot capture on {self.iface}: {exc.strerror or exc}") from None
        sock.setblocking(False)

    # -- reading ------------------------------------------------------------------------------

    def batches(self, max_batch: int = 512, idle_seconds: float = 0.25) -> Iterator[list[Frame]]:
        """Frames as they arrive, in lists of what was waiting (at most `max_batch`).

        An empty list is yielded after `idle_seconds` without traffic, so a consumer can flush
        its output and check its own limits. Ends after `stop()`. Raises LiveCaptureError when
        the interface goes away mid-capture (frames yielded before are unaffected).
        """
        poller = select.poll()
        poller.register(self._sock.fileno(), select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        timeout_ms = max(1, int(idle_seconds * 1000))
        while not self._stopped:
            batch = self._drain(max_batch)
            if batch:
                yield batch
                continue
            if not poller.poll(timeout_ms):
                yield []

    def __iter__(self) -> Iterator[Frame]:
        for batch in self.batches():
            yield from batch

    def _drain(self, max_batch: int) -> list[Frame]:
        batch: list[Frame] = []
        buffer = self._buffer
        view = memoryview(buffer)
        recv = self._sock.recvmsg_into
        ancillary_size = socket.CMSG_SPACE(_TIMESPEC.size) + socket.CMSG_SPACE(_AUXDATA.size)
        while len(batch) < max_batch and not self._stopped:
            try:
                size, ancillary, _flags, address = recv([view], ancillary_size, socket.MSG_TRUNC)
            except BlockingIOError:
                break
            except InterruptedError:
                continue
            except OSError as exc:
                raise LiveCaptureError(self._failure(exc)) from None
            frame = self._frame(buffer, size, ancillary, address)
            if frame is not None:
                batch.append(frame)
        return batch

    def _frame(self, buffer: bytearray, size: int, ancillary: list[Any], address: Any) -> Frame | None:
        pkttype = address[2]
        # Loopback frames are seen twice, going out and coming in: keep one, as libpcap does.
        if pkttype == PACKET_OUTGOING and address[0] == "lo":
            return None
        stamp = 0
        wire_len = size
        vlan = b""
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                seconds, nanos = _TIMESPEC.unpack_from(payload)
                stamp = seconds * 1_000_000_000 + nanos
            elif level == SOL_PACKET and kind == PACKET_AUXDATA:
                status, wire_len, _snap, _mac, _net, tci, tpid = _AUXDATA.unpack_from(payload)
                if status & TP_STATUS_VLAN_VALID and not self._cooked:
                    vlan = struct.pack("!HH", tpid if status & TP_STATUS_VLAN_TPID_VALID else 0x8100, tci)
        if stamp == 0:
            stamp = time.time_ns()
        captured = min(size, len(buffer))
        if self._cooked:
            _ifname, protocol, _pkttype, hatype, hwaddr = address[:5]
            header = _SLL.pack(pkttype, hatype, len(hwaddr), hwaddr[:8], protocol)
            data = header + bytes(buffer[:captured])
            wire_len += len(header)
        elif vlan and captured >= 12:
            data = bytes(buffer[:12]) + vlan + bytes(buffer[12:captured])
            wire_len += len(vlan)
        else:
            data = bytes(buffer[:captured])
        data = data[: self.snaplen]
        if self._filter is not None and self._cooked and not self._filter.matches(data, wire_len):
            return None
        self._captured += 1
        return Frame(self._captured, stamp, data, wire_len, self.linktype, 0, self.iface, ts_digits=9)

    def _failure(self, exc: OSError) -> str:
        if exc.errno in (errno.ENETDOWN, errno.ENODEV, errno.ENXIO):
            return f"capture on {self.iface} stopped: the interface went down or disappeared"
        return f"capture on {self.iface} stopped: {exc.strerror or exc}"

    # -- control ------------------------------------------------------------------------------

    def stop(self) -> None:
        """End `batches()` soon; safe from another thread or a signal handler."""
        self._stopped = True
        with contextlib.suppress(OSError):  # pipe full or already closed: the flag alone is enough
            os.write(self._wake_w, b"x")

    def stats(self) -> CaptureStats:
        """Frames handed out and the kernel's counts (read-and-reset there, so summed here)."""
        if self._sock.fileno() >= 0:
            try:
                packets, drops = struct.unpack("II", self._sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
            except OSError:
                packets = drops = 0
            # The kernel's packet count includes the drops.
            self._kernel_received += packets
            self._kernel_dropped += drops
        return CaptureStats(self._captured, self._kernel_received, self._kernel_dropped)

    def close(self) -> None:
        if self._sock.fileno() >= 0:
            self.stats()
            self._sock.close()
        self._close_pipe()
        if self._filter is not None:
            self._filter.close()

    def _close_pipe(self) -> None:
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._wake_r = self._wake_w = -1

    def __enter__(self) -> LiveCapture:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def as_record(frame: Frame) -> RawRecord:
    """The packet index's tuple for a live frame (no file offset: the bytes are kept in memory)."""
    return (-1, frame.timestamp_ns, frame.wire_len, frame.linktype, frame.ts_digits, 0, frame.data)
