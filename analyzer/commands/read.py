"""`layerscope read -r FILE`: a capture file as tshark -r prints it (summary, -V, -x, fields, JSON)."""

from __future__ import annotations

import argparse
import itertools
import re
from collections.abc import Iterable, Iterator
from typing import TextIO, cast

from analyzer.commands.common import EXIT_INPUT, EXIT_OK, EscapingWriter, Streams, UsageError
from analyzer.context import FrameTimes, Preferences
from analyzer.export.fields import (
    FieldsOptionError,
    FieldsOptions,
    fields_header,
    fields_row,
    parse_fields_option,
)
from analyzer.export.hexdump import hexdump
from analyzer.export.jsonout import write_json, write_jsonl
from analyzer.export.text import tree_lines
from analyzer.model import Dissection
from analyzer.pipeline import default_registry, dissect_frame
from analyzer.registry import DecodeAsError, Registry
from analyzer.summary import write_summary_lines
from captures.frame import Frame
from captures.pcapfile import CaptureError, CaptureReader, iter_records, open_capture

NAME = "read"
TIME_FORMATS = ("r", "a", "ad", "d", "dd", "e", "u", "ud")
OUTPUT_FORMATS = ("text", "fields", "json", "jsonl")
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
    parser.add_argument("-r", dest="file", metavar="FILE", required=True, help="capture file (- is stdin)")
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
    parser.set_defaults(run=run)


def _fields_options(args: argparse.Namespace) -> FieldsOptions:
    if args.output == "fields" and not args.fields:
        raise UsageError('"-T fields" was specified, but no fields were specified with "-e".')
    if args.fields and args.output not in ("fields", "json", "jsonl"):
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


def _dissections(
    frames: Iterable[Frame], registry: Registry | None, prefs: Preferences, strict: bool
) -> Iterator[Dissection]:
    """Dissect in order with tshark's time references (first frame, previous frame)."""
    first_ns: int | None = None
    previous_ns: int | None = None
    for frame in frames:
        if first_ns is None:
            first_ns = frame.timestamp_ns
        previous = previous_ns if previous_ns is not None else frame.timestamp_ns
        previous_ns = frame.timestamp_ns
        times = FrameTimes(first_ns, previous, previous)
        yield dissect_frame(frame, registry, times=times, prefs=prefs, strict=strict)


def _write_summary(args: argparse.Namespace, reader: CaptureReader, streams: Streams) -> None:
    # Records come from our own reader so that its warnings (a file cut short) stay ours to
    # report; the summary module formats, and its lines are escaped on the way out.
    # The writer implements the part of TextIO that write_summary_lines uses (write, flush).
    out = cast(TextIO, EscapingWriter(streams.out))
    write_summary_lines(iter_records(reader), out, args.time_format, args.count, not args.no_resolve)


def _write_text(args: argparse.Namespace, dissections: Iterator[Dissection], streams: Streams) -> None:
    out = streams.out
    for dissection in dissections:
        out.write("".join(f"{line}\n" for line in tree_lines(dissection, data_hex=not args.hex)))
        out.write("\n")
        if args.hex:
            out.write(hexdump(dissection.frame.data))
            out.write("\n")


def _write_hex(frames: Iterator[Frame], streams: Streams) -> None:
    for frame in frames:
        streams.out.write(hexdump(frame.data))
        streams.out.write("\n")


def _write_fields(
    args: argparse.Namespace, options: FieldsOptions, dissections: Iterator[Dissection], streams: Streams
) -> None:
    if options.header:
        streams.out.write(fields_header(args.fields, options) + "\n")
    for dissection in dissections:
        streams.out.write(fields_row(dissection, args.fields, options) + "\n")


def _write(args: argparse.Namespace, reader: CaptureReader, streams: Streams) -> None:
    """Dispatch on the output format: summary lines, -V/-x text, fields, JSON."""
    options = _fields_options(args)
    if args.output == "text" and not (args.verbose or args.hex):
        _write_summary(args, reader, streams)
        return
    frames = _frames(reader, args.count)
    if args.output == "text" and not args.verbose:
        _write_hex(frames, streams)  # -x alone needs no dissection
        return
    prefs = Preferences(resolve_names=not args.no_resolve)
    dissections = _dissections(frames, _registry(args.decode_as), prefs, streams.strict)
    only = args.fields or None
    if args.output == "fields":
        _write_fields(args, options, dissections, streams)
    elif args.output == "json":
        write_json(dissections, streams.out, only)
    elif args.output == "jsonl":
        write_jsonl(dissections, streams.out, only)
    else:
        _write_text(args, dissections, streams)


def run(args: argparse.Namespace, streams: Streams) -> int:
    """Write the capture in the chosen format; tshark's exit status (0, 1 usage, 2 input)."""
    # Usage errors first, before touching the file, as tshark does.
    _fields_options(args)
    _registry(args.decode_as)
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
