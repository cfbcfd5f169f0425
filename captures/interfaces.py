"""Capture interfaces of this host: names, state and addresses, from /sys/class/net and rtnetlink.

No scapy and no `ip` command: the names and flags come from sysfs (what `ip link` reads too), the
addresses from one RTM_GETADDR dump over a netlink socket (the only complete per-interface list of
IPv4 addresses; /proc has IPv6 ones only).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from dataclasses import dataclass, field

ANY = "any"
SYS_NET = "/sys/class/net"

IFF_UP = 0x1
IFF_LOOPBACK = 0x8

# linux/netlink.h, linux/rtnetlink.h, linux/if_addr.h
NETLINK_ROUTE = 0
NLMSG_ERROR = 2
NLMSG_DONE = 3
RTM_NEWADDR = 20
RTM_GETADDR = 22
NLM_F_REQUEST = 0x1
NLM_F_DUMP = 0x300
IFA_ADDRESS = 1
IFA_LOCAL = 2
_NLMSGHDR = struct.Struct("=IHHII")
_IFADDRMSG = struct.Struct("=BBBBI")
_RTATTR = struct.Struct("=HH")

_KINDS = {1: "Ethernet", 772: "Loopback", 65534: "raw IP", 776: "IPv6-in-IPv4", 778: "GRE", 801: "Wi-Fi"}


@dataclass(slots=True)
class Interface:
    """One interface as `layerscope interfaces` lists it."""

    index: int
    name: str
    kind: str
    up: bool
    operstate: str
    mac: str = ""
    addresses: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        # sysfs flags hold the administrative state only; operstate says whether it carries traffic
        # ("unknown" for devices without carrier reporting, such as the loopback).
        if not self.up:
            return "down"
        return "up" if self.operstate in ("up", "unknown", "") else f"up, {self.operstate}"


def _read_sys(name: str, attribute: str) -> str:
    try:
        with open(os.path.join(SYS_NET, name, attribute), encoding="ascii", errors="replace") as file:
            return file.read().strip()
    except OSError:
        return ""


def interface_names() -> list[str]:
    """Names of this network namespace's interfaces, by index."""
    try:
        return [name for _index, name in sorted(socket.if_nameindex())]
    except OSError:
        return sorted(os.listdir(SYS_NET)) if os.path.isdir(SYS_NET) else []


def interface_type(name: str) -> int:
    """The ARPHRD_* hardware type of an interface (-1 when unknown)."""
    text = _read_sys(name, "type")
    return int(text) if text.isdigit() else -1


def interface_flags(name: str) -> int:
    text = _read_sys(name, "flags")
    try:
        return int(text, 16)
    except ValueError:
        return 0


def _parse_addresses(message: bytes, found: dict[int, list[str]]) -> None:
    family, prefix, _flags, _scope, index = _IFADDRMSG.unpack_from(message)
    at = _IFADDRMSG.size
    values: dict[int, bytes] = {}
    while at + _RTATTR.size <= len(message):
        length, kind = _RTATTR.unpack_from(message, at)
        if length < _RTATTR.size:
            break
        values[kind] = message[at + _RTATTR.size : at + length]
        at += (length + 3) & ~3
    raw = values.get(IFA_LOCAL) or values.get(IFA_ADDRESS)
    if raw is None or family not in (socket.AF_INET, socket.AF_INET6):
        return
    address = ipaddress.ip_address(raw)
    found.setdefault(index, []).append(f"{address}/{prefix}")


def interface_addresses() -> dict[int, list[str]]:
    """Interface index -> its IPv4 and IPv6 addresses with prefix length ("10.66.0.1/24")."""
    found: dict[int, list[str]] = {}
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    except OSError:
        return found
    with sock:
        sock.settimeout(2.0)
        request = _IFADDRMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        header = _NLMSGHDR.pack(_NLMSGHDR.size + len(request), RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
        try:
            sock.send(header + request)
            while True:
                chunk = sock.recv(65536)
                at = 0
                while at + _NLMSGHDR.size <= len(chunk):
                    length, kind, _flags, _seq, _pid = _NLMSGHDR.unpack_from(chunk, at)
                    if kind in (NLMSG_DONE, NLMSG_ERROR) or length < _NLMSGHDR.size:
                        return found
                    if kind == RTM_NEWADDR:
                        _parse_addresses(chunk[at + _NLMSGHDR.size : at + length], found)
                    at += (length + 3) & ~3
                if not chunk:
                    return found
        except (OSError, ValueError, struct.error):
            return found


def list_interfaces() -> list[Interface]:
    """Every interface of this namespace, by index, with its state and addresses."""
    addresses = interface_addresses()
    result = []
    for index, name in sorted(socket.if_nameindex()):
        flags = interface_flags(name)
        hardware = interface_type(name)
        kind = "Loopback" if flags & IFF_LOOPBACK else _KINDS.get(hardware, f"ARPHRD {hardware}")
        mac = _read_sys(name, "address") if hardware == 1 else ""
        result.append(
            Interface(
                index,
                name,
                kind,
                bool(flags & IFF_UP),
                _read_sys(name, "operstate"),
                mac,
                addresses.get(index, []),
            )
        )
    return result
