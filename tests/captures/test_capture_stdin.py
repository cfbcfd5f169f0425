"""Standard input and pipes are read incrementally: a frame is yielded as soon as it is complete."""

from __future__ import annotations

import gzip
import os
import select
import subprocess
import sys
import threading

from captures.pcapfile import open_stream

PACKET = bytes(range(60))
CHILD = """
import sys
from captures.pcapfile import open_capture
with open_capture("-") as reader:
    for frame in reader:
        print(frame.number, len(frame.data), flush=True)
    print("warnings", len(reader.warnings), flush=True)
"""


def read_line(stream, timeout: float) -> str:
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, "no output within the timeout: the reader waited for the end of stdin"
    return stream.readline().decode().strip()


def test_stdin_yields_before_the_writer_finishes(build) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        child.stdin.write(build.pcap_header() + build.pcap_record(1, 0, PACKET))
        child.stdin.flush()
        # The pipe is still open: frame 1 must come out now, not at EOF.
        assert read_line(child.stdout, 20) == "1 60"
        child.stdin.write(build.pcap_record(2, 0, PACKET[:30]))
        child.stdin.close()
        assert read_line(child.stdout, 20) == "2 30"
        assert read_line(child.stdout, 20) == "warnings 0"
    finally:
        child.kill()
        child.wait()


def test_pipe_record_split_across_writes(build) -> None:
    read_fd, write_fd = os.pipe()
    got_first = threading.Event()
    content = build.pcap_header() + build.pcap_record(1, 0, PACKET) + build.pcap_record(2, 0, PACKET)
    first_end = 24 + 16 + 60

    def writer() -> None:
        with os.fdopen(write_fd, "wb", buffering=0) as out:
            for index in range(first_end):  # one byte at a time
                out.write(content[index : index + 1])
            got_first.wait(20)
            out.write(content[first_end:])

    thread = threading.Thread(target=writer)
    thread.start()
    with os.fdopen(read_fd, "rb") as stream, open_stream(stream, "pipe") as reader:
        numbers = []
        for frame in reader:
            numbers.append(frame.number)
            assert frame.data == PACKET
            got_first.set()
        assert reader.warnings == []
    thread.join()
    assert numbers == [1, 2]


def test_gzip_on_stdin(build) -> None:
    content = gzip.compress(build.pcap_header() + build.pcap_record(1, 0, PACKET))
    result = subprocess.run([sys.executable, "-c", CHILD], input=content, capture_output=True, check=True)
    assert result.stdout.decode().split("\n")[:2] == ["1 60", "warnings 0"]


def test_empty_stdin_is_an_error() -> None:
    code = "from captures.pcapfile import open_capture, CaptureError\n"
    code += "try: open_capture('-')\nexcept CaptureError as e: print(e)"
    result = subprocess.run([sys.executable, "-c", code], input=b"", capture_output=True, check=True)
    assert result.stdout.decode().strip() == "-: the capture file is empty"
