"""Navigation boilerplate in a real manual set, before -> after main-content extraction (issue 12 item 17).

    python -m bench.html_boilerplate                       # all of /usr/share/doc/python3.11/html
    python -m bench.html_boilerplate --every 10            # every 10th file, a quick look

Corpus: Debian's `python3.11-doc` HTML (Sphinx; `apt-get install python3.11-doc`), documents nobody here wrote.
Each .html file is loaded and chunked exactly as `footnote ingest` does (index.loaders + index.chunking, the
default 200-token chunks; no embedding: the count does not depend on vectors) twice:

- before: the loader as of commit c94a760 (the whole <body>, minus <nav>/<header>/<footer>/<aside> tags, which
  Sphinx's classic theme does not use), read from git;
- after: the current loader (the page's main content: <main>, role="main" or <article>; redirect stubs skipped).

A chunk counts as navigation when it holds one of Sphinx's sidebar/related-bar/footer phrases (NAV_MARKERS, the
literal text of the theme's templates); the share of such chunks is the figure. Also counted: redirect stubs.
Writes bench/results/html_boilerplate.json.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.pipeline import write_result

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ROOT = Path("/usr/share/doc/python3.11/html")
BEFORE_COMMIT = "c94a760"
# Text of the Sphinx classic/pydoctheme templates (layout.html, sourcelink.html, localtoc/relations/searchbox) that
# the Python docs repeat on every page; none of these phrases is how the manual's own prose talks.
NAV_MARKERS = (
    "Previous topic", "Next topic", "This Page", "Report a Bug", "Show Source", "Quick search", "Navigation",
    "Found a bug?", "Created using Sphinx", "Last updated on", "Theme Auto Light Dark", "« Previous", "Next »",
)


def is_navigation(text: str) -> bool:
    return any(marker in text for marker in NAV_MARKERS)


def old_loader() -> Any:
    """index/loaders.py as of BEFORE_COMMIT, as a module (it imports only index.errors and the parsers)."""
    source = subprocess.run(["git", "show", f"{BEFORE_COMMIT}:index/loaders.py"], cwd=REPO, capture_output=True,
                            text=True, check=True).stdout
    module = types.ModuleType("footnote_loaders_before")
    sys.modules[module.__name__] = module  # dataclasses look their module up while the class is made
    exec(compile(source, f"{BEFORE_COMMIT}:index/loaders.py", "exec"), module.__dict__)  # our own code, from git
    return module


def count(files: list[Path], load: Callable[..., Any], loader_error: type[Exception]) -> dict[str, Any]:
    from index.chunking import Chunker
    from index.settings import Settings

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    chunker = Chunker(settings.chunk_tokens, settings.chunk_overlap)
    chunks = navigation = redirects = skipped = 0
    examples: list[str] = []
    started = time.perf_counter()
    for path in files:
        try:
            doc = load(path, max_bytes=int(settings.max_file_mb * 1_000_000))
        except loader_error as err:
            skipped += 1
            redirects += "redirect page" in str(err)
            continue
        for node in chunker.chunk(doc, doc_id="d", source=path.name):
            chunks += 1
            if is_navigation(node.get_content()):
                navigation += 1
                if len(examples) < 3:
                    examples.append(f"{path.name}: {' '.join(node.get_content().split())[:160]}")
    return {"files": len(files), "documents": len(files) - skipped, "skipped": skipped, "redirect_stubs": redirects,
            "chunks": chunks, "navigation_chunks": navigation,
            "navigation_share": round(navigation / chunks, 4) if chunks else 0.0, "examples": examples,
            "seconds": round(time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--every", type=int, default=1, help="every Nth file (sorted by path)")
    args = parser.parse_args(argv)
    files = sorted(args.root.rglob("*.html"))[:: max(1, args.every)]
    if not files:
        print(f"no HTML under {args.root}: apt-get install python3.11-doc", file=sys.stderr)
        return 2
    from index import loaders
    from index.errors import LoaderError

    before_module = old_loader()
    before = count(files, before_module.load_file, LoaderError)
    after = count(files, loaders.load_file, LoaderError)
    for name, row in (("before", before), ("after", after)):
        print(f"{name:<6} {row['documents']:>4} docs {row['chunks']:>6} chunks, "
              f"navigation {row['navigation_chunks']:>5} ({row['navigation_share']:.1%}), "
              f"redirect stubs skipped {row['redirect_stubs']}")
    path = write_result("html_boilerplate", {
        "corpus": f"{args.root} (every {args.every}th file)" if args.every > 1 else str(args.root),
        "before_loader": f"index/loaders.py at {BEFORE_COMMIT}", "nav_markers": list(NAV_MARKERS),
        "before": before, "after": after,
        "command": "python -m bench.html_boilerplate" + (f" --every {args.every}" if args.every > 1 else ""),
    })
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
