"""Comparison tables with an LLM: the model writes one "row | column | text [n]" line per cell, and each cell
is checked by the `CitationVerifier` like any answer sentence; a cell it does not support becomes "not stated".
The offline tables, and the rows the model is asked to fill when the question names none: `compare`.
"""

from __future__ import annotations

from bot.answer import Passage, Table, TableCell, TableRow
from bot.answering.analyst.compare import DEFAULT_COLUMN, NOT_STATED, Footnotes
from bot.answering.analyst.questions import AnalystQuestion
from bot.answering.verify import CitationVerifier
from bot.text.markers import MARKER, parse_markers, strip_markers


def parse_generated_cells(text: str) -> dict[tuple[str, str], str]:
    """ "row | column | text [n]" lines -> {(row, column): "text [n]"} (lowercased keys)."""
    out: dict[tuple[str, str], str] = {}
    for line in text.splitlines():
        parts = [p.strip(" *`-") for p in line.strip().strip("|").split("|")]
        if len(parts) >= 3 and parts[0] and parts[1]:
            out[(parts[0].lower(), parts[1].lower())] = " | ".join(parts[2:]).strip()
    return out


def verified_table(
    question: str,
    generated: dict[tuple[str, str], str],
    aq: AnalystQuestion,
    passages: list[Passage],
    verifier: CitationVerifier,
    notes: Footnotes,
) -> tuple[Table, list[str]]:
    """The table from LLM cells ("text [n]" per (row, column)), each verified on its own; returns the table
    and the cells it removed."""
    columns = list(aq.facets) or [DEFAULT_COLUMN]
    entities = list(aq.entities) or sorted({r for r, _ in generated})
    removed: list[str] = []
    rows = []
    for entity in entities:
        cells = []
        for facet in columns:
            raw = generated.get((entity.lower(), facet.lower()), "")
            claim = strip_markers(raw).strip()
            if not claim or claim.lower().startswith(NOT_STATED) or not parse_markers(raw):
                cells.append(TableCell(NOT_STATED))
                if claim and not claim.lower().startswith(NOT_STATED):
                    removed.append(f"{entity} / {facet}: {claim}")
                continue
            result = verifier.verify(question, raw, passages, statements=False)
            kept = [c for c in result.checks if c.action in ("kept", "repointed")]
            if result.outcome != "ok" or not kept or len(kept) != len(result.checks):
                removed.append(f"{entity} / {facet}: {claim}")
                cells.append(TableCell(NOT_STATED))
                continue
            ns = []
            for n in parse_markers(result.answer.text):
                c = result.answer.citations[n - 1]
                p = next(p for p in passages if p.chunk_id == c.chunk_id)
                ns.append(notes.cite(p, c.quote))
            cells.append(TableCell(MARKER.sub("", strip_markers(result.answer.text)).strip(), ns))
        rows.append(TableRow(entity, cells))
    return Table(columns, rows), removed
