"""The `footnote` CLI end to end, in-process: real ingest into embedded Chroma, real engine, JSON contracts."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.terminal import DRAFT_LABEL
from tests.conftest import SAMPLE_CORPUS
from tests.fakes.openai_server import Behaviour, FakeOpenAI, Reply


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
    url = "https://example.org/footnote-sample/kyrgyz-casualty-report"
    code, out, _ = cli("ask", "--json", "--source", url, "How many people were killed?")
    answer = json.loads(out)
    assert code == 0 and answer["citations"]
    # The source is where the file really is (under the ingest root); the URL it claims is kept beside it.
    assert {(c["source"], c["url"]) for c in answer["citations"]} == {("corpus/02-kyrgyz-casualty-report.md", url)}


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


# --- LLM mode: streaming in the terminal, fallback labels ------------------------------------------------

DELIVERY = "When did Kyrgyzstan take delivery of its TB2 drones?"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def copy_the_sentence_with(phrase: str) -> Any:
    """A fake model that answers with the passage sentence holding `phrase`, cited to that passage."""

    def respond(body: dict[str, Any]) -> Behaviour:
        user = "\n".join(str(m["content"]) for m in body["messages"] if m["role"] == "user")
        for m in re.finditer(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', user, re.S):
            for sentence in re.split(r"(?<=[.!?])\s+", m.group(2)):
                if phrase in sentence:
                    return Reply(f"{sentence.rstrip('.')} [{m.group(1)}].", chunks=6)
        return Reply("The documents don't answer this question.")

    return respond


@pytest.fixture
def llm_cli(cli, ingested, fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.base_url)
    monkeypatch.setenv("FOOTNOTE_ANSWER_MODE", "llm")
    fake_llm.default = copy_the_sentence_with("December 2021")
    return cli


def test_ask_streams_a_draft_on_a_tty_then_replaces_it_with_the_verified_answer(  # type: ignore[no-untyped-def]
    llm_cli, fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    assert llm_cli("ask", DELIVERY)[0] == 0
    out = terminal.getvalue()
    assert fake_llm.requests[-1].body["stream"] is True
    draft, _, final = out.partition("\x1b[J")  # the erase: back over the draft, clear to the end of the screen
    assert "\x1b[2m" in draft  # dimmed: it is not the answer yet
    draft = re.sub(r"\x1b\[[0-9;]*m", "", draft)  # each streamed piece is wrapped in its own dim/reset
    assert DRAFT_LABEL in draft and "December 2021" in draft
    assert "December 2021" in final and "[1]" in final and "\x1b" not in final
    assert not final.startswith("(")  # a verified LLM answer, not a fallback


def test_ask_without_a_tty_or_with_json_prints_only_the_final_answer(llm_cli, fake_llm: FakeOpenAI) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = llm_cli("ask", DELIVERY)
    assert code == 0 and "\x1b" not in out and DRAFT_LABEL not in out
    assert "December 2021" in out and fake_llm.requests[-1].body.get("stream") is not True
    code, out, _ = llm_cli("ask", "--json", DELIVERY)
    answer = json.loads(out)  # nothing but the JSON document
    assert answer["mode"] == "llm" and answer["fallback_kind"] is None and "judge" in answer["trace"]


def test_fallbacks_are_labelled_by_what_happened(llm_cli, fake_llm: FakeOpenAI) -> None:  # type: ignore[no-untyped-def]
    fake_llm.default = Reply("Kyrgyzstan took delivery of 75 submarines in 1850 [1].")
    code, out, _ = llm_cli("ask", DELIVERY)
    assert code == 0 and out.startswith("(LLM answer not verified: ") and "LLM unavailable" not in out
    assert "December 2021" in out  # the extractive answer
    fake_llm.default = Reply("", chunks=1)  # an empty completion: the LLM itself failed
    code, out, _ = llm_cli("ask", DELIVERY)
    assert code == 0 and out.startswith("(LLM unavailable: ")


def test_chat_streams_on_a_tty(llm_cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    terminal = Terminal()
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{DELIVERY}\n\n"))
    monkeypatch.setattr("sys.stdout", terminal)
    assert llm_cli("chat")[0] == 0
    out = terminal.getvalue()
    assert "(llm answers)" in out and DRAFT_LABEL in out and "\x1b[J" in out
    assert "December 2021" in out.rpartition("\x1b[J")[2]
