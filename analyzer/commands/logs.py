"""`layerscope logs -r FILE -o DIR [--format tsv|json|parquet]`: Zeek's conn, dns, http and dhcp logs."""

from __future__ import annotations

import argparse
import importlib
import os
from typing import Any

from analyzer.commands.common import EXIT_INPUT, EXIT_OK, EXIT_USAGE, Streams
from analyzer.commands.flows import compile_option
from analyzer.export.atomic import atomic_binary, atomic_text
from analyzer.export.zeek import (
    ZeekLog,
    arrow_type_names,
    build_logs,
    rows_as_columns,
    write_json_lines,
    write_tsv,
)
from analyzer.report.model import build_report
from analyzer.report.progress import file_progress
from captures.pcapfile import CaptureError, open_capture

NAME = "logs"
FORMATS = ("tsv", "json", "parquet")
SUFFIX = {"tsv": ".log", "json": ".log", "parquet": ".parquet"}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        NAME,
        help="write Zeek-style conn, dns, http and dhcp logs",
        description="conn.log, dns.log, http.log and dhcp.log with Zeek's field names, types and meanings.",
    )
    parser.add_argument("-r", dest="file", metavar="FILE", required=True, help="capture file (- is stdin)")
    parser.add_argument("-o", dest="directory", metavar="DIR", required=True, help="directory for the logs")
    parser.add_argument(
        "-Y", dest="filter", metavar="FILTER", help="display filter: only matching packets count"
    )
    parser.add_argument("--format", dest="format", choices=FORMATS, default="tsv", help="log format")
    parser.set_defaults(run=run)


def _pyarrow() -> Any | None:
    try:
        return importlib.import_module("pyarrow")
    except ImportError:
        return None


def _write_parquet(log: ZeekLog, path: str, pa: Any) -> None:
    parquet = importlib.import_module("pyarrow.parquet")
    types = {
        "float64": pa.float64(),
        "uint64": pa.uint64(),
        "uint16": pa.uint16(),
        "bool": pa.bool_(),
        "string": pa.string(),
        "list<string>": pa.list_(pa.string()),
        "list<float64>": pa.list_(pa.float64()),
    }
    names = arrow_type_names(log.columns)
    data = rows_as_columns(log)
    schema = pa.schema([(name, types[names[name]]) for name, _ in log.columns])
    table = pa.table(
        {name: pa.array(data[name], type=schema.field(name).type) for name in data}, schema=schema
    )
    with atomic_binary(path) as out:
        parquet.write_table(table, out)


def run(args: argparse.Namespace, streams: Streams) -> int:
    """Write the four logs; 1 when Parquet is asked for without pyarrow, 2 for input problems."""
    pa = None
    if args.format == "parquet":
        pa = _pyarrow()
        if pa is None:
            streams.warn("--format parquet needs pyarrow, which is not installed (pip install pyarrow)")
            return EXIT_USAGE
    display_filter = compile_option(args.filter, streams)
    if isinstance(display_filter, int):
        return display_filter
    try:
        reader = open_capture(args.file)
    except (CaptureError, OSError, EOFError) as bad:
        streams.warn(str(bad))
        return EXIT_INPUT
    with reader, file_progress(args.file, streams.err, "logs") as progress:
        report = build_report(reader, args.file, display_filter, args.filter, (), streams.strict, progress)
    try:
        os.makedirs(args.directory, exist_ok=True)
        for log in build_logs(report):
            path = os.path.join(args.directory, log.path + SUFFIX[args.format])
            if pa is not None:
                _write_parquet(log, path, pa)
                continue
            with atomic_text(path) as out:
                if args.format == "json":
                    write_json_lines(log, out)
                else:
                    write_tsv(log, out)
    except OSError as bad:
        streams.warn(f'"{args.directory}": {bad.strerror or bad}')
        return EXIT_INPUT
    for warning in report.warnings:
        streams.warn(warning)
    return EXIT_INPUT if report.warnings else EXIT_OK
