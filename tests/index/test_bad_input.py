"""Issue 12: bad input is skipped with a reason, never fatal, and the rest of the corpus is indexed.

Every bad file here is real (an AES-256 PDF, a password zip, a symlink loop, a FIFO, a zip bomb), made by the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding

from index.ingest import Ingestor, IngestSummary
from index.settings import Settings
from index.store import VectorIndex
from tests.index.docs import write_docx, write_pdf

GOOD = "Kyrgyzstan bought Bayraktar TB2 drones from Turkey in 2021 and used them in the border clashes."


def corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "good.md").write_text(f"# Good\n{GOOD}\n")
    return root


def skipped(summary: IngestSummary) -> dict[str, str]:
    return {Path(path).name: reason for path, reason in summary.skipped}


def indexed(summary: IngestSummary) -> set[str]:
    return {Path(p).name for p in summary.indexed}


def encrypted_pdf(path: Path, user_password: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    plain = write_pdf(path.with_suffix(".plain"), ["Tajikistan says 41 people died in the fighting."])
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    with path.open("wb") as handle:
        writer.write(handle)
    plain.unlink()
    return path


def test_aes256_pdf_with_a_password_is_skipped_and_one_with_an_empty_password_is_read(
    settings: Settings, embedder: Any, tmp_path: Path
) -> None:
    docs = corpus(tmp_path / "docs")
    encrypted_pdf(docs / "locked.pdf", "secret")
    encrypted_pdf(docs / "restricted.pdf", "")
    summary = Ingestor(settings, embedder).run([docs])
    assert skipped(summary) == {"locked.pdf": "encrypted PDF (password required)"}
    assert indexed(summary) == {"good.md", "restricted.pdf"}
    again = Ingestor(settings, embedder).run([docs])  # every re-run too: no abort, same report
    assert "locked.pdf" in skipped(again) and "password required" in skipped(again)["locked.pdf"]


def test_password_zip_renamed_docx_is_skipped(settings: Settings, embedder: Any, tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    real = write_docx(tmp_path / "real.docx", "Report", [("Intro", GOOD)])
    target = docs / "secret.docx"
    if shutil.which("zip"):
        unpacked = tmp_path / "unpacked"
        with zipfile.ZipFile(real) as archive:
            archive.extractall(unpacked)
        subprocess.run(["zip", "-q", "-r", "-P", "pw", str(target), "."], cwd=unpacked, check=True)
    else:  # no zip tool: the same archive with its entries flagged encrypted
        with zipfile.ZipFile(real) as src, zipfile.ZipFile(target, "w") as dst:
            for info in src.infolist():
                info.flag_bits |= 0x1
                dst.writestr(info, src.read(info.filename))
    summary = Ingestor(settings, embedder).run([docs])
    assert skipped(summary) == {"secret.docx": "encrypted .docx / zip (password required)"}
    assert indexed(summary) == {"good.md"}


def test_symlink_loop_is_skipped_in_a_folder_and_when_given(settings: Settings, embedder: Any, tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    (docs / "loop.md").symlink_to(docs / "loop.md")
    summary = Ingestor(settings, embedder).run([docs])
    assert skipped(summary) == {"loop.md": "symlink loop"}
    assert indexed(summary) == {"good.md"}
    direct = Ingestor(settings, embedder).run([docs / "loop.md"], prune=False)
    assert skipped(direct) == {"loop.md": "symlink loop"}


def test_fifo_is_skipped_without_hanging(settings: Settings, embedder: Any, tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    os.mkfifo(docs / "pipe.txt")
    result: dict[str, IngestSummary] = {}

    def run() -> None:
        result["folder"] = Ingestor(settings, embedder).run([docs])
        result["direct"] = Ingestor(settings, embedder).run([docs / "pipe.txt"], prune=False)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=120)
    if worker.is_alive():  # unblock the hung reader so the test process can exit, then fail
        with open(docs / "pipe.txt", "wb"):
            pass
        pytest.fail("ingest blocked on a FIFO")
    assert skipped(result["folder"]) == {"pipe.txt": "not a regular file (a FIFO / named pipe)"}
    assert indexed(result["folder"]) == {"good.md"}
    assert skipped(result["direct"]) == {"pipe.txt": "not a regular file (a FIFO / named pipe)"}


def test_zip_bomb_docx_is_bounded_and_not_reparsed(
    make_settings: Callable[..., Settings], embedder: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.loader_docx

    settings = make_settings(max_file_mb=1.0)  # bound: 10 MB unzipped
    docs = corpus(tmp_path / "docs")
    bomb = write_docx(docs / "bomb.docx", "Bomb", [("Intro", GOOD)])
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/padding.bin", b"\0" * 60_000_000)
    assert bomb.stat().st_size < 1_000_000  # small on disk, 60 MB inflated
    summary = Ingestor(settings, embedder).run([docs])
    reason = skipped(summary)["bomb.docx"]
    assert reason.startswith("unzips to 61 MB, over the limit of 10 MB") and "zip bomb" in reason  # 60 MB + doc
    assert indexed(summary) == {"good.md"}

    calls: list[Path] = []
    monkeypatch.setattr(index.loader_docx, "check_zip", lambda path, *a: calls.append(path))
    again = Ingestor(settings, embedder).run([docs])
    assert calls == [] and "not read again" in skipped(again)["bomb.docx"]
    bomb.write_bytes(write_docx(tmp_path / "fixed.docx", "Fixed", [("Intro", GOOD)]).read_bytes())  # changed
    monkeypatch.undo()
    fixed = Ingestor(settings, embedder).run([docs])
    assert "bomb.docx" in indexed(fixed) and not skipped(fixed)


class _HashEmbedding(BaseEmbedding):
    """Cheap deterministic vectors: the big-document test writes ~6k chunks, which MiniLM would take minutes on."""

    def _vec(self, text: str) -> list[float]:
        import hashlib

        digest = hashlib.sha256(text.encode()).digest()
        return [b / 255 + 0.01 for b in digest] * 12  # 384 dims

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vec(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vec(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vec(text)


def test_a_document_over_chromas_max_batch_is_written_in_batches(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(chunk_tokens=32, chunk_overlap=0)
    docs = corpus(tmp_path / "docs")
    words = " ".join(f"w{i}" for i in range(120_000))  # one line, ~6k chunks of 32 tokens
    (docs / "huge.txt").write_text(words)
    for extra in range(3):
        (docs / f"after{extra}.md").write_text(f"# After {extra}\n{GOOD} Number {extra}.\n")
    summary = Ingestor(settings, _HashEmbedding(model_name="hash")).run([docs])
    index = VectorIndex.open(settings, embedder_id="all-MiniLM-L6-v2-int8-onnx", create=False)
    assert index is not None
    assert summary.chunks_written > index.max_batch() and summary.chunks == summary.chunks_written
    assert indexed(summary) == {"good.md", "huge.txt", "after0.md", "after1.md", "after2.md"}
    assert not summary.skipped


def test_emptied_file_loses_its_old_passages(settings: Settings, embedder: Any, tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    (docs / "later-empty.md").write_text("# Soon empty\nThe Organization of Turkic States met in Samarkand.\n")
    first = Ingestor(settings, embedder).run([docs])
    assert first.chunks == 2
    (docs / "later-empty.md").write_text("")
    summary = Ingestor(settings, embedder).run([docs])
    assert skipped(summary)["later-empty.md"] == "empty file; its previously indexed passages were removed"
    assert summary.chunks == 1 and summary.documents == 1


def test_utf16_with_bom_is_decoded(settings: Settings, embedder: Any, tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    (docs / "wide.txt").write_bytes("Tajikistan says 41 people died.\n".encode("utf-16"))
    summary = Ingestor(settings, embedder).run([docs])
    assert indexed(summary) == {"good.md", "wide.txt"}
    assert ("wide.txt", "decoded as UTF-16 (byte-order mark)") in [(Path(p).name, n) for p, n in summary.notes]


def test_front_matter_with_an_unquoted_colon_keeps_the_body(settings: Settings, embedder: Any, tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    (docs / "colon.md").write_text("---\ntitle: Drones: a report\ndate: 2022-09-01\n---\n# Body\nTajikistan says 41.\n")
    summary = Ingestor(settings, embedder).run([docs])
    assert indexed(summary) == {"good.md", "colon.md"}
    notes = {Path(p).name: n for p, n in summary.notes}
    assert notes["colon.md"].startswith("front matter ignored: invalid YAML at line 2 (mapping values are not allowed")


_INGEST = """
import json, sys
from pathlib import Path
from index.embeddings import LocalMiniLMEmbedding
from index.errors import FootnoteError
from index.ingest import Ingestor
from index.settings import Settings
settings = Settings(_env_file=None, data_dir=Path(sys.argv[1]))
try:
    summary = Ingestor(settings, LocalMiniLMEmbedding()).run([Path(sys.argv[2])])
    print(json.dumps({"skipped": summary.skipped, "indexed": summary.indexed, "chunks": summary.chunks}))
