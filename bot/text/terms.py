"""Words, stems, numbers, dates and names: the cheap, deterministic features both answerers and the verifier
lean on. They decide whether a sentence may keep its footnote, so they must be explainable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, lru_cache

import Stemmer

from bot.text.markers import blank_enumerators
from bot.text.sentences import split_sentences

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so some
    such than that the their theirs them themselves then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your yours
    yourself yourselves s t don didn doesn isn wasn weren aren wouldn couldn shouldn per via upon
    according said says say tell told please much many whose among amid within without since ago yet still
    ever however thus though although whether either neither else etc like one's may might must shall
    let lets get got know""".split()
)
# Question words and filler that say what kind of answer is wanted, not what it is about.
QUESTION_WORDS = frozenset("what which who whom whose when where why how did does do is are was were".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Za-z]|\d[\d,]*(?:\.\d+)?")
_DESIGNATOR = re.compile(r"\b[A-Za-z][A-Za-z]*-?\d+[A-Za-z0-9]*\b")
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.])\d+(?:\.\d+)?")
_MONTHS = {
    "jan": "january", "feb": "february", "mar": "march", "apr": "april", "jun": "june", "jul": "july",
    "aug": "august", "sep": "september", "sept": "september", "oct": "october", "nov": "november",
    "dec": "december",
}  # fmt: skip
MONTH_NAMES = frozenset("january february march april may june july august september october november december".split())
_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
_UNITS += "seventeen eighteen nineteen"
NUMBER_WORDS = {w: i for i, w in enumerate(_UNITS.split())}
TENS_WORDS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
NUMBER_WORDS.update(TENS_WORDS)


def words(text: str) -> list[str]:
    return _WORD.findall(text)


_TOKEN = re.compile(f"{_DESIGNATOR.pattern}|{_WORD.pattern}")


def tokens(text: str) -> list[str]:
    """`words`, but a designator ("COVID-19", "TB2s", "S-300") is one token, as `designators` names it."""
    out = []
    for m in _TOKEN.finditer(text):
        w = m.group()
        if _DESIGNATOR.fullmatch(w):
            w = next(iter(designators(w)), w)
        out.append(w)
    return out


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


# Endings a word may lose to its Snowball stem and still mean the same thing (inflection, not derivation):
# "killed"/"kills"/"killing" -> "kill", "studies"/"study" -> "studi". Snowball also maps "organization" to
# "organ" and "generally" to "general": those keep their own form.
_INFLECTIONS = frozenset(("", "s", "es", "ed", "d", "ing", "e", "y", "ies", "ied", "er", "ers", "est", "ly"))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball (PyStemmer) stem when it only strips an inflection, else the word itself (lowercased,
    possessive removed): "drones" ~ "drone", "killing" ~ "killed", but "organization" != "organ"."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.strip("'-")
    root = _stemmer().stemWord(w)
    k = 0
    while k < min(len(w), len(root)) and w[k] == root[k]:
        k += 1
    tail, root_tail = w[k:], root[k:]
    # A doubled consonant before the ending ("running" -> "run") is part of the inflection.
    if len(tail) > 1 and k > 0 and tail[0] == w[k - 1] and tail[1:] in _INFLECTIONS:
        tail = ""
    if tail in _INFLECTIONS and len(root_tail) <= 1 and len(root) >= 2:
        return root
    # Snowball went past an inflection ("organizations" -> "organ"): drop only the plural.
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def content_term_list(text: str) -> list[str]:
    """Stemmed content words and normalised numbers in text order, repeats kept."""
    out: list[str] = []
    for w in words(text):
        lw = w.lower()
        if lw in STOPWORDS or lw in QUESTION_WORDS:
            continue
        if w[0].isdigit():
            out.append(normalise_number(w))
        elif lw in NUMBER_WORDS:
            out.append(str(NUMBER_WORDS[lw]))
        else:
            out.append(stem(_MONTHS.get(lw, lw)))
    return out


def content_terms(text: str) -> set[str]:
    """Stemmed content words and normalised numbers: what a sentence is about."""
    return set(content_term_list(text))


def normalise_number(token: str) -> str:
    """ "1,000" -> "1000", "3.50" -> "3.5", "12.0" -> "12"."""
    t = token.replace(",", "")
    if "." in t:
        t = t.rstrip("0").rstrip(".")
    return t


