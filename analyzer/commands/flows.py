"""`layerscope flows -r FILE [-Y FILTER] [-T table|json|csv]`: one row per TCP/UDP conversation."""

from __future__ import annotations

import argparse

from analyzer.commands.common import EXIT_INPUT, EXIT_OK, Streams
from analyzer.export.flows import flow_rows, write_csv, write_json, write_table
from analyzer.export.flows_facts import iter_facts, iter_filtered_facts
from analyzer.filter import DisplayFilter, FilterError, compile_filter
from captures.pcapfile import CaptureError, open_capture

NAME = "flows"
OUTPUT_FORMATS = ("table", "json", "csv")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        NAME,
        help="list TCP and UDP conversations (Zeek conn.log columns)",
        description=(
            "One row per TCP and UDP conversation: endpoints, Zeek's conn_state and history, "
            "packets and payload bytes each way, handshake RTT, retransmissions, Community ID."
        ),
    )
    parser.add_argument("-r", dest="file", metavar="FILE", required=True, help="capture file (- is stdin)")
    parser.add_argument(
        "-Y", dest="filter", metavar="FILTER", help="display filter: only matching packets are counted"
    )
    parser.add_argument("-T", dest="output", choices=OUTPUT_FORMATS, default="table", help="output format")
    parser.set_defaults(run=run)


def compile_option(text: str | None, streams: Streams) -> DisplayFilter | int | None:
    """The compiled -Y filter, None without one, or the exit status after reporting a bad one."""
    if text is None:
        return None
    try:
        return compile_filter(text)
    except FilterError as bad:
        streams.warn(f"{bad.one_line()}\n    {text}\n    {bad.caret_line()}")
        return EXIT_INPUT


def run(args: argparse.Namespace, streams: Streams) -> int:
    """Print the conversations; 0, or 2 for an unreadable capture or a bad filter (as tshark)."""
    display_filter = compile_option(args.filter, streams)
    if isinstance(display_filter, int):
        return display_filter
    try:
        reader = open_capture(args.file)
    except (CaptureError, OSError, EOFError) as bad:
        streams.warn(str(bad))
        return EXIT_INPUT
    with reader:
        if display_filter is None:
            rows = flow_rows(iter_facts(reader.records(), streams.strict))
        else:
            packets = iter_filtered_facts(iter(reader), display_filter.matches, streams.strict)
            rows = flow_rows(packets, filtered=True)
        warnings = list(reader.warnings)
    if args.output == "json":
        write_json(rows, streams.out)
    elif args.output == "csv":
        write_csv(rows, streams.out)
    else:
        write_table(rows, streams.out)
    streams.out.flush()
    for warning in warnings:
        streams.warn(warning)
    return EXIT_INPUT if warnings else EXIT_OK
