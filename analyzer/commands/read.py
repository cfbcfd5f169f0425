"""`layerscope read -r FILE`: a capture file as tshark -r prints it (summary, -V, -x, fields, JSON).

`-Y FILTER` keeps the frames a Wireshark display filter accepts; `-w OUT [-F pcap|pcapng]` writes
the (matching) frames unchanged to a capture file instead of printing them.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator

from analyzer.commands.common import EXIT_INPUT, EXIT_OK, Streams, UsageError
from analyzer.context import Preferences
from analyzer.export.atomic import atomic_binary
from analyzer.export.csvout import write_fields_csv, write_summary_csv
from analyzer.export.fields import (
    FieldsOptionError,
    FieldsOptions,
    fields_header,
    fields_row,
    parse_fields_option,
)
from analyzer.export.hexdump import dissection_hexdump
from analyzer.export.jsonout import write_json, write_jsonl
from analyzer.export.text import tree_lines
from analyzer.filter import DisplayFilter, FilterError, compile_filter
from analyzer.filter.apply import displayed, select_frames, write_filtered_summary
from analyzer.model import Dissection
from analyzer.pipeline import default_registry
from analyzer.prefs import PreferenceError, apply_settings
from analyzer.registry import DecodeAsError, Registry
from analyzer.session import dissect_frames
from analyzer.summary import write_summary_lines
from analyzer.textsafe import escape_lines
from captures.frame import Frame
from captures.pcapfile import (
    CaptureError,
    CaptureReader,
    iter_records,
    open_capture,
    write_pcap,
    write_pcapng,
)
from captures.samples import sample_path

NAME = "read"
TIME_FORMATS = ("r", "a", "ad", "d", "dd", "e", "u", "ud")
OUTPUT_FORMATS = ("text", "fields", "json", "jsonl", "csv")
WRITE_FORMATS = ("pcapng", "pcap")
# Display-filter field names: letters, digits, '_', '-' and '.'.
FIELD_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*\Z")


def _packet_count(text: str) -> int:
    try:
        count = int(text, 10)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f'the packet count "{text}" is not a positive number')
    return count


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        NAME,
        help="print the packets of a capture file, like tshark -r",
        description="Print the packets of a capture file with tshark's options and output formats.",
    )
    parser.add_argument(
        "-r",
        dest="file",
        metavar="FILE",
        help="capture file (- is stdin); without -r, the sample capture bundled with Layerscope",
    )
    parser.add_argument("-c", dest="count", metavar="N", type=_packet_count, help="stop after N packets")
    parser.add_argument("-V", dest="verbose", action="store_true", help="print the full packet tree")
    parser.add_argument("-x", dest="hex", action="store_true", help="print packet bytes in hex and ASCII")
    parser.add_argument("-n", dest="no_resolve", action="store_true", help="disable name resolution")
    parser.add_argument(
        "-d",
        dest="decode_as",
        metavar="TABLE==VALUE,PROTO",
        action="append",
        default=[],
        help="decode traffic matching a table entry as PROTO, e.g. tcp.port==8888,http",
    )
    parser.add_argument(
        "-t", dest="time_format", choices=TIME_FORMATS, default="r", help="time format of summary lines"
    )
    parser.add_argument("-T", dest="output", choices=OUTPUT_FORMATS, default="text", help="output format")
    parser.add_argument("-e", dest="fields", metavar="FIELD", action="append", default=[], help="field")
    parser.add_argument(
        "-E",
        dest="field_options",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="fields output: header=y|n separator=/t|/s|C occurrence=f|l|a|N aggregator=C quote=d|s|n",
    )
    parser.add_argument("-Y", dest="display_filter", metavar="FILTER", help="Wireshark display filter")
    parser.add_argument("-w", dest="write", metavar="OUTFILE", help="write the (matching) packets to OUTFILE")
    parser.add_argument(
        "-F", dest="write_format", choices=WRITE_FORMATS, default="pcapng", help="file format for -w"
    )
    parser.add_argument(
        "-o",
        dest="preferences",
        metavar="NAME:VALUE",
        action="append",
        default=[],
        help="set a preference as tshark does, e.g. tcp.desegment_tcp_streams:TRUE, ip.defragment:TRUE",
    )
    parser.set_defaults(run=run)


def _preferences(args: argparse.Namespace) -> Preferences:
    """Name resolution from -n and the -o settings; a bad setting is a usage error."""
    try:
        return apply_settings(Preferences(resolve_names=not args.no_resolve), args.preferences)
    except PreferenceError as bad:
        raise UsageError(str(bad)) from None


def _fields_options(args: argparse.Namespace) -> FieldsOptions:
    if args.output == "fields" and not args.fields:
        raise UsageError('"-T fields" was specified, but no fields were specified with "-e".')
    if args.fields and args.output not in ("fields", "json", "jsonl", "csv"):
        raise UsageError('Output fields were specified with "-e", but "-T fields", "json" or "jsonl" was not')
    invalid = [name for name in args.fields if not FIELD_NAME.match(name)]
    if invalid:
        raise UsageError(f"Some fields aren't valid: {', '.join(invalid)}")
    options = FieldsOptions()
    for spec in args.field_options:
        try:
            options = parse_fields_option(spec, options)
        except FieldsOptionError as bad:
            raise UsageError(str(bad)) from None
    return options


def _registry(specs: list[str]) -> Registry | None:
    if not specs:
        return None
    try:
        return default_registry().with_decode_as(specs)
    except DecodeAsError as bad:
        raise UsageError(str(bad)) from None


def _frames(reader: CaptureReader, limit: int | None) -> Iterator[Frame]:
    frames: Iterable[Frame] = reader
    return iter(itertools.islice(frames, limit)) if limit is not None else iter(frames)


def _write_summary(args: argparse.Namespace, reader: CaptureReader, streams: Streams) -> None:
    # Records come from our own reader so that its warnings (a file cut short) stay ours to
    # report; the summary module formats, and escapes every line that holds packet text
    # (escaping all 25 MB of a 250k-packet listing would cost a sixth of the run).
    records = iter_records(reader)
    # A pipe may be written by a live capture (tcpdump -U -w - | layerscope read -r -): each
    # line goes out as its packet arrives instead of in batches.
    prompt = args.file == "-" and _stdin_is_stream()
    prefs = _preferences(args)
    write_summary_lines(
        records,
        streams.out,
        args.time_format,
        args.count,
        not args.no_resolve,
        escape_lines,
        prompt,
        prefs,
    )


def _stdin_is_stream() -> bool:
    try:
        return not stat.S_ISREG(os.fstat(sys.stdin.fileno()).st_mode)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False


def _write_text(args: argparse.Namespace, dissections: Iterator[Dissection], streams: Streams) -> None:
    out = streams.out
    for dissection in dissections:
        out.write("".join(f"{line}\n" for line in tree_lines(dissection, data_hex=not args.hex)))
        out.write("\n")
        if args.hex:
            out.write(dissection_hexdump(dissection))
            out.write("\n")


def _write_hex(dissections: Iterator[Dissection], streams: Streams) -> None:
    """`-x` alone: each frame's bytes and the bytes reassembled or decoded from it, so the frames
    are dissected (as tshark does) to find those."""
    for dissection in dissections:
        streams.out.write(dissection_hexdump(dissection))
        streams.out.write("\n")


def _write_fields(
    args: argparse.Namespace, options: FieldsOptions, dissections: Iterator[Dissection], streams: Streams
) -> None:
    if options.header:
        streams.out.write(fields_header(args.fields, options) + "\n")
    for dissection in dissections:
        streams.out.write(fields_row(dissection, args.fields, options) + "\n")


def _write_filtered(
    args: argparse.Namespace, reader: CaptureReader, streams: Streams, display_filter: DisplayFilter
) -> None:
    """The output formats for the frames a display filter accepts (every frame is still read)."""
    options = _fields_options(args)
    frames = _frames(reader, args.count)
    prefs = _preferences(args)
    registry = _registry(args.decode_as)
    want_tree = args.output != "text" or args.verbose or args.hex
    selection = select_frames(frames, display_filter, registry, prefs, streams.strict, want_tree)
    if args.output == "csv" and not args.fields:
        items = ((item.frame, item.shown) for item in selection)
        write_summary_csv(items, streams.out, args.time_format, not args.no_resolve, prefs)
        return
    if args.output == "text" and not (args.verbose or args.hex):
        write_filtered_summary(selection, streams.out, args.time_format, not args.no_resolve, prefs)
        return
    if args.output == "text" and not args.verbose:
        _write_hex((item.dissection for item in displayed(selection) if item.dissection is not None), streams)
        return
    dissections = (item.dissection for item in displayed(selection) if item.dissection is not None)
    only = args.fields or None
    if args.output == "fields":
        _write_fields(args, options, dissections, streams)
    elif args.output == "csv":
        write_fields_csv(dissections, args.fields, streams.out)
    elif args.output == "json":
        write_json(dissections, streams.out, only)
    elif args.output == "jsonl":
        write_jsonl(dissections, streams.out, only)
    else:
        _write_text(args, dissections, streams)


def _write_capture(
    args: argparse.Namespace, reader: CaptureReader, display_filter: DisplayFilter | None, streams: Streams
) -> None:
    """-w: the matching frames, bytes and timestamps unchanged, as pcap or pcapng."""
    frames = _frames(reader, args.count)
    if display_filter is not None:
        prefs = _preferences(args)
        selection = select_frames(frames, display_filter, _registry(args.decode_as), prefs, streams.strict)
        frames = (item.frame for item in displayed(selection))
    if args.write_format == "pcapng":
        with atomic_binary(args.write) as out:
            write_pcapng(out, frames)
        return
    interfaces = reader.info.interfaces
    linktypes = {interface.linktype for interface in interfaces}
    if len(linktypes) > 1:
        raise UsageError(
            f'"{args.write}": the capture file being written can\'t contain packets of multiple link types'
        )
    nanosecond = any(interface.ts_digits > 6 for interface in interfaces)
    with atomic_binary(args.write) as out:
        write_pcap(out, frames, interfaces[0].linktype if interfaces else 1, nanosecond)


def _write(args: argparse.Namespace, reader: CaptureReader, streams: Streams) -> None:
    """Dispatch on the output format: summary lines, -V/-x text, fields, JSON."""
    display_filter = _display_filter(args)
    if args.write:
        _write_capture(args, reader, display_filter, streams)
        return
    if display_filter is not None:
        _write_filtered(args, reader, streams, display_filter)
        return
    options = _fields_options(args)
    if args.output == "text" and not (args.verbose or args.hex):
        _write_summary(args, reader, streams)
        return
    if args.output == "csv" and not args.fields:
        items = ((frame, True) for frame in _frames(reader, args.count))
        write_summary_csv(items, streams.out, args.time_format, not args.no_resolve, _preferences(args))
        return
    frames = _frames(reader, args.count)
    prefs = _preferences(args)
    dissections = dissect_frames(frames, _registry(args.decode_as), prefs, streams.strict)
    if args.output == "text" and not args.verbose:
        _write_hex(dissections, streams)
        return
    only = args.fields or None
    if args.output == "fields":
        _write_fields(args, options, dissections, streams)
    elif args.output == "csv":
        write_fields_csv(dissections, args.fields, streams.out)
    elif args.output == "json":
        write_json(dissections, streams.out, only)
    elif args.output == "jsonl":
        write_jsonl(dissections, streams.out, only)
    else:
        _write_text(args, dissections, streams)


def _display_filter(args: argparse.Namespace) -> DisplayFilter | None:
    if args.display_filter is None:
        return None
    return compile_filter(args.display_filter)


def run(args: argparse.Namespace, streams: Streams) -> int:
    """Write the capture in the chosen format; tshark's exit status (0, 1 usage, 2 input or filter)."""
    # Usage errors first, before touching the file, as tshark does.
    _fields_options(args)
    _registry(args.decode_as)
    _preferences(args)
    try:
        _display_filter(args)
    except FilterError as bad:
        streams.warn(f"invalid display filter: {bad.one_line()}")
        return EXIT_INPUT
    if args.file is None:
        args.file = str(sample_path())
        streams.warn(f"no -r given: reading the bundled sample capture {args.file}")
    try:
        reader = open_capture(args.file)
    except (CaptureError, OSError, EOFError) as bad:
        streams.warn(str(bad))
        return EXIT_INPUT
    with reader:
        _write(args, reader, streams)
        streams.out.flush()
        warnings = list(reader.warnings)
    for warning in warnings:
        streams.warn(warning)
    return EXIT_INPUT if warnings else EXIT_OK
