"""Reading listings ahead in a thread: order, bounded memory, errors and early stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from include.dr.s3.read_ahead import read_ahead


def test_items_come_in_order_and_the_thread_stays_a_bounded_number_of_pages_ahead() -> None:
    fetched: list[int] = []

    def pages() -> Iterator[list[int]]:
        for page in range(50):
            fetched.append(page)
            yield list(range(page * 10, page * 10 + 10))

    reader = read_ahead(pages(), depth=2)
    assert next(reader) == 0
    threading.Event().wait(0.2)  # the thread fills the queue, then waits
    assert len(fetched) <= 1 + 2 + 1  # the page being read, the queue, the one held
    assert [0, *reader] == list(range(500))


def test_the_listing_starts_before_it_is_read() -> None:
    started = threading.Event()

    def pages() -> Iterator[list[int]]:
        started.set()
        yield [1]

    reader = read_ahead(pages())
    assert started.wait(5), "the thread waits for no reader"
    assert list(reader) == [1]


def test_an_error_while_listing_is_raised_to_the_reader() -> None:
    def pages() -> Iterator[list[int]]:
        yield [1, 2]
        raise ConnectionError("listing cut")

    reader = read_ahead(pages())
    assert [next(reader), next(reader)] == [1, 2]
    with pytest.raises(ConnectionError, match="listing cut"):
        next(reader)


def test_a_reader_that_stops_early_stops_the_thread() -> None:
    finished = threading.Event()

    def pages() -> Iterator[list[int]]:
        try:
            for page in range(10_000):
                yield [page]
        finally:
            finished.set()

    reader = read_ahead(pages(), depth=1)
    assert next(reader) == 0
    reader.close()  # type: ignore[attr-defined]
    assert finished.wait(5), "the listing thread went on after its reader stopped"
