"""Builders for real test documents (PDF, DOCX) made on the fly, so no binary fixtures live in the repo."""

from __future__ import annotations

from pathlib import Path


def write_pdf(path: Path, pages: list[str], title: str | None = None) -> Path:
    """A minimal but valid PDF with one line of Helvetica text per page (pypdf extracts it)."""
    objects: list[bytes] = []
    kids = []
    page_ids = []
    n_pages = len(pages)
    # 1: catalog, 2: pages, 3: font, then (page, content) pairs, then info
    for i in range(n_pages):
        page_ids.append(4 + 2 * i)
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, text in enumerate(pages):
        safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({safe}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream")
    info_ref = ""
    if title:
        objects.append(f"<< /Title ({title}) >>".encode())
        info_ref = f" /Info {len(objects)} 0 R"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info_ref} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def write_docx(path: Path, title: str, sections: list[tuple[str, str]]) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for heading, body in sections:
        document.add_heading(heading, level=1)
        document.add_paragraph(body)
    document.save(str(path))
    return path
