"""Comparison tables: one row per entity (named in the question, or found in the passages), one column per
facet asked, each cell a short verbatim span with its own footnote, or "not stated".

Offline, a cell is the best-scoring sentence of the passages for "<entity> <facet>" that is about that entity
(it names it, or its document does and the sentence names no other row), trimmed to the clause that holds the
facet. With an LLM, the model fills the cells and each cell is checked by the `CitationVerifier` like any
answer sentence; a cell it does not support becomes "not stated" (`generated_table`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.answer import Citation, Passage, Table, TableCell, TableRow
from bot.answering.analyst.attribution import owner, party_root, reported_clause, speaker, stated_by
from bot.answering.analyst.dates import reported_date
from bot.answering.analyst.evidence import (
    COUNT_CLASSES,
    Evidence,
    count_synonyms,
    its_list,
    lead_in_with_list,
    mentions,
    quantities,
    repeats,
    same_count_class,
    scored,
    short_span,
    told_by_row,
)
from bot.answering.analyst.facets import country_facet, facet_head, headed, placed, role_facet, titled, with_holders
from bot.answering.analyst.questions import AnalystQuestion, is_when
from bot.answering.base import make_citation
from bot.answering.extractive import ExtractiveAnswerer
from bot.text.markers import attach_markers, strip_bullet
from bot.text.terms import content_terms, stem, term_in

NOT_STATED = "not stated"
DEFAULT_COLUMN = "what the sources say"
_COUNTED = re.compile(
    r"\b(?:tolls?|deaths?|dead|killed|wound(?:s|ed)?|injur(?:y|ies|ed)|casualt\w*|number|count|figures?|"
    r"how many|losses|lives)\b",
    re.I,
)
_BOTH = re.compile(r"\b[Bb]oth\s+[A-Z]|\b(?:[Ee]ach|[Ee]ither) of\b")  # "both Kyrgyzstan", not "both sides"
_PARTY_WORD = re.compile(r"\b[A-Z][a-z]+(?:stan|ish|ian|ese|ey|ia|yz|ik)\b")
@dataclass
class Footnotes:
    """Citations numbered in order of first use; the same quote of the same chunk keeps its number."""

    citations: list[Citation] = field(default_factory=list)
    _keys: dict[tuple[str, str], int] = field(default_factory=dict)

    def cite(self, passage: Passage, quote: str) -> int:
        key = (passage.chunk_id, quote)
        if key not in self._keys:
            self._keys[key] = len(self.citations) + 1
            self.citations.append(make_citation(self._keys[key], passage, quote))
        return self._keys[key]


@dataclass(frozen=True)
class CompareSettings:
    # Offline cell acceptance: relevance (`ExtractiveAnswerer.topical`, P scale) at least `min_score`, and the
    # facet's words in the sentence or cosine(query, sentence) at least `min_semantic`. min_score: dev compare
    # rows, structure right 3/5 for every value in 0.06..0.14 (0.18: 2/5), so the refusal threshold
    # (ExtractiveConfig.refuse_below, 0.1143) is used; min_semantic (a cosine): dev compare rows 4/5 at 0.25
    # and 0.3, 3/5 at 0.35..0.5 (0.4 was the earlier value); the higher tied value is used.
    # `python -m bench.analyst --sweep --sweep-type compare` (dev split only).
    min_score: float = 0.1143
    min_semantic: float = 0.3
    max_found_rows: int = 6


class TableBuilder:
    def __init__(
        self,
        answerer: ExtractiveAnswerer,
        settings: CompareSettings | None = None,
    ) -> None:
        self.answerer = answerer
        self.settings = settings or CompareSettings()

    # --- offline ---------------------------------------------------------------------------------------

    def extractive(self, question: str, aq: AnalystQuestion, passages: list[Passage], notes: Footnotes) -> Table:
        columns = list(aq.facets) or [DEFAULT_COLUMN]
        entities = list(aq.entities) or self.found_rows(question, passages)
        rows: list[TableRow] = []
        for entity in entities:
            cells = []
            found = {
                facet: self.cell_evidence(
                    question if facet == DEFAULT_COLUMN else facet, entity, entities, passages, columns,
                    by_row=aq.accounts,
                )
                for facet in columns
                if not is_when(facet)
            }  # fmt: skip
            for facet in columns:
                # "... on what they sold Kyrgyzstan and when": the date of the row's cell for the other columns,
                # when that cell states one; another sentence's date could be of another event (not stated).
                ev = found[facet] if facet in found else _dated(found.values())
                if ev is None:
                    cells.append(TableCell(NOT_STATED))
                    continue
                if facet not in found:  # the date's own clause, not the list the sentence may lead into
                    span = short_span(ev.span, set(), must=content_terms(entity))  # a clause with a figure
                    n = notes.cite(ev.passage, ev.span.text)
                    cells.append(TableCell(strip_bullet(span.text).strip().rstrip(".;:,"), [n]))
                    continue
                focus = content_terms(f"{facet} {entity}")
                # A list item is quoted with its lead-in: "Turkish-made Bayraktar combat drones" alone states
                # nothing ("According to those reports, Kyrgyz units used, among other things: ...", dev n31).
                listed = its_list(ev.passage, ev.span) or lead_in_with_list(ev.passage, ev.span)
                # A lead-in ("... covering two kinds of equipment:") is shown with its list, whole: alone it is a
                # cut quote that states nothing (dev n08's Russia cell lacked the S-300 and Orlan-10 items).
                span = listed if listed is not None else short_span(ev.span, focus, must=content_terms(entity))
                ev = ev if listed is None else Evidence(ev.rank, ev.passage, listed, ev.score)
                n = notes.cite(ev.passage, ev.span.text)
                cells.append(TableCell(strip_bullet(span.text).strip().rstrip(".;:,"), [n]))
            rows.append(TableRow(entity, cells))
        return Table(columns, rows)

    def cell_evidence(
        self,
        facet: str,
        entity: str,
        entities: list[str],
        passages: list[Passage],
        columns: list[str] | None = None,
        *,
        by_row: bool = False,
    ) -> Evidence | None:
        """The sentence for the (entity, facet) cell, or None. `by_row`: the rows are sources compared on their
        own accounts, so the sentence must be stated by the row (its speaker, else its document, names it)."""
        others = [e for e in entities if e != entity]
        rivals = [c for c in (columns or []) if c != facet]
        facet_terms = content_terms(facet) - content_terms(entity)
        role = role_facet(facet_terms)
        head = facet_head(facet, facet_terms)
        facet_terms = with_holders(facet_terms)
        candidates = self._candidates(f"{entity} {facet}", passages)
        if role:
            # The sentences about the person, whatever they say besides the title (the facet word is rarely
            # written: "titles" for "President Recep Tayyip Erdogan's Turkey ...").
            seen = {(e.passage.chunk_id, e.span.start) for e in candidates}
            more = [e for e in self._candidates(entity, passages) if (e.passage.chunk_id, e.span.start) not in seen]
            candidates = [e for e in sorted(candidates + more, key=lambda e: -e.score) if titled(e.span.text, entity)]
        if country_facet(facet_terms):  # a person's country: a sentence naming it next to them, when one does
            candidates = [e for e in candidates if placed(e.span.text, entity)] or candidates
        candidates += self._under_heading(f"{entity} {facet}", facet_terms, head, passages, candidates)
        # Another party's statement about the row ("the Kyrgyz State Committee ... said Tajikistan had not
        # concluded a contract with Baykar") is kept only when the row says nothing on the facet itself ("a
        # Baykar spokesperson denied ...", dev n90): never one party's claim in another's cell.
        others_say: Evidence | None = None
        for e in candidates:
            text = e.span.text
            lead_in = ""
            if not content_terms(text) - content_terms(entity):
                # "- Kyrgyzstan", an item of a member list, names the row but says nothing about it; its list's
                # lead-in does ("Its founding members alongside Turkey are:", dev a04): the cell is the lead-in
                # with its list, when the lead-in itself speaks to the facet (checked below).
                whole = lead_in_with_list(e.passage, e.span)
                if whole is None:
                    continue
                e = Evidence(e.rank, e.passage, whole, e.score)
                text, lead_in = whole.text, whole.text.splitlines()[0]
            own = mentions(text, entity)
            where = f"{e.passage.title} {e.passage.heading or ''}"
            # Not named in the sentence: it counts for the row when its document is about this entity alone.
            about = own or (
                mentions(where, entity) and not any(mentions(text, o) or mentions(where, o) for o in others)
            )
            if not about or (by_row and not mentions(stated_by(e.span, e.passage), entity)):
                continue
            if told_by_row(e, others, entity):
                continue
            # The row's own account is its cell whoever it is about ("Border Watch reported that ... were
            # evacuated from the Kyrgyz border districts" against a Kyrgyz row).
            told = told_by_row(e, [entity])
            # Who owns the figure is read off the clause the cell shows: in "Turkmenistan was the first ...;
            # Kyrgyzstan was next, ..." the Kyrgyzstan clause is Kyrgyzstan's, though the sentence opens with
            # another row (dev a16). A sentence of up to 24 words is its own clause.
            clause = short_span(e.span, content_terms(f"{facet} {entity}"), must=content_terms(entity)).text
            # Rows compared on their own accounts: the cell is what the row says, whoever it is about ("Qirim
            # News reported that a drone strike had knocked out a Tajik T-72 tank" is Qirim News's claim though
            # it names the Tajik row, dev n31).
            # A clause saying "both A and B" is about each of them alike (dev n30: "two bodies to which both
            # Kyrgyzstan and Tajikistan belong" was given to Kyrgyzstan, the party named first, only).
            shared = own and _BOTH.search(clause) is not None
            party = None if by_row or shared or told else owner(clause, e.passage)
            if party is not None and any(party_root(o) == party for o in others) and not own:
                continue  # the figure belongs to another row
            if (
                party is not None
                and own
                and party != party_root(entity.split()[0])
                and self._owned_by_other(clause, entity, others)
            ):
                continue
            if _COUNTED.search(facet) and not quantities(text, facet_terms):
                continue  # a count is asked: the cell must give one
            terms = content_terms(text)
            if not same_count_class(facet_terms, terms):
                continue
            if lead_in:
                # The row's name alone is close to any query about the row: the lead-in must fit the facet.
                lead_terms = content_terms(lead_in)
                if not (
                    any(term_in(t, lead_terms) for t in facet_terms)
                    or self._semantic(facet, lead_in) >= self.settings.min_semantic
                ):
                    continue
            # A counted class is hit by any of its words ("injuries" by "139 further people were wounded").
            facet_hit = (
                role
                or any(term_in(t, terms) or any(count_synonyms(t, x) for x in terms) for t in facet_terms)
                or headed(e.passage, facet_terms, head)
            )
            if not (facet_hit or self._semantic(f"{entity} {facet}", text) >= self.settings.min_semantic):
                continue
            # A title next to the name is the role's own evidence, whatever other column the sentence also
            # fits ("Turkish Defence Minister Hulusi Akar" gives both country and position, dev n28).
            if rivals and not role and self._belongs_elsewhere(entity, facet, rivals, text, e.passage.heading):
                continue  # "41 killed" is not the answer for the "wounded" column
            if others_say is None and (who := speaker(e.span, e.passage)) is not None and not mentions(who, entity):
                others_say = e
                continue
            if others_say is not None and not told_by_row(e, [entity]):
                continue
            return e
        return others_say

    def _belongs_elsewhere(
        self, entity: str, facet: str, rivals: list[str], text: str, heading: str | None = None
    ) -> bool:
        """Another column of the table fits the sentence better (by its words and its section heading's, then
        by cosine)."""
        terms = content_terms(text) | content_terms(heading or "")

        def fit(column: str) -> tuple[int, float]:
            hits = sum(1 for t in content_terms(column) - content_terms(entity) if term_in(t, terms))
            return hits, self._semantic(f"{entity} {column}", text)

        mine = fit(facet)
        return any(fit(r) > mine for r in rivals)

    def _owned_by_other(self, text: str, entity: str, others: list[str]) -> bool:
        """ "The Tajik government puts ... killed on its side in the clashes with Kyrgyzstan at 41": the
        first party named owns the figure; in reported speech, the first party of what is reported: "the Kyrgyz
        State Committee ... said ... that Tajikistan had not concluded a contract" is about Tajikistan (dev
        a26), the Kyrgyz committee only says it."""
        first = _PARTY_WORD.search(reported_clause(text) or text)
        return first is not None and any(party_root(first.group()) == party_root(o.split()[0]) for o in others)

    def _candidates(self, query: str, passages: list[Passage]) -> list[Evidence]:
        """The query's candidates; for a count, also those a query in the sentence's own word of the counted
        class finds: "figures for the dead" is asked as "figures for the killed" of a sentence saying "killed"
        (dev a23: the Tajik "41 killed" scored 0.107 for "dead", under min_score; 0.205 for "killed"). Each
        sentence keeps its best score, read only from the queries in words it uses."""
        found = scored(self.answerer, query, passages, self.settings.min_score)
        words = re.findall(r"[A-Za-z][\w’'\-]*", query)
        asked = {stem(w) for w in words} & {t for c in COUNT_CLASSES for t in c}
        if not asked:
            return found
        forms = {stem(w): w for p in passages for w in re.findall(r"[A-Za-z]+", p.text)}
        best = {(e.passage.chunk_id, e.span.start): e for e in found}
        for alt, form in forms.items():
            if alt in asked or not any(count_synonyms(alt, a) for a in asked):
                continue
            variant = " ".join(form if stem(w) in asked else w for w in words)
            for e in scored(self.answerer, variant, passages, self.settings.min_score):
                key = (e.passage.chunk_id, e.span.start)
                if alt in content_terms(e.span.text) and (key not in best or e.score > best[key].score):
                    best[key] = e
        out: list[Evidence] = []
        for e in sorted(best.values(), key=lambda e: -e.score):
            if not any(repeats(e.span.text, o.span.text) for o in out):
                out.append(e)
        return out

    def _under_heading(
        self, query: str, facet_terms: set[str], head: str | None, passages: list[Passage], found: list[Evidence]
    ) -> list[Evidence]:
        """The sentences of a section headed by the facet ("## Method" for "methods"), after the scored
        candidates: the section is about the facet though its sentences need not say so ("The monitors relied
        on hospital records ...", which scores under `min_score` for "Border Watch methods", dev n12)."""
        seen = {(e.passage.chunk_id, e.span.start) for e in found}
        out: list[Evidence] = []
        for rank, p in enumerate(passages):
            if not headed(p, facet_terms, head):
                continue
            for e in scored(self.answerer, query, [p], 0.0):
                if (p.chunk_id, e.span.start) not in seen and not any(repeats(e.span.text, o.span.text) for o in out):
                    out.append(Evidence(rank, p, e.span, e.score))
        return out

    def _semantic(self, query: str, text: str) -> float:
        vecs = self.answerer.embed([query, text])
        return float(vecs[0] @ vecs[1])

    def found_rows(self, question: str, passages: list[Passage]) -> list[str]:
        """Rows for "Which countries bought which drones?": the party each relevant sentence is about."""
        rows: dict[str, str] = {}
        for e in self._candidates(question, passages):
            m = _PARTY_WORD.search(e.span.text)
            if m is None or m.group() in question:
                continue
            rows.setdefault(party_root(m.group()), m.group())
            if len(rows) >= self.settings.max_found_rows:
                break
        return list(rows.values())


def _dated(cells: Iterable[Evidence | None]) -> Evidence | None:
    """The first of a row's cells whose sentence states a date (a "when" column's cell)."""
    return next((e for e in cells if e is not None and reported_date(e.span.text, e.passage) is not None), None)


def table_markdown(table: Table) -> str:
    """The table as Markdown, markers inline: "| Kyrgyzstan | 59 people lost their lives [1] |"."""

    def esc(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    head = "| | " + " | ".join(esc(c) for c in table.columns) + " |"
    rule = "|---|" + "---|" * len(table.columns)
    lines = [head, rule]
    for row in table.rows:
        cells = [esc(attach_markers(c.text, c.citations)) for c in row.cells]
        lines.append(f"| {esc(row.label)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
