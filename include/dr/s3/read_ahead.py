"""Reading a paged listing ahead, in a thread, through a bounded queue.

A listing is a chain of requests, each waiting on the one before (S3 hands out a
continuation token per page). Read in the thread that also diffs, the source and
the DR bucket are listed one after the other, and no page is in flight while the
last one is being parsed and merged. Here each listing has a thread of its own
that stays at most ``depth`` pages ahead of its reader: the two buckets are listed
at the same time, as ``s5cmd`` does, and memory stays bounded by the queue, not by
the bucket's size.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar, cast

T = TypeVar("T")

DEPTH = 2  # pages held ahead of the reader (S3 pages hold at most 1,000 keys)
POLL_SECONDS = 0.1  # how soon an abandoned reader's thread notices and stops


class _Failed:
    """The listing thread's exception, handed to the reader to raise in its own thread."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


def read_ahead(pages: Iterable[Sequence[T]], depth: int = DEPTH, name: str = "") -> Iterator[T]:
    """The items of ``pages`` in order, while a thread fetches the pages after them.

    The thread starts at once, so two listings made one after the other are read at
    the same time even before either is iterated. An exception in it is raised to the
    reader; when the reader stops early (closed, dropped, or an error of its own), the
    thread stops after the request it has in flight."""
    handoff: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=POLL_SECONDS)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        source = iter(pages)
        try:
            for page in source:
                if not offer(page):
                    return
        except BaseException as exc:  # noqa: BLE001 - re-raised in the reader's thread
            offer(_Failed(exc))
            return
        finally:
            getattr(source, "close", lambda: None)()  # a generator's own cleanup runs here
        offer(_END)

    reader: Iterator[T] = _read(handoff, stop)
    weakref.finalize(reader, stop.set)  # a reader dropped unread stops its thread too
    threading.Thread(target=produce, name=f"s3-list-{name}", daemon=True).start()
    return reader


def _read(handoff: queue.Queue[object], stop: threading.Event) -> Iterator[T]:
    try:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield from cast("Sequence[T]", item)
    finally:
        stop.set()