def numbers(text: str) -> set[str]:
    """Numbers written as digits or as small number words ("five", "forty-one"); the digits of a designator
    ("S-300", "TB2") are part of its name, not a quantity, and a list item's "1." is its place in the list."""
    text = blank_enumerators(text)
    found = {normalise_number(m.group()) for m in _NUMBER.finditer(text) if not _in_designator(text, m.start())}
    lowered = text.lower()
    compound = re.compile(
        r"\b(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[-\s](one|two|three|four|five|six|seven|eight|nine)\b"
    )
    for m in compound.finditer(lowered):
        found.add(str(TENS_WORDS[m.group(1)] + NUMBER_WORDS[m.group(2)]))
    for w in re.findall(r"[a-z]+", compound.sub(" ", lowered)):
        if w in NUMBER_WORDS and w not in ("one", "zero"):  # "one of the ..." is rarely a quantity
            found.add(str(NUMBER_WORDS[w]))
    return found


def _in_designator(text: str, start: int) -> bool:
    return start >= 2 and text[start - 1] == "-" and text[start - 2].isalpha()


def designators(text: str) -> set[str]:
    """Model names that mix letters and digits: "S-300", "T-72", "TB2", "Orlan-10" (lowercased); a plural
    ("TB2s") names the same model."""
    out = set()
    for m in _DESIGNATOR.finditer(text):
        d = m.group().lower()
        out.add(d[:-1] if len(d) > 2 and d.endswith("s") and d[-2].isdigit() else d)
    return out


# Capitalised only because they open a sentence: never names, whatever the passages contain.
_OPENERS = frozenset(
    """however meanwhile moreover furthermore nevertheless nonetheless instead still yet also thus hence
    therefore both many most some several few others other another each every all any none no yes
    officials analysts experts critics observers reports media sources documents passages today yesterday
    earlier later now then despite although though while since after before during following amid""".split()
)


# Irregular plurals a dictionary of lemmas does not list.
_IRREGULAR = frozenset("men women children people mice feet teeth geese data criteria phenomena analyses".split())


@cache
def dictionary_words() -> frozenset[str]:
    """Common English words, independent of any corpus: the lower-case entries of Webster's Second (public domain,
    via the `english-words` package). Proper nouns are capitalised there ("Azerbaijan", "Kyrgyzstan") and so
    are not in this set; a few are also common nouns ("turkey", "china") and are."""
    from english_words import get_english_words_set

    return frozenset(w for w in get_english_words_set(["web2"], lower=False, alpha=True) if w.islower()) | _IRREGULAR


def common_word(word: str) -> bool:
    """`word` (lowercase) or its uninflected form is a dictionary word: "students", "integrated", "elevated"."""
    vocab = dictionary_words()
    w = word.lower()
    if w in vocab or stem(w) in vocab:
        return True
    for end, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("d", ""), ("ing", ""),
                      ("ing", "e"), ("ly", ""), ("er", ""), ("est", "")):
        if w.endswith(end) and len(w) - len(end) >= 3 and w[: -len(end)] + repl in vocab:
            return True
    if "-" in w:  # "Tissue-resident", "Long-term": common when every part is
        parts = [x for x in w.split("-") if x]
        return bool(parts) and all(common_word(x) for x in parts)
    return False


def names(text: str, known_proper: Iterable[str] = (), *, common_words: set[str] | None = None) -> set[str]:
    """Lowercased capitalised words that are not sentence-initial (names, places, months), plus a
    sentence-initial word when `known_proper` says the corpus capitalises it mid-sentence.

    With `common_words` (lowercase words seen written in lower case, e.g. in the passages), a sentence-initial
    capitalised word also counts as a name unless it is one of them, a dictionary word (`common_word`), a
    stopword or a usual sentence opener: "Azerbaijan and Uzbekistan ..." names Azerbaijan even when no passage
    mentions it, "Mitochondria play a role ..." names nothing.
    The letters inside a designator ("H" and "K" of "H3K9me3", "TB" of "TB2") are part of it, not names."""
    known = set(known_proper)
    out: set[str] = designators(text)
    for span in split_sentences(text):
        inside = [(m.start(), m.end()) for m in _DESIGNATOR.finditer(span.text)]
        first = True
        for m in _WORD.finditer(span.text):
            w = m.group()
            lw = w.lower().replace("’", "'")
            lw = lw[:-2] if lw.endswith("'s") else lw
            lw = _MONTHS.get(lw, lw)
            before = span.text[max(0, m.start() - 2) : m.start()]
            part_of_designator = any(a <= m.start() and m.end() <= b and (a, b) != m.span() for a, b in inside) or (
                len(w) <= 3 and bool(before) and (before[-1].isdigit() or (before[-1] == "-" and before[0].isdigit()))
            )  # "10EB", "MUC1-C": a short letter run glued to a number, or after one and a hyphen, is part of a code
            # "May" capitalised mid-sentence is the month (the modal is capitalised only at a sentence start).
            month_may = lw == "may" and not first
            if (w[0].isupper() and (lw not in STOPWORDS or month_may) and lw not in QUESTION_WORDS
                    and not part_of_designator):
                if not first or lw in known:
                    out.add(lw)
                elif (common_words is not None and lw not in common_words and lw not in _OPENERS
                      and not common_word(lw)):
                    out.add(lw)
            if w[0].isalpha():
                first = False
    return out


