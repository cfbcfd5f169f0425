"""`layerscope report -r FILE -o OUT.html|OUT.md|OUT.json [-Y FILTER] [--stream N]...`: one report."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os

from analyzer.commands.common import EXIT_INPUT, EXIT_OK, Streams, UsageError
from analyzer.commands.flows import compile_option
from analyzer.export.atomic import atomic_text
from analyzer.report.html import render_html
from analyzer.report.markdown import render_markdown
from analyzer.report.model import Report, build_report
from analyzer.report.progress import file_progress
from captures.pcapfile import CaptureError, open_capture

NAME = "report"
FORMATS = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown", ".json": "json"}


def _stream_number(text: str) -> int:
    try:
        number = int(text, 10)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f'the stream number "{text}" is not a number 0 or above')
    return number


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        NAME,
        help="write an HTML, Markdown or JSON report of a capture",
        description=(
            "Capture summary, protocol hierarchy, findings, conversations, DNS, DHCP, HTTP, charts, "
            "and ladder diagrams with packet trees for the selected TCP streams. The format "
            "follows the output file's extension (.html, .md, .json) unless --format says otherwise."
        ),
    )
    parser.add_argument("-r", dest="file", metavar="FILE", required=True, help="capture file (- is stdin)")
    parser.add_argument("-o", dest="output", metavar="OUT", required=True, help="report file to write")
    parser.add_argument(
        "-Y", dest="filter", metavar="FILTER", help="display filter: only matching packets count"
    )
    parser.add_argument(
        "--stream",
        dest="streams",
        metavar="N",
        type=_stream_number,
        action="append",
        default=[],
        help="show TCP stream N in full (ladder, trees, hex); repeatable",
    )
    parser.add_argument("--format", dest="format", choices=("html", "markdown", "json"), help="output format")
    parser.set_defaults(run=run)


def output_format(path: str, chosen: str | None) -> str:
    if chosen is not None:
        return chosen
    found = FORMATS.get(os.path.splitext(path)[1].lower())
    if found is None:
        raise UsageError(f'"{path}": name the report .html, .md or .json, or give --format')
    return found


def render(report: Report, fmt: str) -> str:
    if fmt == "html":
        return render_html(report)
    if fmt == "markdown":
        return render_markdown(report)
    return json.dumps(dataclasses.asdict(report), indent=2, ensure_ascii=True) + "\n"


def run(args: argparse.Namespace, streams: Streams) -> int:
    """Write the report; 0, 1 for usage errors, 2 for an unreadable capture or a bad filter."""
    fmt = output_format(args.output, args.format)
    display_filter = compile_option(args.filter, streams)
    if isinstance(display_filter, int):
        return display_filter
    try:
        reader = open_capture(args.file)
    except (CaptureError, OSError, EOFError) as bad:
        streams.warn(str(bad))
        return EXIT_INPUT
    with reader, file_progress(args.file, streams.err, "report") as progress:
        report = build_report(
            reader, args.file, display_filter, args.filter, args.streams, streams.strict, progress
        )
    try:
        with atomic_text(args.output) as out:
            out.write(render(report, fmt))
    except OSError as bad:
        streams.warn(f'"{args.output}": {bad.strerror or bad}')
        return EXIT_INPUT
    for warning in report.warnings:
        streams.warn(warning)
    return EXIT_INPUT if report.warnings else EXIT_OK
