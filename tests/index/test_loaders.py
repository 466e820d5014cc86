from __future__ import annotations

from pathlib import Path

import pytest

from index.errors import LoaderError
from index.loaders import load_file
from tests.index.docs import write_docx, write_pdf

MB = 1_000_000


def test_markdown_front_matter_and_heading_paths(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text(
        "---\ntitle: Border report\ndate: 2022-09-20\nurl: https://example.org/r\n---\n"
        "Intro line.\n\n## Casualties\nForty-one dead.\n\n### Kyrgyz side\nFifty-nine dead.\n\n## Drones\nTB2.\n"
    )
    doc = load_file(path, max_bytes=MB)
    assert (doc.title, doc.date, doc.url) == ("Border report", "2022-09-20", "https://example.org/r")
    headings = [s.heading for s in doc.sections]
    assert headings == [None, "Casualties", "Casualties > Kyrgyz side", "Drones"]
    assert doc.sections[2].text == "Fifty-nine dead."


def test_markdown_heading_inside_code_fence_is_not_a_heading(tmp_path: Path) -> None:
    path = tmp_path / "code.md"
    path.write_text("# Title\n\n```\n# not a heading\n```\n\nbody\n")
    doc = load_file(path, max_bytes=MB)
    assert [s.heading for s in doc.sections] == ["Title"]
    assert "# not a heading" in doc.sections[0].text


def test_html_title_url_date_and_sections(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Drone sales</title><link rel='canonical' href='https://example.org/d'>"
        "<meta property='article:published_time' content='2022-10-01T10:00:00Z'>"
        "<script>var x = 'ignore me';</script></head><body><nav>menu</nav>"
        "<h1>Sales</h1><p>Turkey sold <b>TB2</b> drones.</p><h2>Buyers</h2><ul><li>Kyrgyzstan</li></ul>"
        "</body></html>"
    )
    doc = load_file(path, max_bytes=MB)
    assert (doc.title, doc.url, doc.date) == ("Drone sales", "https://example.org/d", "2022-10-01")
    assert [s.heading for s in doc.sections] == ["Sales", "Sales > Buyers"]
    assert "Turkey sold TB2 drones." in doc.text
    assert "ignore me" not in doc.text and "menu" not in doc.text


def test_pdf_pages_and_title(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "r.pdf", ["First page about drones.", "Second page about borders."], title="Rep")
    doc = load_file(path, max_bytes=MB)
    assert doc.title == "Rep"
    assert [s.page for s in doc.sections] == [1, 2]
    assert "Second page about borders." in doc.sections[1].text


def test_docx_headings(tmp_path: Path) -> None:
    path = write_docx(tmp_path / "r.docx", "Memo", [("Background", "The clashes began."), ("Outlook", "Tense.")])
    doc = load_file(path, max_bytes=MB)
    assert doc.title == "Memo"
    assert [s.heading for s in doc.sections] == ["Background", "Outlook"]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("corrupt.pdf", b"%PDF-1.4\n1 0 obj <<< garbage", "not a readable PDF"),
        ("image.txt", bytes(range(256)) * 40, "binary content"),
        ("empty.md", b"", "empty file"),
        ("blank.txt", b"   \n\n  ", "empty file"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "not a readable .docx"),
        ("data.csv", b"a,b\n1,2\n", "unsupported file type .csv"),
    ],
)
def test_bad_input_is_rejected_with_a_specific_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoaderError) as info:
        load_file(path, max_bytes=MB)
    assert reason in info.value.reason
    assert name in str(info.value)


def test_scanned_pdf_without_text_is_explained(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "scan.pdf", [""])
    with pytest.raises(LoaderError, match="no extractable text"):
        load_file(path, max_bytes=MB)


def test_non_utf8_text_is_decoded_and_noted(tmp_path: Path) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes("Türkiye’s drones — café".encode("cp1252"))
    doc = load_file(path, max_bytes=MB)
    assert "Türkiye’s drones — café" in doc.text
    assert doc.notes == ["not UTF-8: decoded as Windows-1252"]


def test_file_over_the_size_limit_names_size_and_setting(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:
        fh.write(b"drones " * (50 * MB // 7 + 1))
    with pytest.raises(LoaderError) as info:
        load_file(path, max_bytes=20 * MB)
    assert "50.0 MB" in info.value.reason and "FOOTNOTE_MAX_FILE_MB" in info.value.reason