def proper_vocabulary(texts: Iterable[str]) -> set[str]:
    """Words the texts capitalise mid-sentence: these count as names even at a sentence start."""
    out: set[str] = set()
    for t in texts:
        out |= names(t)
    return out


# Country and demonym endings: "Kyrgyz"/"Kyrgyzstan", "Tajik"/"Tajikistan", "Turkish"/"Turkey",
# "Russia"/"Russian", "Iran"/"Iranian", "China"/"Chinese". Explicit endings, never a prefix: "Niger" does not
# match "Nigeria", nor "Austria" "Australia".
_NAME_ENDINGS = ("istan", "stan", "ish", "ian", "ese", "ey", "i", "n")
# Countries whose demonym no ending derives: each word of a group is a form of the others ("French President
# Emmanuel Macron" names France's president). Single words only; none that is also a common lowercase word
# (no "us", "english", "polish", "chinese" is derived anyway).
_DEMONYM_GROUPS = (
    ("france", "french"), ("netherlands", "dutch"), ("britain", "british"), ("ireland", "irish"),
    ("spain", "spanish"), ("germany", "german", "germans"), ("greece", "greek", "greeks"),
    ("switzerland", "swiss"), ("sweden", "swedish"), ("norway", "norwegian"), ("denmark", "danish"),
    ("finland", "finnish"), ("portugal", "portuguese"), ("thailand", "thai"), ("philippines", "filipino"),
    ("america", "american", "americans"), ("italy", "italian", "italians"), ("mexico", "mexican", "mexicans"),
    ("canada", "canadian", "canadians"), ("ukraine", "ukrainian", "ukrainians"), ("belgium", "belgian"),
    ("wales", "welsh"), ("scotland", "scottish"), ("peru", "peruvian"), ("chile", "chilean"),
)
_DEMONYMS = {w: frozenset(group) for group in _DEMONYM_GROUPS for w in group}
# A capital stands for its country's government ("Ankara says", "How many died by Bishkek's count?"). One-word
# capitals only, and none shared by two countries' names (no Seoul/Pyongyang for "Korea"), nor a seat of a bloc
# (Brussels).
_CAPITALS = {
    "ankara": "turkey", "moscow": "russia", "kremlin": "russia", "beijing": "china", "tehran": "iran",
    "bishkek": "kyrgyzstan", "dushanbe": "tajikistan", "tashkent": "uzbekistan", "astana": "kazakhstan",
    "ashgabat": "turkmenistan", "baku": "azerbaijan", "yerevan": "armenia", "tbilisi": "georgia", "kyiv": "ukraine",
    "kiev": "ukraine", "minsk": "belarus", "warsaw": "poland", "berlin": "germany", "paris": "france",
    "london": "britain", "washington": "america", "tokyo": "japan", "delhi": "india", "islamabad": "pakistan",
    "kabul": "afghanistan", "baghdad": "iraq", "damascus": "syria", "riyadh": "saudi", "cairo": "egypt",
    "rome": "italy", "madrid": "spain", "athens": "greece", "ottawa": "canada", "canberra": "australia",
    "nairobi": "kenya", "caracas": "venezuela", "havana": "cuba", "hanoi": "vietnam", "jakarta": "indonesia",
}


def country_of_capital(word: str) -> str | None:
    """The country a capital stands for ("bishkek" -> "kyrgyzstan"), else None. Not a form of the name for
    matching sentences: a passage about Moscow's role is not about Russia's view (dev chains d38, d31)."""
    return _CAPITALS.get(word.lower())


