"""A progress bar for long exports: rich on a terminal, nothing at all in a pipe."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


@contextlib.contextmanager
def file_progress(path: str, err: TextIO, label: str) -> Iterator[Callable[[int], None]]:
    """Yields a hook taking the current frame number; shows a bar over the file's size on a tty.

    The bar measures frames against an estimate (file size / 100 bytes per frame, growing as
    needed), since the frame count is only known at the end.
    """
    interactive = hasattr(err, "isatty") and err.isatty()
    if not interactive:
        yield lambda _number: None
        return
    try:
        size = os.path.getsize(path)
    except OSError:
        size = 0
    estimate = max(size // 100, 1)
    console = Console(file=err)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed} frames"))
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(label, total=estimate)

        def hook(number: int) -> None:
            if number % 500 == 0:
                bar.update(task, completed=number, total=max(estimate, number + 1))

        yield hook
