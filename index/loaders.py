"""Files -> `LoadedDocument`s: text split into sections (heading path, page), plus title / url / date.

This module reads the file (regular files only, size-bounded), decodes text and Markdown; HTML, PDF and DOCX have
their own readers (index/loader_html.py, loader_pdf.py, loader_docx.py), the document model is index/documents.py.
Each reader raises `LoaderError(path, reason)` with a reason a person can act on; the caller skips that file
and goes on with the rest of the corpus.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import yaml

from index.documents import LoadedDocument, Section, content_hash, iso_date, markdown_sections
from index.errors import LoaderError
from index.loader_docx import UNZIP_RATIO, load_docx
from index.loader_html import load_html
from index.loader_pdf import load_pdf, normalise_pdf_text

__all__ = ["SUPPORTED_SUFFIXES", "UNZIP_RATIO", "LoadedDocument", "Section", "content_hash", "file_kind",
           "load_file", "normalise_pdf_text"]

SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}
_BINARY_SNIFF = 8192
_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
         (b"\xfe\xff", "utf-16"))
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.DOTALL)


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
        doc = load_pdf(path, data, digest)
    elif suffix == ".docx":
        doc = load_docx(path, data, digest, max_unzipped=max_bytes * UNZIP_RATIO)
    else:
        text, notes = _decode_text(path, data)
        if suffix in (".html", ".htm"):
            doc = load_html(path, text, digest)
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
    sections, first_h1 = markdown_sections(text)
    title = str(meta.get("title") or first_h1 or path.stem.replace("-", " ").replace("_", " "))
    url = meta.get("url") or meta.get("source")
    return LoadedDocument(
        path=path,
        title=title,
        sections=sections,
        content_hash=digest,
        url=str(url) if url else None,
        date=iso_date(meta.get("date")),
        notes=notes,
    )