except FootnoteError as err:
    print(json.dumps({"error": str(err)}))
"""
# Root ignores file permissions; without these two capabilities it obeys them like any user.
_NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search",
           "--inh-caps=-dac_override,-dac_read_search"]


@pytest.mark.slow
def test_unreadable_folder_is_reported_and_a_once_indexed_one_is_not_a_disk_error(tmp_path: Path) -> None:
    import json
    import sys

    prefix: list[str] = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: permissions cannot be enforced")
        prefix = _NO_DAC
    docs = corpus(tmp_path / "docs")
    (docs / "sub").mkdir()
    (docs / "sub" / "inside.md").write_text("# Inside\nTajikistan says 41 people died in the fighting.\n")

    def ingest() -> dict[str, Any]:
        done = subprocess.run([*prefix, sys.executable, "-c", _INGEST, str(tmp_path / "data"), str(docs)],
                              capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parents[2])
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    first = ingest()
    assert first["chunks"] == 2, first
    os.chmod(docs / "sub", 0)
    try:
        second = ingest()
    finally:
        os.chmod(docs / "sub", 0o755)
    assert "error" not in second, second  # was: "the disk may be full"
    reasons = {Path(p).name: r for p, r in second["skipped"]}
    assert reasons["sub"] == "cannot read folder (Permission denied)"
    assert reasons["inside.md"] == (
        "cannot read file (Permission denied); its previously indexed passages were removed")
    assert {Path(p).name for p in second["indexed"]} == set() and second["chunks"] == 1
