"""Fuzzing `index.loaders.load_file`: whatever bytes a file holds, loading it either gives a document with
non-empty sections or raises `LoaderError` with a reason. Anything else (a crash) would abort a whole ingest,
since the ingester skips only LoaderError/OSError files.

Targets: arbitrary bytes under every supported suffix; structured Markdown (front matter / headings / fences);
structured HTML (random nesting, and malformed markup); mutated PDF and DOCX files. Deterministic
(`derandomize`), so a found bug reproduces on every run; FOOTNOTE_FUZZ_EXAMPLES scales the runs.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import subprocess
import sys
import warnings
import zipfile
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.chunking import Chunker, date_as_int
from index.errors import LoaderError
from index.loaders import LoadedDocument, load_file
from tests.index.docs import write_docx, write_pdf
from tests.index.fuzzing import FUZZ

MAX_BYTES = 5_000_000
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-loaders")


@cache
def chunker() -> Chunker:
    return Chunker(64, 8)


def check_load(workdir: Path, name: str, data: bytes) -> LoadedDocument | None:
    """The oracle: a document with real sections, or LoaderError with a reason; never anything else.
    Loaded documents also go through the chunker, as in an ingest."""
    path = workdir / name
    path.write_bytes(data)
    with warnings.catch_warnings():
        # Library warnings (bs4 "looks like a URL", pypdf) are noise, not crashes: don't let the suite's
        # warnings-as-errors filter turn them into exceptions inside the parsers.
        warnings.simplefilter("ignore")
        try:
            doc = load_file(path, max_bytes=MAX_BYTES)
        except LoaderError as err:
            assert err.reason.strip(), "LoaderError without a reason"
            assert str(path) in str(err)
            return None
        assert doc.sections, "document without sections"
        assert all(section.text.strip() for section in doc.sections), "blank section"
        assert isinstance(doc.title, str)
        assert doc.content_hash == hashlib.sha256(data).hexdigest()
        assert doc.url is None or isinstance(doc.url, str)
        if doc.date is not None:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", doc.date), doc.date
            date_as_int(doc.date)
        nodes = chunker().chunk(doc, doc_id="fuzz", source=name)
        assert nodes, "a document with text gave no chunks"
        return doc


# --- 1. arbitrary bytes under every suffix ------------------------------------------------------------------

MAGIC = [
    b"",
    b"%PDF-1.4\n",
    b"PK\x03\x04",
    b"---\n",
    b"<html>",
    b"\xef\xbb\xbf",
    b"# ",
    b"<?xml version='1.0'?>",
]
arbitrary_bytes = st.one_of(
    st.binary(max_size=2048),
    st.tuples(st.sampled_from(MAGIC), st.binary(max_size=1024)).map(b"".join),
    st.text(max_size=1024).map(lambda s: s.encode("utf-8")),
)


@pytest.mark.parametrize("suffix", [".txt", ".md", ".html", ".pdf", ".docx"])
@FUZZ
@given(data=arbitrary_bytes)
def test_arbitrary_bytes_load_or_loader_error(workdir: Path, suffix: str, data: bytes) -> None:
    check_load(workdir, f"arbitrary{suffix}", data)


# --- 2. structured Markdown -------------------------------------------------------------------------------

inline = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
words = st.lists(
    st.sampled_from(["drones", "Kyrgyzstan", "border", "the", "café", "東京", "😀", "#", "*", "`", "---"]),
    max_size=12,
).map(" ".join)
md_line = st.one_of(
    st.tuples(
        st.integers(1, 7),
        st.sampled_from([" ", "  ", "\t"]),
        st.one_of(words, inline),
        st.sampled_from(["", " #", " ##"]),
    ).map(lambda t: "#" * t[0] + t[1] + t[2] + t[3]),
    st.sampled_from(["```", "~~~", "```python", "   ```", "````", "#", "# ", "#\t", "===", "- - -", "***"]),
    st.just(""),
    words,
    inline,
    inline.map(lambda s: "- " + s),
)
md_body = st.tuples(st.lists(md_line, max_size=30), st.sampled_from(["\n", "\r\n"])).map(
    lambda t: t[1].join(t[0])
)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1"])

date_like = st.builds(
    lambda y, m, d, tail: f"{y:04d}-{m:02d}-{d:02d}{tail}",
    st.integers(0, 9999),
    st.integers(0, 19),
    st.integers(0, 39),
    st.sampled_from(["", "T10:20:30Z", " 10:20:30", "T25:61:61", "x"]),
)
yaml_scalar = st.one_of(
    date_like,
    inline,
    words,
    st.integers().map(str),
    st.floats(allow_nan=True).map(str),
    st.sampled_from(
        [
            "true",
            "null",
            "~",
            "[a, b]",
            "{a: 1}",
            "[[[",
            "{{",
            "&a x",
            "*a",
            "*missing",
            "'",
            '"\\x"',
            "|",
            ">",
            "- a",
            ": x",
            "? x",
            "%YAML 1.1",
            "!x y",
            "@",
            "`",
        ]
    ),
    st.tuples(
        st.sampled_from(
            [
                "!!int",
                "!!float",
                "!!str",
                "!!bool",
                "!!timestamp",
                "!!binary",
                "!!null",
                "!!set",
                "!!omap",
                "!!seq",
                "!!map",
                "!!python/name:os.system",
            ]
        ),
        inline,
    ).map(" ".join),
)
yaml_key = st.one_of(st.sampled_from(["title", "date", "url", "source", "tags", "author"]), inline)
front_matter = st.lists(st.tuples(yaml_key, yaml_scalar).map(lambda kv: f"{kv[0]}: {kv[1]}"), max_size=6).map(
    "\n".join
)


@FUZZ
@given(body=md_body, encoding=encodings, suffix=st.sampled_from([".md", ".txt", ".markdown"]))
def test_markdown_headings_and_fences(workdir: Path, body: str, encoding: str, suffix: str) -> None:
    doc = check_load(workdir, f"structured{suffix}", body.encode(encoding, errors="replace"))
    if doc is not None:
        for section in doc.sections:
            assert section.heading is None or section.heading.strip()


@FUZZ
@given(
    meta=front_matter,
    body=md_body,
    encoding=encodings,
    fence=st.sampled_from(["---", "--- ", "---\t"]),
    suffix=st.sampled_from([".md", ".txt"]),
)
def test_markdown_front_matter(
    workdir: Path, meta: str, body: str, encoding: str, fence: str, suffix: str
) -> None:
    text = f"{fence}\n{meta}\n{fence}\n{body}"
    check_load(workdir, f"front-matter{suffix}", text.encode(encoding, errors="replace"))


# --- 3. structured HTML -----------------------------------------------------------------------------------

TAGS = [
    "div",
    "p",
    "span",
    "b",
    "a",
    "ul",
    "ol",
    "li",
    "pre",
    "code",
    "blockquote",
    "table",
    "tr",
    "td",
    "section",
    "article",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "script",
    "style",
    "noscript",
    "nav",
    "footer",
    "header",
    "template",
    "body",
    "head",
    "title",
    "br",
    "img",
]
text_node = st.one_of(words, inline).map(html.escape)
attrs = st.lists(
    st.tuples(
        st.sampled_from(["class", "id", "rel", "href", "property", "name", "content", "data-x"]),
        st.one_of(words, inline),
    ),
    max_size=3,
).map(lambda pairs: "".join(f' {k}="{html.escape(v, quote=True)}"' for k, v in pairs))
element = st.recursive(
    text_node,
    lambda children: st.builds(
        lambda tag, a, kids: f"<{tag}{a}>{''.join(kids)}</{tag}>",
        st.sampled_from(TAGS),
        attrs,
        st.lists(children, max_size=5),
    ),
    max_leaves=40,
)
head = st.lists(
    st.one_of(
        st.builds(lambda t: f"<title>{t}</title>", text_node),
        st.builds(lambda u: f'<link rel="canonical" href="{html.escape(u)}">', inline),
        st.builds(lambda u: f'<meta property="og:url" content="{html.escape(u)}">', inline),
        st.builds(
            lambda d: f'<meta name="date" content="{d}">', st.one_of(date_like, inline.map(html.escape))
        ),
        st.builds(lambda d: f'<meta property="article:published_time" content="{d}">', date_like),
        st.sampled_from(
            ["<link rel=canonical>", "<meta property=og:url>", "<meta name=date>", "<title></title>"]
        ),
    ),
    max_size=4,
).map("".join)
html_doc = st.one_of(
    st.builds(
        lambda h, b: f"<!DOCTYPE html><html><head>{h}</head><body>{b}</body></html>",
        head,
        st.lists(element, max_size=6).map("".join),
    ),
    st.lists(element, min_size=1, max_size=6).map("".join),
    st.builds(
        lambda tag, depth, t: f"<{tag}>" * depth + t,
        st.sampled_from(["div", "p", "li", "td", "b", "h2"]),
        st.integers(1, 500),
        text_node,
    ),
)


@FUZZ
@given(doc=html_doc, encoding=encodings, suffix=st.sampled_from([".html", ".htm"]))
def test_html_random_nesting(workdir: Path, doc: str, encoding: str, suffix: str) -> None:
    check_load(workdir, f"nested{suffix}", doc.encode(encoding, errors="replace"))


MARKUP = [
    "<",
    ">",
    "</",
    "<!",
    "<![",
    "<!--",
    "-->",
    "<?",
    "?>",
    "&",
    "&#",
    "&#x",
    ";",
    "<p",
    "<h1",
    "<td>",
    "</td>",
    "<script>",
    "</script>",
    "<![CDATA[",
    "]]>",
    "<!DOCTYPE",
    '"',
    "'",
    "=",
    "<style>",
    "<title>",
    "<br/>",
]
malformed_html = st.lists(st.one_of(st.sampled_from(MARKUP), words, inline), min_size=1, max_size=40).map(
    "".join
)


@FUZZ
@given(doc=malformed_html)
def test_html_malformed_markup(workdir: Path, doc: str) -> None:
    check_load(workdir, "malformed.html", doc.encode("utf-8"))


# --- 4. mutated PDF and DOCX ---

PDF_TOKENS = [
    b"<<",
    b">>",
    b"[",
    b"]",
    b"(",
    b")",
    b"\\",
    b"/Length 99999",
    b"/Length -1",
    b" 0 R",
    b"obj",
    b"endobj",
    b"stream\n",
    b"endstream",
    b"xref",
    b"trailer",
    b"startxref\n0",
    b"/Type /Page",
    b"/Kids [1 0 R]",
    b"/Filter /FlateDecode",
    b"/Encrypt 1 0 R",
    b"%%EOF",
    b"9999999999",
    b"-",
    b"\x00",
    b"\xff",
]


def mutate(base: bytes, edits: list[tuple[float, str, bytes]], cut: float) -> bytes:
    out = bytearray(base[: max(1, int(len(base) * cut))])
    for where, op, blob in edits:
        pos = min(len(out), int(where * len(out)))
        if op == "insert":
            out[pos:pos] = blob
        elif op == "overwrite":
            out[pos : pos + len(blob)] = blob
        else:
            del out[pos : pos + max(1, len(blob))]
    return bytes(out)


edits = st.lists(
    st.tuples(
        st.floats(0, 1),
        st.sampled_from(["insert", "overwrite", "delete"]),
        st.one_of(st.binary(min_size=1, max_size=8), st.sampled_from(PDF_TOKENS)),
    ),
    max_size=6,
)
cut = st.one_of(st.just(1.0), st.floats(0, 1))
page_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


@cache
def base_pdf(pages: tuple[str, ...], title: str | None) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return write_pdf(Path(tmp) / "base.pdf", list(pages), title=title).read_bytes()


@FUZZ
@given(
    pages=st.lists(page_text, min_size=1, max_size=3).map(tuple),
    title=st.none() | page_text,
    edits=edits,
    cut=cut,
)
def test_mutated_pdf(
    workdir: Path,
    pages: tuple[str, ...],
    title: str | None,
    edits: list[tuple[float, str, bytes]],
    cut: float,
) -> None:
    check_load(workdir, "mutated.pdf", mutate(base_pdf(pages, title), edits, cut))


@cache
def base_docx() -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = write_docx(
            Path(tmp) / "base.docx",
            "Drones",
            [
                ("Purchases", "Kyrgyzstan bought TB2 drones."),
                ("Casualties", "Tajikistan says 41 people died."),
            ],
        )
        return path.read_bytes()


@cache
def docx_members() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(base_docx())) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


DOCX_PARTS = [
    "word/document.xml",
    "[Content_Types].xml",
    "_rels/.rels",
    "word/_rels/document.xml.rels",
    "docProps/core.xml",
    "word/styles.xml",
]
XML_TOKENS = [
    b"<",
    b">",
    b"/>",
    b"</w:p>",
    b"<w:p>",
    b'"',
    b"=",
    b"&",
    b"&amp;",
    b"<x>",
    b' xmlns:w="urn:x"',
    b"<w:t>text</w:t>",
    b'Target=""',
    b'Id="rId1"',
    b"\x00",
    b"\xff",
]
xml_edits = st.lists(
    st.tuples(
        st.floats(0, 1),
        st.sampled_from(["insert", "overwrite", "delete"]),
        st.one_of(st.binary(min_size=1, max_size=6), st.sampled_from(XML_TOKENS)),
    ),
    min_size=1,
    max_size=4,
)


@FUZZ
@given(edits=edits, cut=st.just(1.0))
def test_mutated_docx_bytes(workdir: Path, edits: list[tuple[float, str, bytes]], cut: float) -> None:
    check_load(workdir, "mutated.docx", mutate(base_docx(), edits, cut))


@FUZZ
@given(part=st.sampled_from(DOCX_PARTS), edits=xml_edits, drop=st.none() | st.sampled_from(DOCX_PARTS))
def test_docx_with_mutated_xml_parts(
    workdir: Path, part: str, edits: list[tuple[float, str, bytes]], drop: str | None
) -> None:
    members = dict(docx_members())
    members[part] = mutate(members[part], edits, 1.0)
    if drop is not None:
        members.pop(drop, None)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    check_load(workdir, "xml-mutated.docx", out.getvalue())


# --- 5. minimal inputs of the bugs the fuzzers found (regression tests: each crashed or hung before its fix) ---


def _load(tmp_path: Path, name: str, data: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_load(tmp_path, name, data)


@pytest.mark.parametrize(
    "front",
    ["date: 0000-00-00", "date: 2022-13-45", "title: 2021-02-30", "x: !!int a", "x: !!float a", "x: !!int"],
)
def test_front_matter_invalid_value_is_a_loader_error(tmp_path: Path, front: str) -> None:
    _load(tmp_path, "a.md", f"---\n{front}\n---\ntext\n".encode())


def test_front_matter_deep_nesting_is_a_loader_error(tmp_path: Path) -> None:
    _load(tmp_path, "a.md", b"---\nx: " + b"[" * 2000 + b"\n---\ntext\n")


def test_html_rejected_markup_is_a_loader_error(tmp_path: Path) -> None:
    _load(tmp_path, "a.html", b"<![ x")


def test_docx_corrupt_deflate_is_a_loader_error(tmp_path: Path) -> None:
    _load(tmp_path, "a.docx", corrupt_deflate_docx())


def corrupt_deflate_docx() -> bytes:
    """A .docx whose word/document.xml deflate stream is garbage but whose zip structure is intact."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, blob in docx_members().items():
            zf.writestr(name, blob)
    data = bytearray(out.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("word/document.xml")
    header = info.header_offset
    name_len = int.from_bytes(data[header + 26 : header + 28], "little")
    extra_len = int.from_bytes(data[header + 28 : header + 30], "little")
    start = header + 30 + name_len + extra_len
    data[start : start + 16] = b"\xff" * 16
    return bytes(data)


def test_docx_malformed_xml_document_is_a_loader_error(tmp_path: Path) -> None:
    _load(tmp_path, "a.docx", docx_with("word/document.xml", b"<w:document"))


def test_docx_malformed_rels_is_a_loader_error(tmp_path: Path) -> None:
    _load(tmp_path, "a.docx", docx_with("_rels/.rels", b"<x/>"))


def docx_with(part: str, blob: bytes) -> bytes:
    members = dict(docx_members())
    members[part] = blob
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return out.getvalue()


# --- 6. time: inputs a few KB long that take minutes (slow: each runs in a subprocess with a timeout) ---


def loads_within(path: Path, seconds: float) -> bool:
    """Load in a subprocess (a regex or parser loop cannot be interrupted in-process); False on timeout."""
    code = (
        "import sys; from pathlib import Path; from index.loaders import load_file; from index.errors import "
        "LoaderError\ntry: load_file(Path(sys.argv[1]), max_bytes=10**7)\nexcept LoaderError: pass"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.wait(timeout=seconds) == 0
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False


@pytest.mark.slow
def test_heading_with_long_whitespace_run_loads_quickly(tmp_path: Path) -> None:
    path = tmp_path / "spaces.md"
    path.write_text("# a" + " " * 3000 + "b" + " " * 3000 + "c\n\nbody text\n")
    assert loads_within(path, 5), "a 6 KB Markdown file took more than 5 s to load"


@pytest.mark.slow
def test_deeply_nested_headings_load_quickly(tmp_path: Path) -> None:
    path = tmp_path / "nested.html"
    path.write_bytes(b"<h2>" * 8000 + b"text")
    assert loads_within(path, 5), "a 32 KB HTML file took more than 5 s to load"
