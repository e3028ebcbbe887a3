"""Pages parsed and extracted on many threads at once, as a check pass and the daemon
do. libxml2 keeps every tag and attribute name in a dictionary without a lock; when
monitor parsed with one parser shared by all threads, lxml handed threads the same
dictionary, and a check process died of heap corruption ("double free or
corruption") while one thread parsed into it and another renamed elements. Each
thread now parses with its own parser (monitor.sources.blocks). The run is in a child
process, so that a crash fails this test instead of killing the test runner; before
the fix both cases died (abort or segfault) within two seconds in every run we made,
and the `docx` case did with the parser per thread but without `claim_own_dictionary`
(a race: this cannot prove the absence of one)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

STRESS = textwrap.dedent(
    """
    import io, itertools, sys, threading, time
    from concurrent.futures import ThreadPoolExecutor

    import docx

    from monitor.sources.blocks import parse_html
    from monitor.sources.docx_file import docx_document
    from monitor.sources.maintext import as_page_text_reads, main_paragraphs, without_comments

    THREADS, SECONDS, NAMES = 16, 6.0, 2000
    ARTICLE = (
        "<html><head><title>T{n}</title></head><body><nav><a href='/'>Home</a></nav>"
        "<article><h1>Order {n}</h1>" + "".join(
            f"<p class='c{{n}}-{i}'>Paragraph {i} of order {{n}} about the ministry's "
            f"new rules for licences, fees and the deadlines set for {i} regions.</p>"
            for i in range(8))
        + "</article><footer>(c) 2026</footer></body></html>"
    )
    counter = itertools.count()

    def extract(n):
        root = parse_html(ARTICLE.format(n=n))
        return main_paragraphs(without_comments(as_page_text_reads(root)), f"http://x/{n}")

    expected = {n: extract(n) for n in range(THREADS)}  # one thread: the reference
    assert all(len(p) >= 8 for p in expected.values()), expected
    stop = time.monotonic() + SECONDS

    def unique_names():
        # A page of never-seen names makes libxml2 add to, and grow, its dictionary
        # with the GIL released; renaming elements adds to it with the GIL held.
        n = next(counter)
        root = parse_html("<html><body>" + "".join(
            f"<x{n}-{i} data-a{n}-{i}='v'>t</x{n}-{i}>" for i in range(NAMES)) + "</body></html>")
        for i, element in enumerate(root.iter()):
            element.tag = f"r{n}-{i}"
            element.set(f"b{n}-{i}", "w")

    word = docx.Document()
    word.add_paragraph("A paragraph of a Word file.")
    saved = io.BytesIO()
    word.save(saved)

    def work(k):
        if sys.argv[1] == "docx":  # the thread's first page is a Word file
            text = docx_document(saved.getvalue(), f"http://x/{k}.docx").paragraphs
            assert text == ("A paragraph of a Word file.",), text
        rounds = 0
        while time.monotonic() < stop:
            unique_names()
            if rounds % 4 == 0:
                assert extract(k) == expected[k], k
            rounds += 1
        return rounds

    with ThreadPoolExecutor(THREADS) as pool:
        rounds = list(pool.map(work, range(THREADS)))
    assert all(rounds), rounds
    print("ok")
    """
)


@pytest.mark.slow  # seconds of threads in a child: started first, not left for the end
@pytest.mark.parametrize("first", ["html", "docx"])
def test_many_threads_parse_rename_and_extract_at_once_without_corruption(first: str) -> None:
    """`docx`: each thread reads a Word file first, which python-docx parses with a
    parser of its own that all threads share (see `claim_own_dictionary`)."""
    done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", STRESS, first],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"exit {done.returncode}:\n{done.stderr[-3000:]}"
    assert done.stdout.strip() == "ok"