@lru_cache(maxsize=65536)
def name_forms(word: str) -> frozenset[str]:
    """`word` (lowercased) and the forms of the same name with a country/demonym ending added or removed."""
    w = word.lower()
    roots = {w}
    for end in _NAME_ENDINGS:
        if w.endswith(end) and len(w) - len(end) >= 4:
            roots.add(w[: -len(end)])
    forms = set(roots)
    for r in roots:
        forms.update(r + end for end in _NAME_ENDINGS if end != "n" or r.endswith(("a", "ia")))
        if r.endswith("a"):
            forms.add(r[:-1] + "ese")  # China -> Chinese
    forms |= _DEMONYMS.get(w, frozenset())
    return frozenset(forms)


def same_name(a: str, b: str) -> bool:
    return a == b or b in name_forms(a) or a in name_forms(b)


def name_present(name: str, vocabulary: set[str]) -> bool:
    """`name` or another form of it ("Kyrgyz"/"Kyrgyzstan", "Turkey"/"Turkish") is in the vocabulary
    (whole words only)."""
    return name in vocabulary or not name_forms(name).isdisjoint(vocabulary) or any(
        name in name_forms(w) for w in vocabulary if w[:3] == name[:3]
    )


def lower_vocabulary(text: str) -> set[str]:
    """Every word of `text`, lowercased (months spelled out), plus its designators."""
    out = designators(text)
    for w in words(text):
        lw = w.lower().replace("’", "'")
        lw = lw[:-2] if lw.endswith("'s") else lw
        out.add(_MONTHS.get(lw, lw))
        if "-" in lw:  # the parts of a compound are words of the text too: "Aire-expressing" holds "aire"
            out.update(x for x in lw.split("-") if x)
    return out


# Words naming an office or a family tie: what "Who is X's <role>?" asks the holder of.
ROLE_TITLES = frozenset(
    "minister president secretary secretary-general chairman chairwoman ambassador director chief commander "
    "spokesman spokeswoman spokesperson governor mayor general envoy premier senator counterpart".split()
)
KINSHIP = frozenset(
    "son daughter son-in-law daughter-in-law wife husband brother sister father mother nephew niece cousin".split()
)

# Common nouns that name who acted when no name does ("the border guard", "Turkey's embassy", "Erdogan's inner
# circle", "Tajik media"): what a "Who <verb> ...?" question can be answered with, besides names.
PARTY_NOUNS = frozenset(
    "government governments ministry ministries embassy embassies committee council parliament army armies forces "
    "troops guard guards service services police authorities administration agency agencies company companies "
    "firm firms family families circle media press outlet outlets users people officials observers analysts "
    "experts rebels court party parties union bloc organisation organization body".split()
)


def term_in(term: str, terms: set[str]) -> bool:
    """Exact term (terms are stems, see `stem`), or another form of the same name ("kyrgyz" ~ "kyrgyzstan")."""
    if term in terms:
        return True
    if term.isdigit():
        return False
    if len(term) >= 3 and any(form in terms for form in _agent_forms(term)):
        return True
    if len(term) < 4:
        return False
    return name_present(term, terms)


# Verbs whose agent noun Snowball keeps whole ("owners" -> "owner", "owns" -> "own"). A closed list: an open
# "-er" rule also paired form/former, count/counter, late/later, live/liver.
_AGENT_VERBS = frozenset(
    "own make buy sell lead export import build found fund supply trade develop design invest train teach "
    "work publish provide operate report rule run win play manage drive produce manufacture".split()
)


def _agent_forms(term: str) -> tuple[str, ...]:
    """The verb of an agent noun and back, as stems: "own" ~ "owner", "make" ~ "maker", "buy" ~ "buyer"
    (verbs in `_AGENT_VERBS` only). Only ever a match between two words both present, never a prefix."""
    if term in _AGENT_VERBS:
        return (term + "r",) if term.endswith("e") else (term + "er", term + term[-1] + "er")
    for verb in (term[:-2], term[:-1], term[:-3]):  # "owner", "maker", "runner"
        if verb in _AGENT_VERBS and term in _agent_forms(verb):
            return (verb,)
    return ()


def same_text(a: str, b: str) -> bool:
    """Equal or contained, ignoring case and spacing: overlapping chunks repeat sentences."""
    na, nb = " ".join(a.lower().split()), " ".join(b.lower().split())
    return na == nb or na in nb or nb in na


_CASED = re.compile(r"[A-Za-z][\w\-]*")  # no apostrophe: "turkey's" is "turkey" and its possessive
_ADJACENT = re.compile(r"\b([A-Za-z][\w\-]*) (?=([A-Za-z][\w\-]*)\b)")  # two words, one space apart


