"""The citation verifier's operating point, with where each value came from (`bench.verifier --tune`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class VerifierConfig:
    """The verifier's operating point. Each value says where it came from."""

    # Support score = semantic_weight * semantic + (1 - semantic_weight) * lexical >= min_support.
    # Chosen on DEV by `python -m bench.verifier --tune --sample 120` (bench/results/
    # verifier_dev_2026-12-07_tuning.json, 2026-12-07): 120 SciFact train claims per group + all 253 mutation dev
    # pairs + all 6,233 news-mutation dev pairs (RealTime QA dev articles), grid w 0..1 x t 0.20..0.90. No point
    # keeping every mutation type's dev false accepts <= 2 % on both mutation sets reaches dev SUPPORT 0.88 (only
    # 59 % of SUPPORT pairs pass the deterministic checks), so the rule's fallback applied: max dev SUPPORT -
    # (CONTRADICT + non-rationale) / 2 among those points. At (0.6, 0.63), dev: SUPPORT 0.30, CONTRADICT 0.20,
    # non-rationale 0.26; news mutations entity 1.97 %, exchange 1.82 %, number 0.34 %, negation 0.07 %, true
    # 0.9995; seed/corpus mutations 0 false accepts. The previous point (0.3, 0.51) fails the news limits there
    # (entity 2.67 %, exchange 2.33 %).
    semantic_weight: float = 0.6
    min_support: float = 0.63
    # Re-pointing to a passage the sentence did not cite needs a stronger match than keeping its own citation:
    # a merely topical passage ("Tajikistan is part of the group" -> any sentence about Tajikistan) must not
    # certify it. From `python -m bench.verifier --tune-repoint` (bench/results/verifier_repoint_tuning.json), run
    # 2026-12-02 on mutation DEV pairs only (253) at min_support 0.51: the smallest bar from 0.45 up in steps of
    # 0.05 after which no mutation type's dev false accepts fall further (0.60: 1 entity; 0.65: none). Re-run
    # 2026-12-07 at the current point (0.6, 0.63): 0.65 again (0.60: 1 entity; 0.65: none; true pairs 71/71 at
    # every bar).
    min_repoint_support: float = 0.65
    # An UNCITED sentence gets a passage attached only when its quote holds every content word of it, counted
    # (`alignment.unquoted_terms`): the model claimed no source, so the verifier's guess must be a copy, not a
    # paraphrase. Chosen 2026-12-07 (third session) on the stored SmolLM2 drafts of the DEV sets (SciFact sets 1
    # and 2, RealTime QA dev and test weeks, seed + corpus; `python -m bench.real_llm ... --reverify`), among
    # "at most 0 / 1 / 2 / 3 words missing (as a set)", "0 missing, counted" and "no limit": kept-claim precision
    # on SciFact 1+2 37/52 (no limit) -> 25/28 (0, as a set) -> 24/25 (0, counted); false drops 31/1082 -> 43/1106
    # -> 44/1109; seed + corpus 22/22 -> 18/18, false drops 6/165 -> 10/169. SciFact set 3 was drafted and
    # labelled before this was measured and is its held-out figure (README).
    max_uncited_unquoted: int = 0
    # Alignment: how much holding the claim's facts and words weighs against similarity when choosing the span.
    # Set by hand (it picks the quote, it does not accept anything): the checks then run on that span.
    align_fact_weight: float = 0.3
    align_lexical_weight: float = 0.3
    source: str = (
        "semantic_weight/min_support: dev (SciFact train + mutation dev + news-mutation dev), python -m "
        "bench.verifier --tune --sample 120 (2026-12-07), fallback rule (no safe point reaches SUPPORT 0.88); "
        "min_repoint_support: --tune-repoint on mutation dev pairs (2026-12-02 at (0.3, 0.51), again 2026-12-07 "
        "at (0.6, 0.63): 0.65 both times); max_uncited_unquoted: SmolLM2 dev drafts (2026-12-07); align weights: "
        "hand-set"
    )

    def describe(self) -> dict[str, Any]:
        return asdict(self)
