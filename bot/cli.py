"""`footnote` command line: the composition root. Settings are built once here and passed down; our errors
become user text in exactly one place (`main`)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from index.errors import FootnoteError
from index.settings import Settings


def say(text: str, *, end: str = "\n", file: Any = None) -> None:
    """Everything the CLI prints goes through here: control characters from documents, file names or model text
    (terminal escapes, bidi overrides) are removed, so a hostile document cannot drive the terminal."""
    from bot.terminal import printable

    print(printable(text), end=end, file=file or sys.stdout)


def to_json(value: Any) -> str:
    """JSON with every control and bidi character escaped (\\uXXXX): the data is kept, the terminal is safe."""
    from bot.terminal import escape_controls

    return escape_controls(json.dumps(value, indent=2, ensure_ascii=False))


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
    ingest.add_argument("--wait", type=float, metavar="SECONDS",
                        help="if another ingest is writing this index, wait this long for it (default "
                             "FOOTNOTE_INGEST_WAIT_S, 0: refuse at once)")

    status = sub.add_parser("status", help="what is indexed")
    status.add_argument("--collection")
    status.add_argument("--json", action="store_true")

    ask = sub.add_parser("ask", help="answer one question with footnotes")
    ask.add_argument("question")
    ask.add_argument("--collection")
    ask.add_argument("--conversation", help="continue conversation ID (history kept under the data dir)")
    ask.add_argument("--mode", choices=["auto", "extractive", "llm"], help="override FOOTNOTE_ANSWER_MODE")
    ask.add_argument("--source", action="append", default=[],
                     help="only passages from this document or folder: its path (as ingested, or from here), or "
                          "the URL it claims, or a prefix of either (repeatable)")
    ask.add_argument("--since", help="only documents dated on/after this day: YYYY-MM-DD, YYYY-MM, yesterday, ...")
    ask.add_argument("--until", help="only documents dated on/before this day: YYYY-MM-DD, YYYY-MM, today, ...")
    ask.add_argument("--as-of", help="ask as of this day: nothing dated later, and 'this week'/'latest' mean then")
    ask.add_argument("--json", action="store_true", help="machine-readable answer with citations and trace")
    ask.add_argument("--format", choices=["text", "markdown"], default="text",
                     help="markdown: the answer as a Markdown document with footnotes and full quotes")
    ask.add_argument("--trace", action="store_true", help="also print the JSON trace")

    chat = sub.add_parser("chat", help="interactive terminal chat")
    chat.add_argument("--collection")
    chat.add_argument("--mode", choices=["auto", "extractive", "llm"])

    discord_cmd = sub.add_parser("discord", help="run the Discord bot (needs DISCORD_TOKEN)")
    discord_cmd.add_argument("--metrics-port", type=int, metavar="PORT",
                             help="serve /healthz and Prometheus /metrics on this port (FOOTNOTE_METRICS_PORT)")
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

    if args.wait is not None:
        settings = settings.model_copy(update={"ingest_wait_s": max(0.0, args.wait)})
    from index.progress import progress_for

    progress = progress_for(sys.stderr, settings.progress_every_s)  # None on a terminal: tqdm draws a bar there
    ingestor = Ingestor(settings, make_embedder(settings), collection=args.collection, progress=progress)
    summary = ingestor.run(args.paths, prune=not args.no_prune, rebuild=args.rebuild)
    if progress is not None:
        progress.finish()
    if args.json:
        say(to_json(summary.to_json()))
        return 0
    say(
        f"indexed {len(summary.indexed)} · unchanged {len(summary.unchanged)} · "
        f"skipped {len(summary.skipped)} · deleted {len(summary.deleted)}"
        + (f" · recovered {summary.recovered} from an interrupted run" if summary.recovered else "")
    )
    for path, reason in summary.skipped:
        say(f"  skipped {path}: {reason}")
    for path, note in summary.notes:
        say(f"  note {path}: {note}")
    if summary.chunks_written:  # the model is the cost: say how much of it a change needed
        say(f"chunks written {summary.chunks_written}: embedded {summary.chunks_embedded}, "
            f"reused {summary.chunks_reused} (same text already indexed)")
    say(f"{summary.documents} documents, {summary.chunks} chunks in {summary.seconds:.1f} s")
    return 0


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from index.status import index_status

    status = index_status(settings, args.collection)
    if args.json:
        say(to_json(status))
    else:
        for key, value in status.items():
            say(f"{key.replace('_', ' ')}: {value}")
    return 0


def build_engine(settings: Settings, *, history: bool = True) -> Any:
    """Wire the read path: embedder, hybrid retriever, optional LLM, conversation history (`history`: only
    where a conversation is kept, so a one-shot `ask` creates no file and works on a read-only data dir)."""
    from bot.conversation import ConversationStore
    from bot.retrieval import HybridRetriever
    from bot.text.embedder import SentenceEmbedder
    from bot.wiring import assemble_engine
    from index.embeddings import make_embedder

    embedder = make_embedder(settings)
    embed = SentenceEmbedder(embedder, cache_dir=settings.data_dir)  # shared: the question is embedded once
    retriever = HybridRetriever(settings, embedder, query_embed=embed)
    # Model, Chroma and BM25 load in the background while the engine's imports and tokenizer load here.
    # Not a daemon: exiting while it is inside ONNX Runtime or Chroma native code would abort the process.
    warm = threading.Thread(target=retriever.warm, name="footnote-warm")
    warm.start()
    llm = None
    if settings.llm_configured and settings.answer_mode != "extractive":
        from bot.llm import LLMClient

        llm = LLMClient(settings)
    store = ConversationStore.from_settings(settings) if history else None
    return assemble_engine(settings, retriever, embed, llm, store)


def _filters(settings: Settings, args: argparse.Namespace) -> Any:
    """--source / --since / --until as retrieval filters, checked before anything loads: a date that is not one
    or a source that is not indexed is told at once, never silently turned into "nothing matches"."""
    from bot.answer import RetrievalFilters
    from bot.cli_dates import DateError, date_range
    from index.sources import resolve_sources

    if not (args.source or args.since or args.until):
        return None
    try:
        since, until = date_range(args.since, args.until)
    except DateError as err:
        raise FootnoteError(f"--since/--until: {err}") from err
    sources = resolve_sources(settings, args.collection or settings.collection, args.source) if args.source else ()
    return RetrievalFilters(sources=sources, date_from=since, date_to=until)


# What the fallback line says, by `Answer.fallback_kind`: a user should know whether the LLM failed, was too
# slow, or answered with nothing the checks could confirm (a different problem: the model, not the server).
_FALLBACK_LABELS = {
    "llm_error": "LLM unavailable",
    "deadline": "LLM too slow",
    "unverified": "LLM answer not verified",
}


def fallback_line(answer: Any) -> str:
    label = _FALLBACK_LABELS.get(answer.fallback_kind or "llm_error", "LLM unavailable")
    return f"({label}: {answer.fallback_reason} — showing the extractive answer)"


def render_answer(answer: Any, allowlist: Sequence[str] = ()) -> str:
    """Plain-text rendering for terminals: the answer, then its footnotes (no control characters)."""
    from bot.terminal import printable

    lines: list[str] = []
    if answer.mode == "fallback":
        lines.append(fallback_line(answer))
    lines.append(answer.text)
    if answer.citations:
        lines.append("")
        for c in answer.citations:
            where = source_line(c, allowlist)
            date = f", as of {c.date}" if c.date else ", undated"
            lines.append(f"[{c.n}] {c.title} — {where}{date}")
            lines.append(f"    “{' '.join(c.quote.split())}”")  # one line, even for a quoted list
    if answer.refused and answer.nearest_sources:
        lines.append("")
        lines.append("Nearest sources:")
        for c in answer.nearest_sources:
            lines.append(f"  - {c.title} — {source_line(c, allowlist)}")
    return printable("\n".join(lines))


def source_line(c: Any, allowlist: Sequence[str] = ()) -> str:
    """Where a passage really came from (its path under the ingest root), then the URL the document claims, marked
    as a claim: a document can name any URL (issue 12). With FOOTNOTE_URL_ALLOWLIST, a URL on another host is not
    shown as a link at all."""
    from bot.terminal import allowed_link

    if not c.url or c.url == c.source:
        return str(c.source or c.url or "")
    link = allowed_link(c.url, allowlist)
    if link is None:
        return f"{c.source} (claims a link to a host not in FOOTNOTE_URL_ALLOWLIST)"
    return f"{c.source} · claims {link}"


def _answer(engine: Any, question: str, *, stream: bool, **kwargs: Any) -> Any:
    """The final answer; with `stream` (an LLM engine writing to a TTY), the draft is shown as it arrives and
    erased before the caller prints the verified answer."""
    if not (stream and engine.streams and sys.stdout.isatty()):
        return engine.ask(question, **kwargs)
    import asyncio

    from bot.answer import FinalAnswer, TextDelta
    from bot.terminal import DraftPrinter

    draft = DraftPrinter(sys.stdout)

    async def consume() -> Any:
        final = None
        async for event in engine.astream(question, **kwargs):
            if isinstance(event, TextDelta):
                draft.write(event.text)
            elif isinstance(event, FinalAnswer):
                final = event.answer
        return final

    try:
        return asyncio.run(consume())
    finally:
        draft.clear()  # also on Ctrl-C or an error: no half-drafted text is left looking like an answer


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    filters = _filters(settings, args)
    from bot.recency import as_of_option

    as_of = as_of_option(args.as_of)  # a bad date is told before anything loads
    engine = build_engine(settings, history=bool(args.conversation))
    answer = _answer(
        engine, args.question, stream=not args.json and args.format == "text",
        conversation_id=args.conversation, collection=args.collection, filters=filters, as_of=as_of,
    )
    if args.json:
        say(to_json(answer.to_json()))
        return 0
    if args.format == "markdown":
        from bot.answering.markdown_export import to_markdown

        say(to_markdown(answer), end="")
        return 0
    say(render_answer(answer, settings.url_allowlist))
    if args.trace:
        say(to_json(answer.trace))
    return 0


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    import uuid

    engine = build_engine(settings)
    conversation = f"chat-{uuid.uuid4().hex[:8]}"
    print(f"Footnote chat ({engine.mode} answers). Empty line or Ctrl-D quits; /new starts a new conversation.")
    while True:
        try:
            question = input("\nyou> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        if question == "/new":
            conversation = f"chat-{uuid.uuid4().hex[:8]}"
            print("(new conversation)")
            continue
        try:
            answer = _answer(engine, question, stream=True, conversation_id=conversation, collection=args.collection)
        except FootnoteError as err:  # a bad question should not end the session
            say(f"footnote: {err}")
            continue
        print()
        say(render_answer(answer, settings.url_allowlist))


def cmd_discord(settings: Settings, args: argparse.Namespace) -> int:
    from bot.discord.launch import check_token, run_bot
    from index.admin import IndexAdmin

    check_token(settings)  # before the model and index load: a missing token is told in a moment, not seconds
    engine = build_engine(settings)
    admin = IndexAdmin(settings, engine.retriever.embedder)
    port = args.metrics_port or settings.metrics_port
    if not port:
        run_bot(settings, engine, admin)
        return 0
    from bot.ops.metrics import start_ops

    service, ops = start_ops(settings, engine, admin, port)
    try:
        run_bot(settings, service, admin, on_bot=ops.attach)
    finally:
        ops.stop()
    return 0


# Commands that only read the index (plus committed SQLite writes of conversation history).
_READ_ONLY = frozenset({"ask", "status"})


def _exit_now(code: int) -> None:
    """Skip interpreter teardown (~0.4 s of freeing llama-index's and chromadb's module graphs) after a read-only
    command: Chroma was only read and SQLite commits are already durable, so nothing is left to flush but stdio."""
    from index.store import remove_snapshots

    remove_snapshots()  # atexit does not run after os._exit
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # `footnote status | head`: the reader has gone, nothing left to say
            pass
    logging.shutdown()
    os._exit(code)


def _printable_record(record: logging.LogRecord) -> bool:
    from bot.terminal import printable

    record.msg, record.args = printable(record.getMessage()), None
    return True


def main(argv: list[str] | None = None, *, fast_exit: bool = False) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:  # log lines name files too: same rule as everything printed
        handler.addFilter(_printable_record)
    handlers = {
        "ingest": cmd_ingest, "status": cmd_status, "ask": cmd_ask, "chat": cmd_chat, "discord": cmd_discord,
    }
    try:
        settings = _settings(args)
        from bot.ops.logs import use_log_format

        use_log_format(settings.log_format)  # FOOTNOTE_LOG_FORMAT=json: one JSON object per line
        code = handlers[args.command](settings, args)
        if fast_exit and args.command in _READ_ONLY:
            _exit_now(code)
        return code
    except FootnoteError as err:
        say(f"footnote: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `footnote status | head`: the reader has all it wanted. Point stdout at /dev/null so that the final
        # flush at exit cannot raise again; 141 is what a process killed by SIGPIPE reports (128 + 13).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141
    except KeyboardInterrupt:
        print("footnote: interrupted", file=sys.stderr)
        return 130


def entry_point() -> None:
    """The `footnote` console script."""
    sys.exit(main(fast_exit=True))


if __name__ == "__main__":
    entry_point()
