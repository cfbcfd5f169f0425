"""`layerscope interfaces`: the interfaces a capture can use, like `tshark -D`, with state and addresses."""

from __future__ import annotations

import argparse

from analyzer.commands.common import EXIT_OK, Streams
from analyzer.textsafe import escape_lines
from captures.interfaces import ANY, list_interfaces

NAME = "interfaces"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        NAME,
        help="list capture interfaces with their state and addresses (like tshark -D)",
        description="List the interfaces `layerscope capture -i` accepts, numbered as tshark -D does.",
    )
    parser.set_defaults(run=run)


def interface_lines() -> list[str]:
    """`1. eth0 (Ethernet, up) 02:fc:00:00:00:01 192.0.2.2/24 fe80::1/64`, then the "any" device."""
    lines = []
    interfaces = list_interfaces()
    for number, interface in enumerate(interfaces, 1):
        words = [f"{number}. {interface.name} ({interface.kind}, {interface.state})"]
        if interface.mac:
            words.append(interface.mac)
        words.extend(interface.addresses)
        lines.append(" ".join(words))
    lines.append(f"{len(interfaces) + 1}. {ANY} (Pseudo-device that captures on all interfaces)")
    return lines


def run(args: argparse.Namespace, streams: Streams) -> int:
    for line in interface_lines():
        # Interface names are chosen by whoever created them: escape as any outside text.
        streams.out.write(escape_lines(line) + "\n")
    return EXIT_OK
