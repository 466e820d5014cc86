"""The `footnote` CLI end to end, in-process: real ingest into embedded Chroma, real engine, JSON contracts."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import SAMPLE_CORPUS


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no .env from the repo; data under tmp
    monkeypatch.setenv("FOOTNOTE_DATA_DIR", str(tmp_path / "data"))

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def ingested(cli):  # type: ignore[no-untyped-def]
    code, out, _ = cli("ingest", str(SAMPLE_CORPUS), "--json")
    assert code == 0
    return json.loads(out)


def corpus_text() -> str:
    return "\n".join(p.read_text() for p in sorted(SAMPLE_CORPUS.glob("*.md")))


def test_ingest_status_and_reingest(cli, ingested) -> None:  # type: ignore[no-untyped-def]
    assert ingested["indexed"] == 8 and ingested["skipped"] == [] and ingested["chunks"] > 8
    code, out, _ = cli("status", "--json")
    status = json.loads(out)
    assert code == 0
    assert (status["documents"], status["chunks"], status["bm25_chunks"]) == (8, ingested["chunks"], ingested["chunks"])
    assert status["embedding_model"] == "all-MiniLM-L6-v2-int8-onnx" and status["last_ingest"]
    code, out, _ = cli("ingest", str(SAMPLE_CORPUS), "--json")
    again = json.loads(out)
    assert (again["indexed"], again["unchanged"], again["chunks"]) == (0, 8, ingested["chunks"])


def test_ask_json_contract_and_verbatim_quotes(cli, ingested) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("ask", "--json", "How many people did Tajikistan and Kyrgyzstan each say were killed?")
    assert code == 0
    answer = json.loads(out)
    assert answer["mode"] == "extractive" and answer["refused"] is False
    assert "41" in answer["answer"] and "59" in answer["answer"]
    assert {c["n"] for c in answer["citations"]} == set(range(1, len(answer["citations"]) + 1))
    text = corpus_text()
    for citation in answer["citations"]:
        assert set(citation) >= {"n", "title", "source", "quote"}
        assert citation["quote"] in text, "quotes must be verbatim passages"
        assert f"[{citation['n']}]" in answer["answer"]
    assert len({c["source"] for c in answer["citations"]}) >= 2, "this answer needs two documents"
    assert {"question", "retrieval", "timings_ms"} <= set(answer["trace"])


def test_ask_plain_text_footnotes(cli, ingested) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("ask", "When did Kyrgyzstan take delivery of its TB2 drones?")
    assert code == 0
    assert "December 2021" in out and "[1]" in out
    assert "How Kyrgyzstan Armed Itself" in out  # footnote title


def test_off_topic_question_is_refused_with_nearest_sources(cli, ingested) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("ask", "--json", "What is a good recipe for sourdough bread?")
    answer = json.loads(out)
    assert code == 0 and answer["refused"] is True and answer["citations"] == []
    assert answer["nearest_sources"], "a refusal lists the nearest sources"


def test_conversation_follow_up_resolves(cli, ingested) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("ask", "--conversation", "c1", "How many people did Tajikistan say were killed?")
    assert code == 0 and "41" in out
    code, out, _ = cli("ask", "--json", "--conversation", "c1", "And what did Kyrgyzstan report?")
    answer = json.loads(out)
    assert "59" in answer["answer"], answer
    assert answer["rewritten_question"] and "kill" in answer["rewritten_question"].lower()


def test_source_filter_restricts_citations(cli, ingested) -> None:  # type: ignore[no-untyped-def]
    source = "https://example.org/footnote-sample/kyrgyz-casualty-report"
    code, out, _ = cli("ask", "--json", "--source", source, "How many people were killed?")
    answer = json.loads(out)
    assert code == 0 and answer["citations"]
    assert {c["source"] for c in answer["citations"]} == {source}


def test_chat_session(cli, ingested, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO("How many homes were damaged in Kyrgyzstan?\n/new\n\n"))
    code, out, _ = cli("chat")
    assert code == 0
    assert "613" in out and "(new conversation)" in out


def test_errors_become_one_line_messages(cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("ask", "anything at all?")
    assert code == 2 and "footnote ingest" in err and "Traceback" not in err
    code, _, err = cli("ingest", "no/such/folder")
    assert code == 2 and "No such file or directory: no/such/folder" in err


def test_overlong_question_is_refused_clearly(cli, ingested) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("ask", "why? " * 30_000)
    assert code == 2 and "too long" in err.lower() and len(err) < 400
