"""`/healthz` and Prometheus `/metrics` for a running bot (issue 14 item 7), with `prometheus-client`.

`MeteredService` wraps any `bot.answer.AnswerService` (the engine, or a test's fake) and counts each answer by
mode and outcome (answered, refused, fallback) with its latency, and the LLM tokens its trace records (`llm_tokens`);
`OpsServer.attach` counts the 👍/👎 votes the bot's feedback store records; gauges read the bot's gateway state and
the index size when scraped. `OpsServer` serves both paths from a plain threaded HTTP server (no framework), on its
own registry so that nothing global is touched. The core never imports this module.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.answer import Answer, AnswerEvent, AnswerService, FinalAnswer

log = logging.getLogger(__name__)

# Seconds; extractive answers take well under a second on a quiet machine, LLM ones up to the question deadline.
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)


# The LLM calls whose token counts an answer's trace (`Answer.trace["tokens"]`) may hold: stage -> the keys of the
# server's usage figures (prompt, completion), reported by a non-streamed completion. A streamed answer (every LLM
# answer in Discord) gets no usage from the server: its generation is counted by the local tokenizer instead
# (the trace's `prompt` and `completion`, present once the model's text arrived), labelled counted_by="local".
# Nothing writes the rewrite and judge keys yet (their calls' usage is not in the trace): they count once it is.
TOKEN_STAGES = {
    "generation": ("llm_prompt_tokens", "llm_completion_tokens"),
    "rewrite": ("rewrite_prompt_tokens", "rewrite_completion_tokens"),
    "judge": ("judge_prompt_tokens", "judge_completion_tokens"),
}


def llm_tokens(answer: Answer) -> list[tuple[str, str, str, int]]:
    """(stage, kind, counted_by, tokens) for each LLM call the answer's trace has token counts of."""
    raw = (answer.trace or {}).get("tokens")
    tokens = raw if isinstance(raw, dict) else {}
    out: list[tuple[str, str, str, int]] = []
    for stage, keys in TOKEN_STAGES.items():
        for kind, key in zip(("prompt", "completion"), keys, strict=True):
            if isinstance(tokens.get(key), int):
                out.append((stage, kind, "server", tokens[key]))
    if not any(stage == "generation" for stage, *_ in out) and isinstance(tokens.get("completion"), int):
        out += [("generation", kind, "local", int(tokens.get(kind) or 0)) for kind in ("prompt", "completion")]
    return out


def outcome_of(answer: Answer) -> str:
    if answer.refused:
        return "refused"
    return "fallback" if answer.mode == "fallback" else "answered"


class BotMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.questions = Counter("footnote_questions", "Questions answered, by answer mode and outcome",
                                 ["mode", "outcome"], registry=self.registry)
        self.latency = Histogram("footnote_answer_seconds", "Time from question to final answer",
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.errors = Counter("footnote_question_errors", "Questions that ended in an error", registry=self.registry)
        self.gateway_connected = Gauge("footnote_gateway_connected", "1 while the Discord gateway is connected",
                                       registry=self.registry)
        self.gateway_latency = Gauge("footnote_gateway_latency_seconds", "Discord gateway heartbeat latency",
                                     registry=self.registry)
        self.llm_tokens = Counter("footnote_llm_tokens", "LLM tokens of answered questions, by call (generation, "
                                  "rewrite, judge), kind (prompt, completion) and who counted them (server: the "
                                  "API's usage; local: Footnote's tokenizer, for streamed answers)",
                                  ["stage", "kind", "counted_by"], registry=self.registry)
        self.votes = Counter("footnote_feedback_votes", "Feedback votes recorded from the answer buttons, by verdict "
                             "(a user's repeated identical vote is not counted again)", ["verdict"],
                             registry=self.registry)
        for verdict in ("up", "down"):
            self.votes.labels(verdict=verdict)  # exported as 0 before the first vote
        self.index_chunks = Gauge("footnote_index_chunks", "Chunks in the collection (-1: index unreachable)",
                                  registry=self.registry)

    def observe(self, answer: Answer, seconds: float) -> None:
        self.questions.labels(mode=answer.mode, outcome=outcome_of(answer)).inc()
        self.latency.observe(seconds)
        for stage, kind, counted_by, tokens in llm_tokens(answer):
            self.llm_tokens.labels(stage=stage, kind=kind, counted_by=counted_by).inc(tokens)

    def vote(self, vote: int) -> None:
        self.votes.labels(verdict="up" if vote > 0 else "down").inc()


class MeteredService:
    """An `AnswerService` that records every answer in `metrics` and otherwise passes everything through."""

    def __init__(self, inner: AnswerService, metrics: BotMetrics) -> None:
        self.inner = inner
        self.metrics = metrics

    @property
    def streams(self) -> bool:
        return self.inner.streams

    def __getattr__(self, name: str) -> Any:  # anything else the frontend uses from the engine
        return getattr(self.inner, name)

    async def aask(self, question: str, *, conversation_id: str | None = None, collection: str | None = None,
                   as_of: date | None = None) -> Answer:
        started = time.perf_counter()
        try:
            answer = await self.inner.aask(question, conversation_id=conversation_id, collection=collection,
                                           as_of=as_of)
        except Exception:
            self.metrics.errors.inc()
            raise
        self.metrics.observe(answer, time.perf_counter() - started)
        return answer

    async def astream(self, question: str, *, conversation_id: str | None = None, collection: str | None = None,
                      as_of: date | None = None) -> AsyncIterator[AnswerEvent]:
        started = time.perf_counter()
        try:
            async for event in self.inner.astream(question, conversation_id=conversation_id, collection=collection,
                                                  as_of=as_of):
                if isinstance(event, FinalAnswer):
                    self.metrics.observe(event.answer, time.perf_counter() - started)
                yield event
        except Exception:
            self.metrics.errors.inc()
            raise


class OpsServer:
    """GET /healthz (200 when the gateway is connected and the index reachable, else 503; JSON body) and
    GET /metrics (Prometheus text format). `gateway` returns (connected, latency seconds) (`attach` sets it from
    the bot); `index_chunks` the collection's size (raising when the index cannot be reached)."""

    def __init__(self, metrics: BotMetrics, *, index_chunks: Callable[[], int],
                 gateway: Callable[[], tuple[bool, float]] = lambda: (False, 0.0), host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.metrics = metrics
        self.gateway = gateway
        self.index_chunks = index_chunks
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/metrics":
                    server.refresh()
                    self._send(200, generate_latest(server.metrics.registry), CONTENT_TYPE_LATEST)
                elif self.path == "/healthz":
                    status, body = server.health()
                    self._send(status, json.dumps(body).encode(), "application/json")
                else:
                    self._send(404, b"not found\n", "text/plain")

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("ops http: " + format, *args)

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.port = int(self.httpd.server_address[1])
        self._thread: threading.Thread | None = None

    def attach(self, bot: Any) -> None:
        """Read the gateway state from this discord.py bot (built after the server started) and count the votes
        its feedback store records."""
        self.gateway = lambda: (bool(bot.is_ready() and not bot.is_closed()), float(bot.latency))
        bot.feedback_store.on_vote(self.metrics.vote)

    def refresh(self) -> dict[str, Any]:
        connected, latency = self.gateway()
        self.metrics.gateway_connected.set(1 if connected else 0)
        self.metrics.gateway_latency.set(latency if latency == latency else 0.0)  # NaN before the first heartbeat
        try:
            chunks = int(self.index_chunks())
        except Exception as err:  # any failure to reach the index is what /healthz reports
            log.warning("health check: index unreachable: %s", err)
            chunks = -1
        self.metrics.index_chunks.set(chunks)
        return {"gateway_connected": connected, "index_reachable": chunks >= 0, "index_chunks": chunks}

    def health(self) -> tuple[int, dict[str, Any]]:
        body = self.refresh()
        return (200 if body["gateway_connected"] and body["index_reachable"] else 503), body

    def start(self) -> OpsServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="footnote-ops-http", daemon=False)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def start_ops(settings: Any, service: AnswerService, admin: Any, port: int) -> tuple[MeteredService, OpsServer]:
    """For `footnote discord --metrics-port`: the metered service and the started server (`attach(bot)` it once
    the bot is built; `stop()` it at exit). The index size comes from `admin.status()`, as /status shows it."""
    metrics = BotMetrics()
    ops = OpsServer(metrics, index_chunks=lambda: int(admin.status().get("chunks") or 0),
                    host=settings.metrics_host, port=port).start()
    log.info("serving /healthz and /metrics on http://%s:%d", settings.metrics_host, ops.port)
    return MeteredService(service, metrics), ops
