"""Render many PDFs at once in a pool of long-lived worker processes.

Workers start with ``forkserver`` (or ``spawn`` where that is missing), never ``fork``:
a forked copy of a Flask process inherits its threads' locks, open database connections
and SMTP sockets. Each worker imports WeasyPrint once and renders a tiny warm-up page, so
the per-letter cost is layout alone.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

Job = tuple[str, Mapping[str, Any]]
_JOB_KEYS = frozenset({"html", "title", "author", "lang", "base_url"})


def _start_method() -> str:
    methods = multiprocessing.get_all_start_methods()
    return "forkserver" if "forkserver" in methods else "spawn"


def _init_worker() -> None:
    """Load WeasyPrint and the fonts before the first job arrives."""
    from recruit.reports.render import render_pdf

    render_pdf("<p style=\"font-family: 'DejaVu Sans'\">Ж</p>", title="warm-up")


def _render_job(task: tuple[str, dict[str, Any]]) -> str:
    target, params = task
    from recruit.reports.render import render_pdf

    path = Path(target)
    try:
        pdf = render_pdf(params["html"], **{k: v for k, v in params.items() if k != "html"})
    except Exception as exc:
        # Only the message crosses the process boundary; name the file it belongs to.
        raise RuntimeError(f"rendering {path.name} failed: {type(exc).__name__}: {exc}") from None
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    partial.write_bytes(pdf)
    partial.replace(path)
    return target


def _check_job(name: str, params: Mapping[str, Any]) -> None:
    if not name or name in {".", ".."} or Path(name).name != name or "\\" in name:
        raise ValueError(f"file name must be a bare name, not a path: {name!r}")
    if "html" not in params or "title" not in params:
        raise ValueError(f"job {name!r} needs 'html' and 'title'")
    if unknown := set(params) - _JOB_KEYS:
        raise ValueError(f"job {name!r} has unknown keys: {sorted(unknown)}")


class LetterRenderer:
    """A pool of PDF-rendering processes; use it as a context manager."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = processes or os.cpu_count() or 1
        self._pool: Any = None

    def __enter__(self) -> LetterRenderer:
        context = multiprocessing.get_context(_start_method())
        self._pool = context.Pool(self.processes, initializer=_init_worker)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._pool is None:
            return
        if exc_type is None:
            self._pool.close()
        else:
            self._pool.terminate()
        self._pool.join()
        self._pool = None

    def render_many(
        self,
        jobs: Iterable[Job],
        *,
        out_dir: Path,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> list[Path]:
        """Write one PDF per ``(file_name, params)`` job into ``out_dir``; return the paths.

        ``params`` holds ``html`` and ``title`` and optionally ``author``, ``lang`` and
        ``base_url`` (the keyword arguments of ``render_pdf``). Paths come back in job
        order; ``on_progress(done, total)`` is called as each file is written.
        """
        out_dir = Path(out_dir)
        tasks = []
        for name, params in jobs:
            _check_job(name, params)
            tasks.append((str(out_dir / name), dict(params)))
        if len({target for target, _ in tasks}) != len(tasks):
            raise ValueError("two jobs share a file name")
        if self._pool is None:
            raise RuntimeError("LetterRenderer must be entered with 'with' before use")
        out_dir.mkdir(parents=True, exist_ok=True)
        total = len(tasks)
        for done, _ in enumerate(self._pool.imap_unordered(_render_job, tasks), start=1):
            if on_progress is not None:
                on_progress(done, total)
        return [Path(target) for target, _ in tasks]
