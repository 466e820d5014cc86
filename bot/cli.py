"""`footnote` command line: the composition root. Settings are built once here and passed down; our errors
become user text in exactly one place (`main`)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from index.errors import FootnoteError
from index.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="footnote", description="Answers with footnotes, over your documents.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and decisions to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="index files or folders (.txt .md .html .pdf .docx)")
    ingest.add_argument("paths", nargs="+", type=Path)
    ingest.add_argument("--collection", help="Chroma collection (default FOOTNOTE_COLLECTION)")
    ingest.add_argument("--no-prune", action="store_true",
                        help="keep documents whose files were removed from these folders")
    ingest.add_argument("--rebuild", action="store_true", help="drop the collection and index from scratch")
    ingest.add_argument("--json", action="store_true", help="print the summary as JSON")

    status = sub.add_parser("status", help="what is indexed")
    status.add_argument("--collection")
    status.add_argument("--json", action="store_true")

    ask = sub.add_parser("ask", help="answer one question with footnotes")
    ask.add_argument("question")
    ask.add_argument("--collection")
    ask.add_argument("--conversation", help="continue conversation ID (history kept under the data dir)")
    ask.add_argument("--mode", choices=["auto", "extractive", "llm"], help="override FOOTNOTE_ANSWER_MODE")
    ask.add_argument("--source", action="append", default=[], help="only passages from this source (repeatable)")
    ask.add_argument("--since", help="only documents dated on/after YYYY-MM-DD")
    ask.add_argument("--until", help="only documents dated on/before YYYY-MM-DD")
    ask.add_argument("--json", action="store_true", help="machine-readable answer with citations and trace")
    ask.add_argument("--trace", action="store_true", help="also print the JSON trace")

    chat = sub.add_parser("chat", help="interactive terminal chat")
    chat.add_argument("--collection")
    chat.add_argument("--mode", choices=["auto", "extractive", "llm"])

    sub.add_parser("discord", help="run the Discord bot (needs DISCORD_TOKEN)")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    from pydantic import ValidationError

    overrides: dict[str, Any] = {}
    if getattr(args, "mode", None):
        overrides["answer_mode"] = args.mode
    try:
        return Settings(**overrides)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in err.errors())
        raise FootnoteError(f"Invalid configuration: {problems}") from err


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    from index.embeddings import make_embedder
    from index.ingest import Ingestor

    ingestor = Ingestor(settings, make_embedder(settings), collection=args.collection)
    summary = ingestor.run(args.paths, prune=not args.no_prune, rebuild=args.rebuild)
    if args.json:
        print(json.dumps(summary.to_json(), indent=2))
        return 0
    print(
        f"indexed {len(summary.indexed)} · unchanged {len(summary.unchanged)} · "
        f"skipped {len(summary.skipped)} · deleted {len(summary.deleted)}"
        + (f" · recovered {summary.recovered} from an interrupted run" if summary.recovered else "")
    )
    for path, reason in summary.skipped:
        print(f"  skipped {path}: {reason}")
    for path, note in summary.notes:
        print(f"  note {path}: {note}")
    print(f"{summary.documents} documents, {summary.chunks} chunks in {summary.seconds:.1f} s")
    return 0


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from index.status import index_status

    status = index_status(settings, args.collection)
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        for key, value in status.items():
            print(f"{key.replace('_', ' ')}: {value}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handlers = {"ingest": cmd_ingest, "status": cmd_status}
    try:
        settings = _settings(args)
        return handlers[args.command](settings, args)
    except FootnoteError as err:
        print(f"footnote: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("footnote: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
