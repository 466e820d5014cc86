"""Rendering without a network: message parts, the footnote embed and its limits, previews, Sources text."""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

from bot.answer import Answer, Citation
from bot.discord.render import (
    EMBED_FIELDS,
    EMBED_TOTAL,
    FALLBACK_LABEL,
    FIELD_NAME,
    FIELD_VALUE,
    render_answer,
    render_sources,
    stats_embed,
    status_embed,
    stream_preview,
)
from bot.discord.views import answer_view
from bot.feedback import Stats, StoredAnswer


def _cit(n: int, **over: object) -> Citation:
    values: dict[str, object] = {
        "n": n,
        "title": f"Handbook {n}",
        "source": f"docs/handbook-{n}.md",
        "quote": "Deploys go through CI.",
        "chunk_id": f"c{n}",
        "context": "Intro text. Deploys go through CI. More text after.",
        "url": f"https://wiki.example.com/{n}",
        "date": "2024-05-01",
    }
    values.update(over)
    return Citation(**values)  # type: ignore[arg-type]


def _answer(**over: object) -> Answer:
    values: dict[str, object] = {
        "question": "q",
        "text": "Deploys go through CI [1].",
        "citations": [_cit(1)],
        "mode": "llm",
    }
    values.update(over)
    return Answer(**values)  # type: ignore[arg-type]


def test_answer_with_embed() -> None:
    r = render_answer(_answer())
    assert r.parts == ["Deploys go through CI [1]."]
    assert r.embed is not None
    d = r.embed.to_dict()
    assert d["title"] == "Sources"
    field = d["fields"][0]
    assert field["name"] == "[1] Handbook 1"
    assert "[docs/handbook-1.md](https://wiki.example.com/1) · as of 2024-05-01" in field["value"]
    assert "> Deploys go through CI." in field["value"]


def test_fallback_is_labelled() -> None:
    r = render_answer(_answer(mode="fallback", fallback_reason="timeout"))
    assert r.parts[0].startswith(FALLBACK_LABEL)
    assert "LLM unavailable — extractive answer" in FALLBACK_LABEL


def test_refusal_shows_nearest_sources() -> None:
    r = render_answer(
        _answer(
            text="I couldn't find this in the documents.",
            refused=True,
            citations=[],
            nearest_sources=[_cit(1, title="Close but no"), _cit(2)],
        )
    )
    assert r.embed is not None
    d = r.embed.to_dict()
    assert d["title"] == "Nearest sources"
    assert [f["name"] for f in d["fields"]] == ["[1] Close but no", "[2] Handbook 2"]
    assert "do not answer" in d["footer"]["text"]


def test_no_citations_no_embed() -> None:
    assert render_answer(_answer(citations=[])).embed is None


def test_removed_sentences_noted() -> None:
    r = render_answer(_answer(removed=["An unsupported claim."]))
    assert "1 sentence removed" in r.parts[-1]


def test_embed_limits_hold_for_many_long_citations() -> None:
    cits = [
        _cit(i, title="T" * 400, quote="word " * 400, source="s" * 300, url="https://x.example/" + "p" * 400)
        for i in range(1, 41)
    ]
    r = render_answer(_answer(citations=cits))
    assert r.embed is not None
    d = r.embed.to_dict()
    assert len(d["fields"]) <= EMBED_FIELDS
    assert all(len(f["name"]) <= FIELD_NAME and len(f["value"]) <= FIELD_VALUE for f in d["fields"])
    assert len(r.embed) <= EMBED_TOTAL
    assert "more not shown" in d["footer"]["text"]


def test_only_web_links_become_links() -> None:
    r = render_answer(_answer(citations=[_cit(1, url="javascript:alert(1)"), _cit(2, url="https://a.example/x(1)")]))
    assert r.embed is not None
    values = [f["value"] for f in r.embed.to_dict()["fields"]]
    assert "javascript:" not in values[0]
    assert "(https://a.example/x%281%29)" in values[1]


def test_long_answer_split_and_mentions_untouched() -> None:
    text = "@everyone <@&123> " + ("Deploys go through CI [1]. " * 200)
    r = render_answer(_answer(text=text))
    assert len(r.parts) > 1 and all(len(p) <= 2000 for p in r.parts)
    assert r.parts[0].startswith("@everyone <@&123>")  # shown as written; allowed_mentions keeps it silent


def test_stream_preview_fits_and_balances_fences() -> None:
    p = stream_preview("```python\n" + "x = 1\n" * 1000)
    assert len(p) <= 2000 and p.count("```") % 2 == 0 and p.startswith("…")
    assert "writing" in stream_preview("Deploys")


