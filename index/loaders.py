"""Files -> `LoadedDocument`s: text split into sections (heading path, page), plus title / url / date.

Each reader raises `LoaderError(path, reason)` with a reason a person can act on; the caller skips that file
and goes on with the rest of the corpus.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import unicodedata
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from index.errors import LoaderError

SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}
_BINARY_SNIFF = 8192
# A .docx may unzip to at most this many times the file size limit (FOOTNOTE_MAX_FILE_MB): real documents
# unzip to a few times their size, a zip bomb to thousands (1.6 MB -> 1.5 GB), which would cost GBs of RAM.
UNZIP_RATIO = 10
_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
         (b"\xfe\xff", "utf-16"))
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.DOTALL)
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(\S.*)$")  # linear; closing #s are stripped in code


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path (and on one PDF page)."""

    text: str
    heading: str | None = None  # "Part > Section"
    page: int | None = None


@dataclass
class LoadedDocument:
    path: Path
    title: str
    sections: list[Section]
    content_hash: str
    url: str | None = None
    date: str | None = None  # ISO YYYY-MM-DD
    notes: list[str] = field(default_factory=list)  # non-fatal remarks, e.g. "decoded as cp1252"

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO / named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _read_regular(path: Path) -> bytes:
    """Read a file that was a regular file when stat'ed, without ever blocking on one swapped for a FIFO."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LoaderError(path, f"not a regular file ({file_kind(info.st_mode)})")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)


def load_file(path: Path, *, max_bytes: int) -> LoadedDocument:
    """Read one supported file. Raises LoaderError for anything that cannot be indexed."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoaderError(path, f"unsupported file type {suffix or '(none)'}")
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise LoaderError(path, f"not a regular file ({file_kind(info.st_mode)})")
        size = info.st_size
        if size > max_bytes:
            raise LoaderError(
                path,
                f"file is {size / 1e6:.1f} MB, over the limit of {max_bytes / 1e6:.0f} MB "
                "(raise FOOTNOTE_MAX_FILE_MB to index it)",
            )
        data = _read_regular(path)
    except OSError as err:
        raise LoaderError(path, f"cannot read file ({err.strerror or err})") from err
    if not data.strip():
        raise LoaderError(path, "empty file")
    digest = content_hash(data)
    if suffix == ".pdf":
        doc = _load_pdf(path, data, digest)
    elif suffix == ".docx":
        doc = _load_docx(path, data, digest, max_unzipped=max_bytes * UNZIP_RATIO)
    else:
        text, notes = _decode_text(path, data)
        if suffix in (".html", ".htm"):
            doc = _load_html(path, text, digest)
        else:
            doc = _load_markdown(path, text, digest)
        doc.notes.extend(notes)
    doc.sections = [s for s in doc.sections if s.text.strip()]
    if not doc.sections:
        raise LoaderError(path, "no text to index (the file has no readable words)")
    return doc


def _decode_text(path: Path, data: bytes) -> tuple[str, list[str]]:
    for bom, codec in _BOMS:  # UTF-16/32 text is full of NUL bytes: decode it before sniffing for binary
        if data.startswith(bom):
            try:
                return data.decode(codec), [f"decoded as {codec.upper()} (byte-order mark)"]
            except UnicodeDecodeError as err:
                raise LoaderError(path, f"starts with a {codec.upper()} byte-order mark but is not valid "
                                        f"{codec.upper()} (at byte {err.start})") from err
    head = data[:_BINARY_SNIFF]
    if b"\x00" in head or _control_ratio(head) > 0.1:
        raise LoaderError(path, "binary content, not text (wrong extension?)")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    # Legacy 8-bit text is common in older corpora: index it rather than lose it, and say so.
    try:
        return data.decode("cp1252"), ["not UTF-8: decoded as Windows-1252"]
    except UnicodeDecodeError:
        return data.decode("latin-1"), ["not UTF-8: decoded as Latin-1"]


