"""Atomic file output: write to a temporary file beside the target, then rename it into place.

An export that is interrupted (Ctrl-C, a full disk, a bug) never leaves a half-written file
under the final name: the temporary file is removed and any older file of that name survives.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from os import PathLike
from typing import BinaryIO, TextIO


@contextlib.contextmanager
def atomic_binary(path: str | PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file that appears at `path` only when the `with` block ends without an error."""
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    handle, temporary = tempfile.mkstemp(prefix=".layerscope-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def atomic_text(path: str | PathLike[str]) -> Iterator[TextIO]:
    """Like `atomic_binary`, for UTF-8 text with "\\n" line ends."""
    with atomic_binary(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
        try:
            yield text
            text.flush()
        finally:
            text.detach()  # the binary file is closed (and renamed) by atomic_binary
