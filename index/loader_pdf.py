"""PDF -> `LoadedDocument`, one section per page, text normalised for quoting (ligatures, hyphenation)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from index.documents import LoadedDocument, Section, iso_date
from index.errors import LoaderError


def load_pdf(path: Path, data: bytes, digest: str) -> LoadedDocument:
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
    return LoadedDocument(path=path, title=title, sections=sections, content_hash=digest, date=iso_date(created))


_HYPHENATED = re.compile(r"(\w)-\n(?=[a-z])")
_SOFT_BREAK = re.compile(r"(?<=\S)[ \t]*\n(?=[ \t]*\S)")


def normalise_pdf_text(text: str) -> str:
    """PDF text as a reader would quote it: ligatures and compatibility forms folded (NFKC: "ﬁles" -> "files"),
    words hyphenated across line ends rejoined, and hard line breaks inside a paragraph made spaces (blank
    lines, i.e. paragraph breaks, are kept)."""
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _HYPHENATED.sub(r"\1", text)
    return _SOFT_BREAK.sub(" ", text)