def _control_ratio(data: bytes) -> float:
    if not data:
        return 0.0
    controls = sum(1 for b in data if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(data)


def _iso_date(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        match = re.match(r"(\d{4}-\d{2}-\d{2})", value.strip())
        if match:
            return match.group(1)
    return None


def _heading_text(raw: str) -> str:
    """Heading text without an optional closing `#` sequence ("## Title ##"), keeping "C#"."""
    text = raw.rstrip()
    bare = text.rstrip("#")
    if bare != text and (not bare or bare[-1] in " \t"):
        text = bare.rstrip()
    return text or raw.strip()


def _markdown_sections(text: str) -> tuple[list[Section], str | None]:
    """Split Markdown on headings; returns sections with heading paths and the first H1 (a title)."""
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    first_h1: str | None = None
    buf: list[str] = []
    in_fence = False

    def flush() -> None:
        body = "\n".join(buf).strip()
        if body:
            sections.append(Section(body, " > ".join(h for _, h in path) or None))
        buf.clear()

    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        match = None if in_fence else _MD_HEADING.match(line)
        if match:
            flush()
            level, heading = len(match.group(1)), _heading_text(match.group(2))
            if level == 1 and first_h1 is None:
                first_h1 = heading
            path = [(lvl, h) for lvl, h in path if lvl < level] + [(level, heading)]
        else:
            buf.append(line)
    flush()
    return sections, first_h1


def _load_markdown(path: Path, text: str, digest: str) -> LoadedDocument:
    meta: dict[str, object] = {}
    notes: list[str] = []
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            parsed = yaml.safe_load(match.group(1))
        except Exception as err:
            # PyYAML's constructors raise far more than YAMLError on odd values (impossible dates, empty !!bool,
            # bad !!int tags, deep nesting): any failure means "unusable front matter". The body is still indexed.
            mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
            where = f" at line {mark.line + 2}" if mark is not None else ""  # +1: 0-based, +1: the opening ---
            problem = getattr(err, "problem", None) or err.__class__.__name__
            notes.append(f"front matter ignored: invalid YAML{where} ({problem}); title, url and date not read")
            parsed = None
            text = text[match.end() :]
        if isinstance(parsed, dict):
            meta = parsed
            text = text[match.end() :]
    sections, first_h1 = _markdown_sections(text)
    title = str(meta.get("title") or first_h1 or path.stem.replace("-", " ").replace("_", " "))
    url = meta.get("url") or meta.get("source")
    return LoadedDocument(
        path=path,
        title=title,
        sections=sections,
        content_hash=digest,
        url=str(url) if url else None,
        date=_iso_date(meta.get("date")),
        notes=notes,
    )


def _load_html(path: Path, text: str, digest: str) -> LoadedDocument:
    from bs4 import BeautifulSoup, ParserRejectedMarkup

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bs4 warns when a page looks like a URL or XML; we parse it anyway
            soup = BeautifulSoup(text, "html.parser")
    except ParserRejectedMarkup as err:
        raise LoaderError(path, f"not parseable HTML ({err})") from err
    refresh = soup.find("meta", attrs={"http-equiv": re.compile("^refresh$", re.I)})
    for tag in soup(["script", "style", "noscript", "nav", "footer", "header", "template", "aside"]):
        tag.decompose()
    for tag in soup.find_all(True, attrs={"role": ["navigation", "search", "banner", "contentinfo", "complementary"]}):
        tag.decompose()
    title_tag = soup.find("title")
    canonical = soup.find("link", rel="canonical")
    og_url = soup.find("meta", property="og:url")
    date_meta = soup.find("meta", property="article:published_time") or soup.find("meta", attrs={"name": "date"})
    # The page's main content when it marks it (HTML5 <main>, Sphinx's role="main", <article>): the navigation,
    # sidebars and help text repeated on every page of a manual are not the document.
    body = soup.find("main") or soup.find(True, attrs={"role": "main"}) or soup.find("article") or soup.body or soup
    if refresh is not None and len(body.get_text(" ", strip=True).split()) < 40:
        found = re.search(r"url\s*=\s*(\S+)", str(refresh.get("content") or ""), re.I)
        target = found.group(1).strip("'\"") if found else "another page"
        raise LoaderError(path, f"redirect page (to {target}), no content of its own")
    lines = _html_blocks(body)
    if not lines:  # no block elements: plain text in <body>
        lines = [" ".join(body.get_text(" ", strip=True).split())]
    sections, first_h1 = _markdown_sections("\n".join(lines))
    title = (title_tag.get_text(strip=True) if title_tag else "") or first_h1 or path.stem
    url = (canonical.get("href") if canonical else None) or (og_url.get("content") if og_url else None)
    if url and not re.match(r"^https?://", str(url), re.I):
        url = None  # a relative link is no citation source: the file's own path stands for it
    date_value = date_meta.get("content") if date_meta else None
    return LoadedDocument(
        path=path,
        title=title,
        sections=sections,
        content_hash=digest,
        url=str(url) if url else None,
        date=_iso_date(date_value),
    )


_BLOCKS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "td"})


def _html_blocks(body: Any) -> list[str]:
    """Block elements as Markdown-ish lines (headings as `#`), outermost block only, in document order.
    An explicit stack rather than recursion or find_parent(): linear, and safe on absurdly deep nesting."""
    from bs4 import Tag

    lines: list[str] = []
    stack = list(reversed(list(body.children)))
    while stack:
        el = stack.pop()
        if not isinstance(el, Tag):
            continue
        if el.name in _BLOCKS:
            content = " ".join(el.get_text(" ", strip=True).split())
            if content:
                lines.append(f"{'#' * int(el.name[1])} {content}" if el.name[0] == "h" else content)
                lines.append("")
            continue
        stack.extend(reversed(list(el.children)))
    return lines