def test_sources_text_has_context_and_bold_quote() -> None:
    stored = StoredAnswer(1, "q", "a", "llm", False, [_cit(1), _cit(2, context="x" * 5000, quote="x" * 10)], [])
    parts = render_sources(stored)
    assert all(len(p) <= 2000 for p in parts)
    assert "**[1] Handbook 1**" in parts[0]
    assert "> Intro text. **Deploys go through CI.** More text after." in parts[0]
    assert "<https://wiki.example.com/1>" in parts[0]
    refusal = StoredAnswer(2, "q", "no", "extractive", True, [], [_cit(3)])
    assert "Nearest passages" in render_sources(refusal)[0]


def test_status_and_stats_embeds() -> None:
    s = status_embed({"documents": 3, "embedding_model": "m"}).to_dict()
    assert [f["name"] for f in s["fields"]] == ["Documents", "Embedding model"]
    st = stats_embed(Stats(10, 2, 1, 3, 1, top_unanswered=[("vpn password?", 2)])).to_dict()
    values = {f["name"]: f["value"] for f in st["fields"]}
    assert values["Refusals"] == "2 (20%)"
    assert "👍 3 / 👎 1 (75% positive)" == values["Feedback"]
    assert "1. vpn password? ×2" in values["Top unanswered questions"]


def test_answer_view_custom_ids_are_persistent() -> None:
    view = answer_view(42)
    assert view.timeout is None and view.is_persistent()
    ids = [c["custom_id"] for row in view.to_components() for c in row["components"]]
    assert ids == ["footnote:src:42", "footnote:vote:up:42", "footnote:vote:down:42"]


def test_a_web_source_shows_its_link_once_and_a_readable_label() -> None:
    # Issue 10: Sources showed the URL twice; the embed's link label was the raw URL when source == url.
    url = "https://www.example.org/footnote-sample/tajik-casualty-report"
    c = _cit(1, source=url, url=url)
    [text] = render_sources(StoredAnswer(1, "q", "a", "llm", False, [c], []))
    assert text.count("example.org/footnote-sample") == 1 and f"<{url}>" in text
    r = render_answer(_answer(citations=[c]))
    assert r.embed is not None
    value = r.embed.to_dict()["fields"][0]["value"]
    assert value.startswith(f"[example.org]({url}) · as of 2024-05-01")


def test_reindex_summary_is_human_and_relative() -> None:
    from pathlib import PurePath

    from bot.discord.render import progress_line, reindex_summary

    summary = {
        "indexed": 3,
        "unchanged": 5,
        "skipped": [{"path": "/srv/corpus/fin/q3.pdf", "reason": "corrupt PDF"}],
        "deleted": 0,
        "notes": [],
        "documents": 8,
        "chunks": 1204,
        "seconds": 2.14,
    }
    roots = [PurePath("/srv/corpus")]
    assert reindex_summary(summary, roots) == (
        "✅ Reindex finished in 2.1 s — Indexed 3 · unchanged 5 · skipped 1 · deleted 0\n"
        "8 documents, 1,204 chunks in the index.\n"
        "Skipped:\n- fin/q3.pdf: corrupt PDF"
    )
    assert progress_line("2/8 files · /srv/corpus/a/b.md", roots) == "2/8 files · a/b.md"
    assert progress_line("2/8 files · /elsewhere/c.md", roots) == "2/8 files · c.md"  # never a full server path


def test_control_characters_from_documents_never_reach_discord() -> None:
    """Issue 12 item 14: escape sequences and bidi overrides in a document's title, quote or an answer's text."""
    import json

    hostile = "\x1b]0;owned\x07Hand\u202ebook\x1b[2J"
    cit = _cit(1, title=hostile, quote="Deploys go\x1b[31m through CI.", context="Deploys go\x1b[31m through CI.")
    r = render_answer(_answer(text="Deploys\u2066 go through CI\x07 [1].", citations=[cit]))
    shown = json.dumps([r.parts, [e.to_dict() for e in r.embeds]], ensure_ascii=False)
    for bad in ("\x1b", "\x07", "\u202e", "\u2066", "[2J", "owned"):
        assert bad not in shown, bad
    assert "Deploys go through CI [1]." in r.parts[0] and "Handbook" in shown
    sources = "\n".join(render_sources(StoredAnswer(1, "q", "a", "llm", False, [cit], [])))
    assert "\x1b" not in sources and "\u202e" not in sources and "Handbook" in sources
    assert "\x1b" not in stream_preview("draft \x1b[2J text")
