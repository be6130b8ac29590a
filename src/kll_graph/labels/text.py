"""Text folding for matching: the keys labels and codes are found by, and Swedish compound parts.

Case, Unicode form and diacritics are folded for matching ("lakare" finds "Läkare"; see
:func:`fold`); codes and ids match without case or spaces (:func:`code_key`). Compound parts
("utvecklare" in "Systemutvecklare") are found from the vocabulary itself, with no dictionary
(:func:`compound_parts`). Pure functions of strings: no store, no numpy.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

from kll_graph.namespaces import ESCO_SCHEME

#: Known scheme IRI namespaces and the id prefix their schemes get.
SCHEME_NAMESPACES = {ESCO_SCHEME.iri: "esco/"}

_SPECIAL_LETTERS = str.maketrans(
    {"æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ß": "ss"}
)
_NON_WORD = re.compile(r"(?:[^\w+#]|_)+")


def _clean(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text).split())


def lower(text: str) -> str:
    """Case and Unicode form normalised, punctuation to spaces, diacritics kept.

    >>> lower("  Läkare, ÖNH ")
    'läkare önh'
    """
    return _clean(unicodedata.normalize("NFC", text).casefold())


def fold(text: str) -> str:
    """The matching form of a label: :func:`lower` with diacritics and special letters folded.

    Swedish å, ä, ö fold to a, a, o, so "lakare" finds "Läkare"; '+' and '#' are kept for C++
    and C#; other punctuation separates words.

    >>> fold("Läkare")
    'lakare'
    >>> fold("Sjuksköterska, grundutbildad")
    'sjukskoterska grundutbildad'
    >>> fold("C++ (programmering)")
    'c++ programmering'
    >>> fold("Æbleskiver-Straße")
    'aebleskiver strasse'
    """
    text = text.casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).translate(_SPECIAL_LETTERS)
        text = "".join(c for c in text if not unicodedata.combining(c))
    return _clean(text)


def code_key(text: str) -> str:
    """The matching form of a code or id: case folded, whitespace removed.

    >>> code_key(" C 2512 ")
    'c2512'
    >>> code_key("iugg_Qq9_QHH")
    'iugg_qq9_qhh'
    """
    return "".join(text.split()).casefold()


def alnum(text: str) -> str:
    """Letters and digits only, case folded: how a code system's name is compared.

    >>> alnum("ISCO-08")
    'isco08'
    """
    return "".join(c for c in text.casefold() if c.isalnum())


def system_aliases(local_name: str, label: str = "") -> set[str]:
    """Names a user may type before a code of a code system: "SSYK 2512", "isco-08 2512".

    >>> sorted(system_aliases("SSYK2012", "SSYK 2012 code"))
    ['ssyk', 'ssyk2012']
    >>> sorted(system_aliases("ISCO08"))
    ['isco', 'isco08']
    """
    aliases = {alnum(local_name)}
    leading = re.match(r"[^\W\d_]+", local_name)
    if leading:
        aliases.add(leading.group(0).casefold())
    if label:
        words = [w for w in fold(label).split() if w not in {"code", "kod"}]
        aliases.add("".join(words))
    return {a for a in aliases if len(a) >= 3}


def edits1(word: str, alphabet: str) -> set[str]:
    """Every string one insertion, deletion, substitution or transposition away from `word`.

    >>> sorted(edits1("ab", "ab"))
    ['a', 'aa', 'aab', 'ab', 'aba', 'abb', 'b', 'ba', 'bab', 'bb']
    """
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in alphabet}
    out |= {a + c + b for a, b in splits for c in alphabet}
    return out


def one_edit(a: str, b: str) -> bool:
    """True when b is exactly one insertion, deletion, substitution or swap away from a.

    >>> [one_edit("kock", w) for w in ("kock", "kok", "kocks", "kick", "okck", "kcko")]
    [False, True, True, True, True, False]
    """
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    if a[i + 1 :] == b[i + 1 :]:
        return True
    return i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]


def local_name(iri: str) -> str:
    """The last segment of an IRI.

    >>> local_name("https://w3id.org/kll-graph/ontology#SSYK2012")
    'SSYK2012'
    >>> local_name("http://data.europa.eu/esco/concept-scheme/isco/")
    'isco'
    """
    stripped = iri.rstrip("/#")
    return re.split(r"[/#]", stripped)[-1] or stripped


def scheme_id(iri: str, base_iri: str) -> str:
    """A short, readable id for a concept scheme, used in filters and results.

    >>> scheme_id("https://w3id.org/kll-graph/scheme/jobtech/skill", "https://w3id.org/kll-graph/")
    'jobtech/skill'
    >>> scheme_id("http://data.europa.eu/esco/concept-scheme/isco", "https://w3id.org/kll-graph/")
    'esco/isco'
    """
    namespaces = {f"{base_iri}scheme/": "", **SCHEME_NAMESPACES}
    for namespace, prefix in namespaces.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return prefix + iri[len(namespace) :].strip("/")
    return local_name(iri)


# --- compound parts -------------------------------------------------------------------------------


def compound_parts(
    words: Iterable[str], min_part: int = 4, min_head: int = 3
) -> dict[str, set[str]]:
    """The tails of Swedish compounds among `words`, found from the vocabulary itself.

    A tail counts as a part when it is a word of its own, or when it ends at least two words that
    differ in the letter before it (a branching point: "sköterska" follows "sjuk", "under",
    "distrikts"; "ksköterska" always follows "u", so it is no part).

    >>> parts = compound_parts(["systemutvecklare", "spelutvecklare", "utvecklare", "webbdesign"])
    >>> sorted(parts["systemutvecklare"])
    ['utvecklare']
    >>> "webbdesign" in parts
    False
    """
    vocabulary = {w for w in words if w.isalpha()}
    tails: dict[str, set[str]] = defaultdict(set)
    for word in vocabulary:
        for i in range(min_head, len(word) - min_part + 1):
            tails[word[i:]].add(word[i - 1])
    accepted = {
        t for t, before in tails.items() if t in vocabulary or (len(before) >= 2 and len(t) >= 5)
    }
    parts: dict[str, set[str]] = {}
    for word in vocabulary:
        found = {
            word[i:] for i in range(min_head, len(word) - min_part + 1) if word[i:] in accepted
        }
        if found:
            parts[word] = found
    return parts
