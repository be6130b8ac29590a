"""The language of the user interface: Swedish or English, and the UI strings in both.

The language is chosen, in this order, from an explicit `?lang=` parameter (which the page then
remembers in a cookie), the cookie, the browser's `Accept-Language`, and finally Swedish, the
language of most of the vocabulary. The chosen language also picks the display labels of
concepts (with fallback to the other language where a concept has no label in it).

No HTTP here: the web layer passes the header and parameter values in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from kll_graph.exceptions import BadRequestError

#: The languages the interface speaks, in order of preference when nothing else decides.
UI_LANGUAGES: tuple[str, ...] = ("sv", "en")
DEFAULT_LANGUAGE = "sv"
#: Name of the cookie that remembers a language chosen with `?lang=`.
COOKIE = "kll_lang"

_TAG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")


def check_language(value: str, parameter: str = "lang") -> str:
    """A UI language given by a user (`sv`, `en`, `sv-SE` ...), or a BadRequestError.

    >>> check_language("en-GB")
    'en'
    >>> check_language("xx")
    Traceback (most recent call last):
    ...
    kll_graph.exceptions.BadRequestError: unknown language 'xx'; the interface speaks sv, en
    """
    primary = value.strip().lower().split("-")[0]
    if not _TAG.match(value.strip()) or primary not in UI_LANGUAGES:
        shown = value[:20]
        raise BadRequestError(
            f"unknown language {shown!r}; the interface speaks {', '.join(UI_LANGUAGES)}",
            parameter=parameter,
        )
    return primary


def from_accept_language(header: str | None) -> str | None:
    """The best UI language for an Accept-Language header, or None when it names neither.

    >>> from_accept_language("en-US,en;q=0.9,sv;q=0.8")
    'en'
    >>> from_accept_language("de, sv;q=0.5")
    'sv'
    >>> from_accept_language("sv;q=0, en;q=0.1")
    'en'
    >>> from_accept_language("fr") is None
    True
    """
    best: tuple[float, int, str] | None = None
    for position, item in enumerate((header or "").split(",")):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary == "*":
            primary = DEFAULT_LANGUAGE
        if primary in UI_LANGUAGES and q > 0 and (best is None or (q, -position) > best[:2]):
            best = (q, -position, primary)
    return best[2] if best else None


def choose_language(
    parameter: str | None, cookie: str | None, accept_language: str | None
) -> tuple[str, bool]:
    """The UI language and whether it was chosen explicitly (so the cookie should be set).

    An unknown `?lang=` is a BadRequestError; an unknown cookie value is ignored.

    >>> choose_language(None, None, "en")
    ('en', False)
    >>> choose_language("sv", "en", "en")
    ('sv', True)
    >>> choose_language(None, "en", "sv")
    ('en', False)
    >>> choose_language(None, "klingon", None)
    ('sv', False)
    """
    if parameter is not None and parameter.strip():
        return check_language(parameter), True
    if cookie and cookie.strip().lower() in UI_LANGUAGES:
        return cookie.strip().lower(), False
    return from_accept_language(accept_language) or DEFAULT_LANGUAGE, False


#: Every UI string by key, in Swedish and English. Values may hold `{name}` placeholders.
STRINGS: dict[str, dict[str, str]] = {
    # navigation and frame
    "nav.home": {"sv": "Sök", "en": "Search"},
    "nav.schemes": {"sv": "Vokabulär", "en": "Vocabularies"},
    "nav.mappings": {"sv": "Mappningar", "en": "Mappings"},
    "nav.about": {"sv": "Om", "en": "About"},
    "nav.language": {"sv": "Språk", "en": "Language"},
    "lang.sv": {"sv": "Svenska", "en": "Svenska"},
    "lang.en": {"sv": "English", "en": "English"},
    "sample.banner": {
        "sv": "Den här tjänsten visar det medföljande EXEMPLET, ett litet urval, inte de riktiga "
        "data.",
        "en": "This service holds the bundled SAMPLE, a small extract, not the real data.",
    },
    "footer.build": {"sv": "Bygge {build} ({date})", "en": "Build {build} ({date})"},
    "footer.machine": {"sv": "Maskinläsbart", "en": "Machine-readable"},
    # home
    "home.title": {
        "sv": "Yrken, kompetenser och mappningar",
        "en": "Occupations, skills and mappings",
    },
    "home.lead": {
        "sv": "Slå upp begrepp i JobTech Taxonomy och ESCO och se hur de hänger ihop.",
        "en": "Look up concepts of the JobTech Taxonomy and ESCO and see how they relate.",
    },
    "search.label": {"sv": "Sök begrepp", "en": "Search concepts"},
    "search.placeholder": {
        "sv": "t.ex. sjuksköterska, systemutvecklare, 2512",
        "en": "e.g. nurse, software developer, 2512",
    },
    "search.button": {"sv": "Sök", "en": "Search"},
    "search.hint": {
        "sv": "Skriv minst två tecken för förslag; välj med piltangenterna och Enter.",
        "en": "Type two characters or more for suggestions; choose with the arrow keys and Enter.",
    },
    "search.suggestions": {"sv": "{n} förslag", "en": "{n} suggestions"},
    "search.no_suggestions": {"sv": "Inga förslag", "en": "No suggestions"},
    "home.vocabularies": {"sv": "Vokabulär", "en": "Vocabularies"},
    "home.concepts": {"sv": "begrepp", "en": "concepts"},
    "home.schemes": {"sv": "begreppsscheman", "en": "concept schemes"},
    "home.build": {"sv": "Bygge", "en": "Build"},
    "home.built": {"sv": "byggt", "en": "built"},
    # search results
    "results.title": {"sv": "Sökresultat för ”{q}”", "en": "Results for “{q}”"},
    "results.count": {"sv": "{n} träffar", "en": "{n} results"},
    "results.none": {
        "sv": "Inga begrepp hittades. Pröva ett kortare ord, en kod eller att ta bort filter.",
        "en": "No concepts found. Try a shorter word, a code, or removing filters.",
    },
    "results.facet.scheme": {"sv": "Begreppsschema", "en": "Concept scheme"},
    "results.facet.type": {"sv": "Typ", "en": "Type"},
    "results.filters": {"sv": "Filter", "en": "Filters"},
    "results.clear": {"sv": "Ta bort filter", "en": "Clear filters"},
    "results.deprecated": {"sv": "Visa utgångna begrepp", "en": "Show deprecated concepts"},
    "results.matched": {"sv": "träff på", "en": "matched"},
    "results.page": {"sv": "Sida {page} av {pages}", "en": "Page {page} of {pages}"},
    "results.prev": {"sv": "Föregående", "en": "Previous"},
    "results.next": {"sv": "Nästa", "en": "Next"},
    "results.apply": {"sv": "Filtrera", "en": "Apply"},
    # concept page
    "concept.uri": {"sv": "URI", "en": "URI"},
    "concept.type": {"sv": "Typ", "en": "Type"},
    "concept.scheme": {"sv": "Begreppsschema", "en": "Concept scheme"},
    "concept.codes": {"sv": "Koder", "en": "Codes"},
    "concept.labels": {"sv": "Termer", "en": "Labels"},
    "concept.prefLabel": {"sv": "Föredragen term", "en": "Preferred label"},
    "concept.altLabel": {"sv": "Alternativa termer", "en": "Alternative labels"},
    "concept.hiddenLabel": {"sv": "Dolda termer (för sökning)", "en": "Hidden labels (search)"},
    "concept.definition": {"sv": "Definition", "en": "Definition"},
    "concept.notes": {"sv": "Anmärkningar", "en": "Notes"},
    "concept.hierarchy": {"sv": "Plats i hierarkin", "en": "Place in the hierarchy"},
    "concept.paths": {"sv": "{n} vägar uppåt", "en": "{n} paths up"},
    "concept.broader": {"sv": "Överordnade", "en": "Broader"},
    "concept.narrower": {"sv": "Underordnade", "en": "Narrower"},
    "concept.related": {"sv": "Relaterade", "en": "Related"},
    "concept.mappings": {"sv": "Mappningar", "en": "Mappings"},
    "concept.mapping_set": {"sv": "Källa", "en": "Source"},
    "concept.provenance": {"sv": "Proveniens", "en": "Provenance"},
    "concept.essential_skills": {"sv": "Nödvändiga kompetenser", "en": "Essential skills"},
    "concept.optional_skills": {"sv": "Valfria kompetenser", "en": "Optional skills"},
    "concept.essential_for": {
        "sv": "Yrken där kompetensen är nödvändig",
        "en": "Occupations for which it is essential",
    },
    "concept.optional_for": {
        "sv": "Yrken där kompetensen är valfri",
        "en": "Occupations for which it is optional",
    },
    "concept.substitutability": {"sv": "Utbytbarhet", "en": "Substitutability"},
    "concept.can_substitute": {
        "sv": "Kan ersätta (den här yrkesrollen kan arbeta som)",
        "en": "Can substitute (this occupation can work as)",
    },
    "concept.substituted_by": {
        "sv": "Kan ersättas av",
        "en": "Can be substituted by",
    },
    "concept.percentage": {"sv": "Utbytbarhet", "en": "Substitutability"},
    "concept.deprecated": {
        "sv": "Det här begreppet är utgånget och ska inte användas.",
        "en": "This concept is deprecated and should not be used.",
    },
    "concept.not_current": {
        "sv": "Det här begreppet finns inte i den aktuella utgåvan; det är känt från en annan.",
        "en": "This concept is not in the current release; it is known from another one.",
    },
    "concept.not_current_short": {
        "sv": "Finns inte i den aktuella utgåvan",
        "en": "Not in the current release",
    },
    "concept.older_release": {"sv": "äldre utgåva", "en": "older release"},
    "concept.last_seen": {"sv": "Senast sett i", "en": "Last seen in"},
    "concept.replaced_by": {"sv": "Ersatt av", "en": "Replaced by"},
    "concept.came_from": {"sv": "Du följde en länk till", "en": "You followed a link to"},
    "concept.came_from_replaced": {
        "sv": "Det begreppet är utgånget, och det här begreppet ersätter det.",
        "en": "That concept is deprecated, and this concept replaces it.",
    },
    "concept.replaces": {"sv": "Ersätter", "en": "Replaces"},
    "concept.jobtech_id": {"sv": "JobTech-id", "en": "JobTech id"},
    "concept.legacy_ids": {"sv": "Äldre AMS-id", "en": "Legacy AMS ids"},
    "concept.other": {"sv": "Övriga uppgifter", "en": "Other statements"},
    "concept.source": {"sv": "Hos källan", "en": "At the source"},
    "concept.formats": {"sv": "Som data", "en": "As data"},
    "concept.sparql": {
        "sv": "Öppna en SPARQL-fråga om begreppet",
        "en": "Open a SPARQL query about this concept",
    },
    "concept.more": {"sv": "Visa fler ({n} till)", "en": "Show more ({n} more)"},
    "concept.showing": {
        "sv": "Visar {first}–{last} av {total}",
        "en": "Showing {first}–{last} of {total}",
    },
    "concept.none": {"sv": "Inga", "en": "None"},
    "concept.top_of": {"sv": "Toppbegrepp i", "en": "Top concept of"},
    "concept.no_language": {
        "sv": "Ingen term på svenska; visar en annan.",
        "en": "No label in English; showing another.",
    },
    "match.exactMatch": {"sv": "Exakt motsvarighet", "en": "Exact match"},
    "match.closeMatch": {"sv": "Nära motsvarighet", "en": "Close match"},
    "match.broadMatch": {"sv": "Bredare motsvarighet", "en": "Broader match"},
    "match.narrowMatch": {"sv": "Smalare motsvarighet", "en": "Narrower match"},
    "match.relatedMatch": {"sv": "Relaterad motsvarighet", "en": "Related match"},
    "concept.stated_by_other": {
        "sv": "angiven från andra hållet",
        "en": "stated from the other side",
    },
    "concept.label_lang": {"sv": "Språk", "en": "Language"},
    "concept.json": {"sv": "JSON (API)", "en": "JSON (API)"},
    "concept.occupation": {"sv": "Yrke", "en": "Occupation"},
    "note.description": {"sv": "Beskrivning", "en": "Description"},
    "note.scopeNote": {"sv": "Omfång", "en": "Scope note"},
    "note.note": {"sv": "Anmärkning", "en": "Note"},
    "note.example": {"sv": "Exempel", "en": "Example"},
    "note.editorialNote": {"sv": "Redaktionell anmärkning", "en": "Editorial note"},
    "note.historyNote": {"sv": "Historik", "en": "History note"},
    "note.changeNote": {"sv": "Ändringsanmärkning", "en": "Change note"},
    # schemes
    "schemes.title": {"sv": "Vokabulär och begreppsscheman", "en": "Vocabularies and schemes"},
    "schemes.concepts": {"sv": "Begrepp", "en": "Concepts"},
    "scheme.top": {"sv": "Toppbegrepp", "en": "Top concepts"},
    "scheme.roots": {
        "sv": "Schemat anger inga toppbegrepp; här visas begreppen utan överordnat begrepp.",
        "en": "The scheme names no top concepts; these are its concepts without a broader one.",
    },
    "scheme.expand": {"sv": "Visa underordnade till {label}", "en": "Show narrower of {label}"},
    "scheme.loading": {"sv": "Hämtar…", "en": "Loading…"},
    "scheme.tree": {"sv": "Hierarki", "en": "Hierarchy"},
    # mappings
    "mappings.title": {"sv": "Mappningsuppsättningar", "en": "Mapping sets"},
    "mappings.set": {"sv": "Uppsättning", "en": "Set"},
    "mappings.count": {"sv": "Mappningar", "en": "Mappings"},
    "mappings.predicates": {"sv": "Per predikat", "en": "By predicate"},
    "mappings.coverage": {"sv": "Täckning", "en": "Coverage"},
    "mappings.coverage_lead": {
        "sv": "Hur många begrepp av varje typ som har minst en mappning i uppsättningen.",
        "en": "How many concepts of each type have at least one mapping in the set.",
    },
    "mappings.overall": {
        "sv": "Täckning över alla uppsättningar",
        "en": "Coverage over all sets",
    },
    "mappings.side.jobtech": {"sv": "JobTech mot ESCO", "en": "JobTech to ESCO"},
    "mappings.side.esco": {"sv": "ESCO mot JobTech", "en": "ESCO to JobTech"},
    "mappings.mapped": {"sv": "mappade", "en": "mapped"},
    "mappings.of": {"sv": "av", "en": "of"},
    "mappings.no_match": {"sv": "granskade utan träff", "en": "reviewed, no match"},
    "mappings.metadata": {"sv": "Metadata", "en": "Metadata"},
    "mappings.examples": {"sv": "Exempel", "en": "Examples"},
    "mappings.subject": {"sv": "Subjekt", "en": "Subject"},
    "mappings.predicate": {"sv": "Predikat", "en": "Predicate"},
    "mappings.object": {"sv": "Objekt", "en": "Object"},
    "mappings.justification": {"sv": "Motivering", "en": "Justification"},
    "concept.as_of": {"sv": "Som i version {version}", "en": "As in release {version}"},
    "concept.versions": {"sv": "Versioner", "en": "Releases"},
    "concept.as_served": {"sv": "som nu", "en": "as served now"},
    "changes.title": {"sv": "Versioner och ändringar", "en": "Releases and changes"},
    "changes.lead": {
        "sv": "Varje källas versioner, vilken som är aktuell, och vad som ändrats mellan dem.",
        "en": "Each source's releases, which one is current, and what changed between them.",
    },
    "changes.releases": {"sv": "Versioner", "en": "Releases"},
    "changes.compared": {"sv": "Jämförda", "en": "Compared"},
    "changes.current": {"sv": "aktuell", "en": "current"},
    "changes.computed": {"sv": "Beräknad", "en": "Computed"},
    "changes.not_compared": {"sv": "Kunde inte jämföras", "en": "Could not be compared"},
    "changes.concepts": {"sv": "Begrepp", "en": "Concepts"},
    "changes.mappings": {"sv": "Mappningar", "en": "Mappings"},
    "changes.more": {"sv": "och {n} till.", "en": "and {n} more."},
    "changes.none": {"sv": "Inga ändringar.", "en": "No changes."},
    "changes.history": {"sv": "Historik", "en": "History"},
    "changes.history_none": {
        "sv": "Inga ändringar i de jämförda versionerna.",
        "en": "No changes in the compared releases.",
    },
    "recheck.title": {"sv": "Att kontrollera igen", "en": "To re-check"},
    "recheck.lead": {
        "sv": "Mappningar vars begrepp har ändrats sedan den version uppsättningen anger.",
        "en": "Mappings whose concepts changed since the release the set names.",
    },
    "recheck.none": {
        "sv": "Inga begrepp i uppsättningen har ändrats sedan dess version.",
        "en": "No concept of this set changed since its release.",
    },
    "recheck.side": {"sv": "Sida", "en": "Side"},
    "recheck.change": {"sv": "Ändring", "en": "Change"},
    "recheck.since": {"sv": "Sedan", "en": "Since"},
    "recheck.evidence": {"sv": "Underlag", "en": "Evidence"},
    "recheck.more": {
        "sv": "och {n} till: kll-graph mappings recheck --format json listar alla.",
        "en": "and {n} more: kll-graph mappings recheck --format json lists them all.",
    },
    # about
    "about.title": {"sv": "Om tjänsten och data", "en": "About the service and the data"},
    "about.lead": {
        "sv": "Grafen byggs från källorna nedan; varje källa och version ligger i en egen "
        "namngiven graf.",
        "en": "The graph is built from the sources below; each source and version is its own "
        "named graph.",
    },
    "about.catalog": {"sv": "Katalog", "en": "Catalog"},
    "about.graph": {"sv": "Graf", "en": "Graph"},
    "about.source": {"sv": "Källa", "en": "Source"},
    "about.version": {"sv": "Version", "en": "Version"},
    "about.triples": {"sv": "Tripler", "en": "Triples"},
    "about.license": {"sv": "Licens", "en": "Licence"},
    "about.attributions": {"sv": "Erkännanden", "en": "Attributions"},
    "about.attribution_lead": {
        "sv": "Data från källorna används enligt deras villkor:",
        "en": "Data from the sources is used under their terms:",
    },
    "about.build": {"sv": "Bygget", "en": "The build"},
    "about.interfaces": {"sv": "Gränssnitt", "en": "Interfaces"},
    "about.sample": {"sv": "Medföljande exempel", "en": "Bundled sample"},
    "about.yes": {"sv": "ja", "en": "yes"},
    "about.no": {"sv": "nej", "en": "no"},
    # errors
    "error.title": {"sv": "Något gick fel", "en": "Something went wrong"},
    "error.not_found": {"sv": "Hittades inte", "en": "Not found"},
    "error.bad_request": {"sv": "Felaktig förfrågan", "en": "Bad request"},
    "error.not_acceptable": {"sv": "Formatet kan inte levereras", "en": "Format not available"},
    "error.unavailable": {"sv": "Tjänsten är inte redo", "en": "Service not ready"},
    "error.suggestions": {"sv": "Menade du", "en": "Did you mean"},
    "error.search_instead": {"sv": "Sök i stället", "en": "Search instead"},
    "error.home": {"sv": "Till startsidan", "en": "Go to the start page"},
}


def translate(key: str, lang: str, **values: object) -> str:
    """One UI string in a language, with `{name}` placeholders filled.

    A missing key is a programming error and fails loudly (KeyError), so no page ever shows a
    raw key.

    >>> translate("results.count", "sv", n=3)
    '3 träffar'
    >>> translate("results.count", "en", n=3)
    '3 results'
    """
    text = STRINGS[key][lang]
    return text.format(**values) if values else text


def translator(lang: str) -> Callable[..., str]:
    """`t(key, **values)` bound to one language, for templates."""

    def t(key: str, **values: object) -> str:
        return translate(key, lang, **values)

    return t


def missing_translations(strings: Mapping[str, Mapping[str, str]] = STRINGS) -> list[str]:
    """Keys lacking a text in some UI language (the tests keep this empty).

    >>> missing_translations({"a": {"sv": "x"}})
    ['a']
    """
    return sorted(k for k, texts in strings.items() if any(not texts.get(L) for L in UI_LANGUAGES))


def format_number(value: int | float, lang: str) -> str:
    """A number as the language writes it: thin space thousands in Swedish, comma in English.

    >>> format_number(12345, "sv") == "12\\u00a0345"
    True
    >>> format_number(12345, "en")
    '12,345'
    >>> format_number(12.5, "sv")
    '12,5'
    """
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:,.1f}"
    else:
        text = f"{int(value):,}"
    if lang == "sv":
        return text.replace(",", "\u00a0").replace(".", ",")
    return text