_BEFORE_A_WORD = " \t\"'“‘(*_"  # what may stand between a sentence's end and its first word
_SENTENCE_ENDS = ".!?:;\n#-•"


def _written_as_name(text: str, start: int, word: str) -> bool:
    """`word`, capitalised at `start`, is written as a name there: mid-sentence, or opening a sentence or an item
    but no dictionary word ("Turkmenistan was ...", not "Many of them ..."). Scans back over quotes and spaces
    rather than copying the text before every word."""
    i = start - 1
    while i >= 0 and text[i] in _BEFORE_A_WORD:
        i -= 1
    return (i >= 0 and text[i] not in _SENTENCE_ENDS) or not common_word(word)


def truecase(question: str, texts: Iterable[str]) -> str:
    """The question with its lower-cased names written as the passages write them ("how many houses were damaged on
    the tajik side" -> "... the Tajik side"): a word the passages never write in lower case, and write capitalised
    in mid-sentence at least once, or opening one as no dictionary word (so not "Many" that only opens sentences).
    Discord users often type in lower case, and the name rules (whose figure, whose role, which party) read
    capitals."""
    texts = list(texts)  # read twice below (a generator would be empty the second time)
    lower_seen: set[str] = set()
    cased: dict[str, dict[str, int]] = {}
    # Two-word names the passages write capitalised ("Kerim Has"): a name's word may be a dictionary word the
    # passages also write in lower case ("has", "border"), so only the pair tells it is part of the name.
    pairs: dict[tuple[str, str], tuple[str, str]] = {}
    lower_pairs: set[tuple[str, str]] = set()
    for text in texts:
        for m in _ADJACENT.finditer(text):
            a, b = m.group(1), m.group(2)
            if a[0].isupper() and b[0].isupper():
                # As for one word ("The Kyrgyz ..." opening a sentence is no name "The Kyrgyz").
                if _written_as_name(text, m.start(), a):
                    pairs.setdefault((a.lower(), b.lower()), (a, b))
            elif a.islower() and b.islower():
                lower_pairs.add((a, b))
    for text in texts:
        for m in _CASED.finditer(text):
            w = m.group()
            if w.islower():
                lower_seen.add(w)
                continue
            if _written_as_name(text, m.start(), w):
                forms = cased.setdefault(w.lower(), {})
                forms[w] = forms.get(w, 0) + 1

    def fix(m: re.Match[str]) -> str:
        w = m.group()
        # An office, a family tie or a body is capitalised in a title ("President Sadyr Japarov", "Defence
        # Minister"), yet no name: nor is the word before an office ("defence minister").
        after = re.match(r"\s+([a-z][\w\-]*)", question[m.end() :])
        if not w.islower() or w in lower_seen or w not in cased or w in ROLE_TITLES or w in KINSHIP or (
                w in PARTY_NOUNS) or (after is not None and after.group(1) in ROLE_TITLES):
            return w
        forms = cased[w]
        return max(forms, key=lambda f: forms[f])

    out = _CASED.sub(fix, question)
    # A two-word name the passages write capitalised ("Kerim Has", "Border Watch", "Health Ministry") and never as
    # the same two words in lower case: each of its words takes its form there, though one alone is a
    # dictionary word or a body the single-word rule leaves in lower case. Never an office or a family tie, nor
    # an office's modifier ("Defence Minister" stays "defence minister"). Repeated for names of three words.
    fixed = True
    while fixed:
        fixed = False
        for m in _ADJACENT.finditer(out):
            a, b = m.group(1), m.group(2)
            written = pairs.get((a.lower(), b.lower()))
            if written is None or (a, b) == written or (a.islower() and b.islower() and (a, b) in lower_pairs):
                continue
            after = re.match(r"\s+([a-z][\w\-]*)", out[m.end(2) :])
            if any(w.lower() in ROLE_TITLES or w.lower() in KINSHIP for w in (a, b)) or (
                    after is not None and after.group(1) in ROLE_TITLES):
                continue
            # Only lower-case words change ("Has" typed capitalised stays as typed); same length, same places.
            new_a = written[0] if a.islower() else a
            new_b = written[1] if b.islower() else b
            if (new_a, new_b) == (a, b):
                continue
            out = out[: m.start(1)] + new_a + out[m.end(1) : m.start(2)] + new_b + out[m.end(2) :]
            fixed = True
            break
    return out
