"""Every tunable of the extractive answerer, with where its value came from.

The sentence scorer is a logistic model over a few cheap features of a candidate sentence (see `FEATURES`):
P(sentence answers the question) = sigmoid(bias + sum(weights[f] * feature[f])). The weights are fitted, not
hand-set, by `python -m bench.fit_extractive` (L2 logistic regression, numpy Newton steps) on
- SciFact `claims_train.csv`: rationale sentences (`evidence_sentences`) of the cited abstracts vs. the rest;
- RealTime QA, dev split: sentences of the retrieved passages that contain the gold answer vs. the rest;
- the sample-corpus question sets, dev splits: sentences containing a gold string vs. the rest.
Whether to answer at all is a question-level decision: a second logistic model (REFUSAL_FEATURES: the best
sentence's logit and cosine, whether the question's names occur in it) gives P(the passages answer the
question), fitted and thresholded on dev splits only by `python -m bench.fit_refusal`; questions addressed to
the assistant ("Ignore the documents and ...") and counts/dates without a number/date are refused by rule.
The fit writes bench/results/fit_extractive.json; the values below are copied from it, and `provenance` says
which run and data each came from. Values marked "hand-set" were not fitted: they are product choices
(answer length) or checked, not searched, on dev data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Order matters: it is the column order of the feature matrix (ExtractiveAnswerer.features).
FEATURES: tuple[str, ...] = (
    "cosine",  # MiniLM cosine(question, sentence), best view of the candidate
    "lexical",  # idf-weighted share of the question's content terms the sentence contains
    "rank",  # 1 for the first retrieved passage .. 0 for the last one read
    "type_match",  # the question asks for a kind of token (number, date, name ...) and the sentence has it
    "type_miss",  # ... and the sentence lacks it
    "lead",  # first sentence of its passage
    "log_words",  # log(1 + words in the candidate)
    "span_pair",  # the candidate is two or more sentences (a continuation or a list with its lead-in)
)

# Question-level refusal model (ExtractiveAnswerer.question_features): P(the passages answer this question).
REFUSAL_FEATURES: tuple[str, ...] = (
    "best_logit",  # the sentence model's logit of the best candidate (cosine, overlap, answer type, position)
    "best_cosine",  # MiniLM cosine of the closest candidate to the question
    "coverage",  # share of the question's content terms found in the best candidate's passage (text, title)
    "reach",  # share of them found anywhere in the passages read
    "name_coverage",  # share of the question's names (and model designators) found in the passages read
    "name_in_best",  # ... found in the best candidate itself ("Who is Kyrgyzstan's defence minister?" vs a
    # sentence naming Tajikistan's)
)

_FIT = "python -m bench.fit_extractive -> bench/results/fit_extractive.json"


@dataclass(frozen=True)
class ExtractiveConfig:
    # --- fitted scorer (logistic regression; see module docstring) -------------------------------------
    weights: dict[str, float] = field(
        default_factory=lambda: {
            "cosine": 1.6951,
            "lexical": 1.5948,
            "rank": 0.0,
            "type_match": 0.0,
            "type_miss": -1.0098,
            "lead": -0.7337,
            "log_words": 0.0,
            "span_pair": 0.0,
        }
    )
    bias: float = -2.6196
    # --- calibrated on dev ------------------------------------------------------------------------------
    refuse_below: float = 0.1143  # best sentence's P(answers) below this: refuse
    hard_types: tuple[str, ...] = ("number", "money", "date")  # ... or when it lacks the asked-for token
    # Question-level refusal (replaces `refuse_below` when weights are set): logistic over REFUSAL_FEATURES.
    refusal_weights: dict[str, float] = field(
        default_factory=lambda: {"best_logit": 1.9522, "best_cosine": 0.3115, "name_in_best": 2.879}
    )
    refusal_bias: float = -0.3429
    answer_above: float = 0.0111  # P(answerable) below this: refuse
    # --- composition (hand-set product choices, checked on dev) ----------------------------------------
    select_margin: float = 1.0  # further sentences: logit within this of the best one ...
    select_floor: float = 0.1143  # ... and P(answers) at least this (= refuse_below)
    typed_margin: float = 1.5  # a count/date question: the best sentence holding one, if within this of the best
    max_sentences: int = 4
    max_passages: int = 8
    summary_sentences: int = 5  # "summarize ..." answers: this many sentences, chosen by MMR
    summary_diversity: float = 0.3  # MMR: weight of novelty against relevance
    summary_lead_bonus: float = 1.0  # a summary of the whole: added to a document's opening sentences' relevance
    summary_min_cosine: float = 0.3  # a summary needs a sentence at least this close to its topic
    focus_similarity: float = 0.5  # word cosine for "academic" ~ "scholar", "city" ~ "Moscow" (answer-type check)
    counted_similarity: float = 0.6  # word cosine for the counted noun of "How many <noun>": "homes" ~ "houses"
    duplicate_similarity: float = 0.92  # sentence cosine above which two quotes say the same thing
    provenance: dict[str, str] = field(
        default_factory=lambda: {
            "weights": "fitted: L2 logistic regression on SciFact claims_train (80 claims, rationale sentences)"
            " + RealTime QA dev weeks + seed_qa.dev + corpus_qa.dev (candidates holding the gold); kept: the"
            " features whose removal lowers grouped 5-fold CV top-1 precision (cosine, lexical, type_miss,"
            " lead); `python -m bench.fit_extractive --scifact 80 --folds 5`",
            "bias": "fitted with the weights: `python -m bench.fit_extractive --scifact 80 --folds 5`",
            "refuse_below": "not the extractive refusal rule while refusal_weights are set (the question-level"
            " model is; this stays the LLM gate's scale and the selection floor). Calibrated on dev: highest"
            " threshold with <= 10% of answerable RealTime QA dev"
            " questions refused (0.0833) and no answerable seed/corpus dev question refused; unanswerable"
            " seed/corpus dev refused at it: 0.4 (2/5); `python -m bench.fit_extractive --scifact 80 --folds 5`",
            "refusal_weights": "fitted on DEV only: L2 logistic regression, one row per question part, label ="
            " answerable; seed_qa.dev + corpus_qa.dev + new_qa.dev + chains.dev standalone turns (each source and"
            " class weighted equally); features kept: best_logit, best_cosine, name_in_best (grouped 5-fold CV AUC"
            " 0.918 with all six; without name_in_best 0.867; coverage/reach/name_coverage do not help);"
            " `python -m bench.fit_refusal --features best_logit,best_cosine,name_in_best` ->"
            " bench/results/fit_refusal.json",
            "refusal_bias": "fitted with refusal_weights (same command)",
            "answer_above": "calibrated on DEV: highest P at which no dev source (seed/corpus/new/chains dev,"
            " RealTime QA dev weeks) has more than 10% of its answerable questions refused, counting those the"
            " rules (refuse_below, hard_types) refuse. RealTime QA dev binds: the rules already refuse 2/24 of its"
            " answerable questions, so the model may refuse almost nothing more. At it, unanswerable dev"
            " refused: seed 2/3, corpus 2/2, new 13/22, chains 1/2, RealTime QA 0/6 (same command)",
            "hard_types": "hand-set rule (a count needs a number), checked on dev (fit_extractive --dev-only):"
            " unanswerable refused seed_qa.dev 1/3 -> 2/3, corpus_qa.dev 1/2 -> 2/2; RealTime QA dev unchanged",
            "select_margin": "checked on dev (fit_extractive --dev-only): 1.0 vs 1.5 with floor 0.2 -> RealTime QA dev"
            " contained 0.333 vs 0.292, seed_qa.dev 0.929 vs 0.786",
            "select_floor": "= refuse_below; checked on dev with select_margin (see there)",
            "typed_margin": "the wider value checked for select_margin (1.5); only moves a sentence with the asked-for"
            " figure/date ahead of one without, which the rules would refuse. Dev (bench.quality runs s9-b -> s9-c,"
            " bench.lowercase --split dev): no count changed; 'What was the Tajik death toll?' answered with 41",
            "max_sentences": "hand-set product choice: a Discord answer of at most four quotes",
            "max_passages": "hand-set: the retriever's top 8",
            "summary_sentences": "hand-set product choice",
            "summary_diversity": "hand-set (MMR lambda 0.7, the usual default)",
            "summary_lead_bonus": "hand-set ordering rule, not tuned: 1.0 exceeds any cosine gap, so a summary of the"
            " whole takes its documents' opening sentences first (lead-3, a strong news summary baseline, See et al."
            " 2017); checked on dev d73",
            "summary_min_cosine": "hand-set: 'Summarize the conflict' vs off-topic requests on examples/corpus",
            "focus_similarity": "swept on DEV (2026-12-07): `python -m bench.fit_extractive --dev-only --all-dev"
            " --focus-similarity X` for X in 0.6/0.55/0.5/0.45/0.4. 0.5 is the lowest value that loses nothing on"
            " any dev set: new_qa.dev/seed contained 0.786 -> 0.857, chains.dev/corpus 0.8125 -> 0.875, RealTime"
            " QA dev contained 0.292 -> 0.333 with answerable refused 0.083 -> 0.042 (vs 0.6, hand-set before the"
            " split); 0.45 refuses 2 fewer unanswerable dev questions",
            "counted_similarity": "hand-set between MiniLM word cosines (2026-12-07, session 8): synonyms a count"
            " is asked under must match (houses~homes 0.89, soldiers~troops 0.89, injured~wounded 0.64), sibling"
            " nouns must not (houses~villages 0.53, drones~aircraft 0.55); dev d39 counted 'five villages' as"
            " houses at focus_similarity 0.5. Checked on dev (bench.quality run s8-c)",
            "duplicate_similarity": "hand-set on tests/data/seed_qa.jsonl (before the dev/test split)",
        }
    )

    def weight_vector(self) -> list[float]:
        return [self.weights.get(f, 0.0) for f in FEATURES]

    def refusal_vector(self) -> list[float]:
        return [self.refusal_weights.get(f, 0.0) for f in REFUSAL_FEATURES]


DEFAULT_CONFIG = ExtractiveConfig()
