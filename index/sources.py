"""`--source`: which indexed documents a user means, from what they typed.

A document is stored with where it really came from (its path relative to the ingest root, e.g.
"corpus/02-report.md", see `index.ingest.stored_source`), its absolute path, and the URL it claims (front matter,
canonical link). A `--source` value may be any of these, or a folder / URL prefix of them, or a path relative to
the working directory ("examples/corpus/02-report.md", resolved against the current directory, so it works from
wherever the ingest ran). The result is the set of stored chunk `source` values that the retriever filters on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from index.errors import FootnoteError
from index.manifest import DocumentRecord, Manifest
from index.settings import Settings


class UnknownSourceError(FootnoteError):
    """A --source value matches no indexed document."""


@dataclass(frozen=True)
class SourceMatch:
    wanted: str
    documents: tuple[DocumentRecord, ...]


def _under(child: str, parent: str) -> bool:
    return child == parent or child.startswith(parent.rstrip("/") + "/")


def matches(doc: DocumentRecord, wanted: str, cwd: Path) -> bool:
    value = wanted.strip()
    if not value:
        return False
    if doc.url and _under(doc.url.rstrip("/"), value.rstrip("/")):
        return True  # the claimed URL, or a URL prefix of it (a site section)
    rel = PurePosixPath(value.removeprefix("./")).as_posix() if "://" not in value else value
    if _under(doc.source, rel) or doc.source.endswith("/" + rel):
        return True  # stored path, a folder of it, or its trailing part ("02-report.md")
    if "://" in value:
        return False
    target = Path(value).expanduser()
    target = target if target.is_absolute() else cwd / target
    try:
        target = target.resolve()
    except (OSError, RuntimeError):
        return False
    return _under(doc.path, str(target))  # a file or folder on disk, wherever the ingest ran


def resolve_sources(
    settings: Settings, collection: str, wanted: Sequence[str], *, cwd: Path | None = None
) -> tuple[str, ...]:
    """The stored chunk sources for these --source values. Raises UnknownSourceError naming a value that
    matches nothing (with a few stored sources as examples)."""
    path = settings.data_dir / "manifest.sqlite"
    docs: list[DocumentRecord] = []
    if path.is_file():
        manifest = Manifest(path, readonly=True)
        try:
            docs = [d for d in manifest.documents(collection).values() if d.state == "complete"]
        finally:
            manifest.close()
    cwd = cwd or Path.cwd()
    found: dict[str, None] = {}
    for value in wanted:
        hits = [d for d in docs if matches(d, value, cwd)]
        if not hits:
            examples = ", ".join(sorted(d.source for d in docs)[:3])
            hint = f" Indexed sources look like: {examples} (or a folder of them, or their URLs)." if docs else (
                " Nothing is indexed in this collection yet.")
            raise UnknownSourceError(f"No indexed document matches --source {value!r} in collection "
                                     f"{collection!r}.{hint}")
        for doc in hits:
            found[doc.source] = None
            if doc.url is None:  # indexed before sources were paths: its chunks may carry the URL or old path
                found[value] = None
    return tuple(found)
