"""Footnote's real write path for the benchmarks: documents -> files -> `index.ingest.Ingestor` -> a data dir.

A prepared index lives in `bench/.cache/footnote-<name>-<key>/` (`corpus/` files, `data/` Chroma + BM25 +
manifest), where `key` hashes the documents, the chunking settings and the embedder id: a later run with the
same inputs reuses it (ingesting SciFact takes minutes), any change builds a new one. A `READY` file holding
the ingest summary marks a finished build; without it the (incremental, crash-safe) ingest simply resumes.
"""

from __future__ import annotations

import hashlib
import json
import resource
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from index.embeddings import embedder_id
from index.settings import Settings

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
FORMAT_VERSION = "1"  # bump when the file layout written below changes


@dataclass(frozen=True)
class SourceDoc:
    """One document to write as `<name>.md`: YAML front matter (title, url, date) + body."""

    name: str  # file stem, unique in the corpus
    title: str
    text: str
    url: str | None = None
    date: str | None = None  # YYYY-MM-DD

    def render(self) -> str:
        meta: dict[str, str] = {"title": " ".join(self.title.split()) or self.name}
        if self.url:
            meta["url"] = self.url
        if self.date:
            meta["date"] = self.date
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10**6).strip()
        return f"---\n{front}\n---\n{self.text.strip()}\n"


def bench_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Default Settings (no .env, no environment surprises) pointed at `data_dir`."""
    return Settings(_env_file=None, data_dir=data_dir, **overrides)  # type: ignore[call-arg]


def corpus_key(docs: Sequence[SourceDoc], settings: Settings) -> str:
    h = hashlib.sha256()
    for part in (FORMAT_VERSION, settings.chunk_tokens, settings.chunk_overlap, embedder_id(settings),
                 settings.collection):
        h.update(f"{part}\x00".encode())
    for d in docs:
        h.update(d.name.encode() + b"\x00" + d.render().encode("utf-8") + b"\x01")
    return h.hexdigest()[:12]


@dataclass
class PreparedIndex:
    root: Path
    settings: Settings
    summary: dict[str, Any]
    built_now: bool

    @property
    def corpus_dir(self) -> Path:
        return self.root / "corpus"

    def path_of(self, name: str) -> Path:
        return (self.corpus_dir / f"{name}.md").resolve()


def prepare_index(name: str, docs: Sequence[SourceDoc], *, embedder: Any = None, verbose: bool = True,
                  **setting_overrides: Any) -> PreparedIndex:
    """Write `docs` as files and ingest them with the real Ingestor, or reuse the cached build."""
    probe = bench_settings(Path("."), **setting_overrides)
    root = CACHE_DIR / f"footnote-{name}-{corpus_key(docs, probe)}"
    settings = bench_settings(root / "data", **setting_overrides)
    ready = root / "READY"
    if ready.exists():
        return PreparedIndex(root, settings, json.loads(ready.read_text()), built_now=False)
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for d in docs:
        path = corpus / f"{d.name}.md"
        body = d.render()
        if not path.exists() or path.read_text(encoding="utf-8") != body:
            path.write_text(body, encoding="utf-8")
    if embedder is None:
        from index.embeddings import make_embedder

        embedder = make_embedder(settings)
    from index.ingest import Ingestor

    if verbose:
        print(f"  ingesting {len(docs)} documents into {root} (real pipeline) ...", flush=True)
    summary = Ingestor(settings, embedder).run([corpus]).to_json()
    ready.write_text(json.dumps(summary, indent=2))
    if verbose:
        print(f"  ... {summary['chunks']} chunks in {summary['seconds']:.0f} s "
              f"({summary['chunks_written'] / max(summary['seconds'], 1e-9):.1f} chunks/s)", flush=True)
    return PreparedIndex(root, settings, summary, built_now=True)


# ------------------------------------------------------------------------------------------- helpers


def percentiles(values_ms: Iterable[float]) -> dict[str, float]:
    vals = sorted(values_ms)
    if not vals:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "mean_ms": 0.0, "n": 0}
    p95 = vals[min(len(vals) - 1, max(0, round(0.95 * len(vals)) - 1))]
    return {"p50_ms": round(statistics.median(vals), 2), "p95_ms": round(p95, 2),
            "mean_ms": round(statistics.fmean(vals), 2), "n": len(vals)}


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far. VmHWM from /proc (reset by exec, so a subprocess does
    not inherit its parent's peak the way getrusage's ru_maxrss does on Linux); ru_maxrss elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def write_result(name: str, payload: dict[str, Any]) -> Path:
    import platform

    RESULTS_DIR.mkdir(exist_ok=True)
    payload = {**payload, "machine": {"python": platform.python_version(), "cpus": _cpus()},
               "written_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n")
    return path


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str = "") -> None:
    cells = [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    if title:
        print(f"\n{title}")
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths,
                                                                                             strict=True)))
    print(line)
    print("-" * len(line))
    for r in cells:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths,
                                                                                             strict=True))))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return "" if value is None else str(value)