def _load_pdf(path: Path, data: bytes, digest: str) -> LoadedDocument:
    import io
    import logging

    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError, PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf warns on every slightly odd PDF
    try:
        reader = PdfReader(io.BytesIO(data))
        # Many PDFs are encrypted with an empty user password (copy/print restrictions only): open those.
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise LoaderError(path, "encrypted PDF (password required)")
        pages = [(page.extract_text() or "") for page in reader.pages]
        info = reader.metadata
    except LoaderError:
        raise
    except DependencyError as err:  # AES without the `cryptography` package
        raise LoaderError(path, f"encrypted PDF that cannot be decrypted here ({err})") from err
    except FileNotDecryptedError as err:
        raise LoaderError(path, "encrypted PDF (password required)") from err
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise LoaderError(path, f"not a readable PDF ({err.__class__.__name__}: {err})") from err
    pages = [normalise_pdf_text(text) for text in pages]
    sections = [Section(text.strip(), None, number) for number, text in enumerate(pages, 1) if text.strip()]
    if not sections:
        raise LoaderError(path, "PDF has no extractable text (scanned images? OCR is not supported)")
    title = str(info.title) if info is not None and info.title else path.stem
    created = info.creation_date if info is not None else None
    return LoadedDocument(path=path, title=title, sections=sections, content_hash=digest, date=_iso_date(created))


_HYPHENATED = re.compile(r"(\w)-\n(?=[a-z])")
_SOFT_BREAK = re.compile(r"(?<=\S)[ \t]*\n(?=[ \t]*\S)")


def normalise_pdf_text(text: str) -> str:
    """PDF text as a reader would quote it: ligatures and compatibility forms folded (NFKC: "ﬁles" -> "files"),
    words hyphenated across line ends rejoined, and hard line breaks inside a paragraph made spaces (blank
    lines, i.e. paragraph breaks, are kept)."""
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _HYPHENATED.sub(r"\1", text)
    return _SOFT_BREAK.sub(" ", text)


def _check_zip(path: Path, data: bytes, max_unzipped: int) -> None:
    """Refuse a .docx whose parts would unzip to more than `max_unzipped` bytes, or that is encrypted, before
    any parser inflates it. The sizes come from the zip's directory; zipfile never inflates an entry past its
    declared size, so a lying directory cannot get around the bound."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as err:
        raise LoaderError(path, f"not a readable .docx ({err.__class__.__name__})") from err
    if any(entry.flag_bits & 0x1 for entry in entries):
        raise LoaderError(path, "encrypted .docx / zip (password required)")
    total = sum(entry.file_size for entry in entries)
    if total > max_unzipped:
        raise LoaderError(
            path, f"unzips to {total / 1e6:,.0f} MB, over the limit of {max_unzipped / 1e6:,.0f} MB "
                  f"({UNZIP_RATIO}x FOOTNOTE_MAX_FILE_MB; a zip bomb?)",
        )


def _load_docx(path: Path, data: bytes, digest: str, *, max_unzipped: int) -> LoadedDocument:
    import io
    import zipfile
    import zlib

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml import etree

    _check_zip(path, data, max_unzipped)

    # A .docx is a zip of XML parts: damage anywhere surfaces as one of these, at open or while reading.
    damaged = (PackageNotFoundError, zipfile.BadZipFile, zlib.error, KeyError, ValueError, TypeError, AttributeError,
               etree.LxmlError, NotImplementedError, RuntimeError, EOFError)  # zipfile: unsupported method / encrypted
    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs = list(document.paragraphs)
        props = document.core_properties
        title_prop, created = props.title, props.created
    except damaged as err:
        raise LoaderError(path, f"not a readable .docx ({err.__class__.__name__})") from err
    lines: list[str] = []
    try:
        for para in paragraphs:
            style = (para.style.name if para.style is not None else "") or ""
            text = para.text.strip()
            if not text:
                continue
            level = re.match(r"Heading (\d)", style)
            if style == "Title":
                lines.append(f"# {text}")
            elif level:
                lines.append(f"{'#' * min(6, int(level.group(1)) + 1)} {text}")
            else:
                lines.append(text)
            lines.append("")
    except damaged as err:
        raise LoaderError(path, f"not a readable .docx ({err.__class__.__name__})") from err
    sections, first_h1 = _markdown_sections("\n".join(lines))
    return LoadedDocument(
        path=path,
        title=title_prop or first_h1 or path.stem,
        sections=sections,
        content_hash=digest,
        date=_iso_date(created),
    )
