"""DOCX -> `LoadedDocument`, headings from paragraph styles. The zip is checked before any parser inflates it:
encrypted archives and zip bombs are refused by what the zip's directory declares."""

from __future__ import annotations

import re
from pathlib import Path

from index.documents import LoadedDocument, iso_date, markdown_sections
from index.errors import LoaderError

# A .docx may unzip to at most this many times the file size limit (FOOTNOTE_MAX_FILE_MB): real documents
# unzip to a few times their size, a zip bomb to thousands (1.6 MB -> 1.5 GB), which would cost GBs of RAM.
UNZIP_RATIO = 10


def check_zip(path: Path, data: bytes, max_unzipped: int) -> None:
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


def load_docx(path: Path, data: bytes, digest: str, *, max_unzipped: int) -> LoadedDocument:
    import io
    import zipfile
    import zlib

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml import etree

    check_zip(path, data, max_unzipped)

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
    sections, first_h1 = markdown_sections("\n".join(lines))
    return LoadedDocument(
        path=path,
        title=title_prop or first_h1 or path.stem,
        sections=sections,
        content_hash=digest,
        date=iso_date(created),
    )
