"""Issue 12 item 17: what real manuals look like (boilerplate, redirect stubs, relative links, PDF ligatures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.errors import LoaderError
from index.loaders import load_file, normalise_pdf_text

NAV = "Press ← or → to navigate between chapters"


def test_html_keeps_the_main_content_and_drops_repeated_navigation(tmp_path: Path) -> None:
    page = tmp_path / "ch01.html"
    page.write_text(
        "<html><head><title>Ch 1</title><link rel='canonical' href='../ch01.html'></head><body>"
        f"<div class='sidebar' role='navigation'><p>{NAV}</p></div>"
        f"<div id='help'><p>{NAV}</p></div>"
        "<main><h1>Ownership</h1><p>Each value in Rust has an owner.</p></main></body></html>"
    )
    doc = load_file(page, max_bytes=10**6)
    assert "Each value in Rust has an owner." in doc.text
    assert "navigate" not in doc.text
    assert doc.url is None  # a relative canonical link is not a citation source


def test_sphinx_role_main_is_the_content(tmp_path: Path) -> None:
    page = tmp_path / "os.html"
    page.write_text(
        "<html><body><div class='related' role='navigation'><p>index modules next previous</p></div>"
        "<div class='body' role='main'><h1>os</h1><p>This module provides operating system interfaces.</p></div>"
        "<div class='sphinxsidebar' role='navigation'><p>Quick search</p></div></body></html>"
    )
    doc = load_file(page, max_bytes=10**6)
    assert doc.text.endswith("This module provides operating system interfaces.")
    assert "Quick search" not in doc.text and "previous" not in doc.text


def test_redirect_stub_is_skipped_with_its_target(tmp_path: Path) -> None:
    page = tmp_path / "old.html"
    page.write_text("<html><head><meta http-equiv='refresh' content='0; URL=new/index.html'></head>"
                    "<body><p>Redirecting...</p></body></html>")
    with pytest.raises(LoaderError, match=r"redirect page \(to new/index.html\)"):
        load_file(page, max_bytes=10**6)


def test_pdf_text_is_normalised_for_quoting() -> None:
    raw = ("The con\ufb01guration \ufb01les are read at start-\nup and the hyphen-\nated words re-\njoin.\n"
           "Next line.\n\nNew para.")
    assert normalise_pdf_text(raw) == (
        "The configuration files are read at startup and the hyphenated words rejoin. Next line.\n\nNew para.")
