"""How good the matcher's candidates are, measured against Sweden's official ESCO mapping tables.

The matcher (:mod:`kll_graph.mappings.matcher`) runs on a store built without the tables; this
module reads the tables from their configured sources (the CSV files, never the store) and
compares. The tables' subjects are split in two halves by a stable hash of the subject IRI
(:func:`half`): the "fit" half is what :func:`fit` trains the matcher's confidence model on; the
"test" half is what :func:`evaluate` reports on, so the figures are never measured on the data
the weights were fitted to.

Figures per type: precision@1 on the subjects the table maps with exactMatch (the top candidate
is one of those exact objects), recall@5 on every mapped subject (an object of any relation
among the top five), precision per confidence band (a candidate is right when the table relates
it to the subject in any way), subjects without a candidate, and the same figures for a baseline
that proposes the ESCO concepts with an equal folded label.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise

import numpy as np

from kll_graph.labels.text import fold
from kll_graph.mappings.fitted import FEATURES
from kll_graph.mappings.matcher import (
    ISCO,
    OCCUPATION,
    REVIEWED,
    SKILL,
    Candidate,
    Concept,
    Model,
    Progress,
    TargetKind,
    Vocabularies,
    candidates_for,
    model_for,
    models,
)
from kll_graph.mappings.sources import TABLE_IMPORTER, table_set
from kll_graph.mappings.sssom import CLOSE_MATCH, EXACT_MATCH, POSITIVE_MATCHES, expand
from kll_graph.plan import plan_sources
from kll_graph.settings import Settings

#: The official tables' source ids (kll-graph.toml); a store for evaluation leaves them out.
TABLE_SOURCES = ("se-occupations-esco", "se-skills-esco")
#: The ESCO kind each evaluated type maps to. ssyk-level-4 is in no table: its reference is
#: derived from the occupation table (:func:`ssyk_reference`).
EVALUATED = {"occupation-name": OCCUPATION, "skill": SKILL, "ssyk-level-4": ISCO}
#: The figures of ssyk-level-4 once more, with the subjects' ISCO codes (JobTech's own SSYK ->
#: ISCO relation) taken away: what the labels and the occupation names' votes find.
LABELS_ONLY = "ssyk-level-4 (no JobTech ISCO relation)"
#: The suffix of a type's two-fold figures (see :func:`evaluate`).
CROSS = "(2-fold)"
#: The types measured once more with the other half's table rows as reviewed mappings
#: (:class:`~kll_graph.mappings.matcher.Neighbours`): what `suggest` does on a store where part
#: of a type is mapped already. Occupation names were measured too and gained nothing (R@5
#: +0.003) for a worse calibration; they have no such model (docs/mappings.md).
WITH_NEIGHBOURS = ("skill",)
BANDS = tuple(i / 10 for i in range(11))

#: subject IRI -> object IRI -> predicate CURIE, per type.
Truth = dict[str, dict[str, dict[str, str]]]


def half(iri: str) -> str:
    """ "fit" or "test": a stable split of subjects by the SHA-256 of the IRI.

    >>> half("http://data.jobtechdev.se/taxonomy/concept/h4wH_7kG_UTN") in {"fit", "test"}
    True
    """
    return "fit" if hashlib.sha256(iri.encode()).digest()[0] % 2 == 0 else "test"


def official_truth(settings: Settings, vocabularies: Vocabularies) -> Truth:
    """The official tables' positive relations per evaluated type, read from their CSV files."""
    plan = plan_sources(settings)
    kinds = {
        name: {c.iri for c in vocabularies.targets[target]} for name, target in EVALUATED.items()
    }
    subjects = {name: {c.iri for c in vocabularies.subjects.get(name, [])} for name in EVALUATED}
    truth: Truth = {name: defaultdict(dict) for name in EVALUATED}
    isco_of = {c.iri: c.isco for c in vocabularies.targets[OCCUPATION]}
    isco_of |= {c.iri: c.isco for c in vocabularies.targets[ISCO]}
    reached: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for source in plan.sources:
        if source.importer != TABLE_IMPORTER or not source.current:
            continue  # an older release of a table is history, not the reference
        mset, _table = table_set(source, source.resolve(plan.data_dir), settings.base_iri)
        prefixes = mset.prefixes()
        for mapping in mset.mappings:
            predicate = mapping.get("predicate_id")
            if mapping.negated or mapping.no_term or predicate not in POSITIVE_MATCHES:
                continue
            s = expand(mapping.get("subject_id"), prefixes)
            o = expand(mapping.get("object_id"), prefixes)
            for name in EVALUATED:
                if s in subjects[name] and o in kinds[name]:
                    truth[name][s][o] = predicate
            for group in vocabularies.groups.get(s, ()):
                for code in isco_of.get(o, ()):
                    reached[group][code].add(s)
    truth["ssyk-level-4"].update(ssyk_reference(reached, vocabularies, subjects["ssyk-level-4"]))
    return {name: dict(rows) for name, rows in truth.items()}


def ssyk_reference(
    reached: Mapping[str, Mapping[str, set[str]]], vocabularies: Vocabularies, groups: set[str]
) -> dict[str, dict[str, str]]:
    """SSYK level 4 group -> ISCO unit group, as the official occupation table implies it.

    No table maps SSYK groups, but the occupation table maps occupation names to ESCO
    occupations (each in one ISCO unit group) and to ISCO groups. `reached` holds, per SSYK
    group, the ISCO codes its occupation names reach in the table, with those names. The code
    most of them reach is the group's main match (written as exactMatch, what P@1 asks for);
    every other code reached is related (closeMatch, counted by R@5 and the calibration). The
    matcher may read JobTech's own SSYK -> ISCO relation; this reference never does.
    """
    iri_of = {code: c.iri for c in vocabularies.targets[ISCO] for code in c.isco}
    out: dict[str, dict[str, str]] = {}
    for group in sorted(set(reached) & groups):
        counts = {code: len(names) for code, names in reached[group].items() if code in iri_of}
        if not counts:
            continue
        most = max(counts.values())
        out[group] = {
            iri_of[code]: EXACT_MATCH if n == most else CLOSE_MATCH
            for code, n in sorted(counts.items())
        }
    return out


# --- running the matcher and the baseline -------------------------------------------------------


@dataclass
class Ranked:
    """A subject's ranked candidates (all shortlisted ones) from the matcher."""

    subject: Concept
    candidates: list[Candidate]


def rank_all(
    vocabularies: Vocabularies,
    name: str,
    kind: TargetKind,
    subjects: set[str],
    model: Model,
) -> list[Ranked]:
    """The matcher's full ranking for the given subjects of one type."""
    return [
        Ranked(s, candidates_for(s, kind, model))
        for s in vocabularies.subjects.get(name, [])
        if s.iri in subjects
    ]


def baseline(subject: Concept, kind: TargetKind) -> list[str]:
    """Exact folded-label equality: the concepts sharing a folded label, in IRI order."""
    found: set[int] = set()
    for label in subject.labels:
        if not label.keyword:
            found |= kind.by_key[1].get(fold(label.text), set())
    return sorted(kind.concepts[n].iri for n in found)


# --- figures --------------------------------------------------------------------------------------


@dataclass
class Band:
    low: float
    high: float
    count: int = 0
    right: int = 0
    confidence: float = 0.0  # sum, then mean

    @property
    def precision(self) -> float:
        return self.right / self.count if self.count else 0.0


@dataclass
class Figures:
    """One type's figures on the test half."""

    name: str
    subjects: int = 0
    exact_subjects: int = 0
    p_at_1: float = 0.0
    r_at_5: float = 0.0
    no_candidate: int = 0
    baseline_p_at_1: float = 0.0
    baseline_r_at_5: float = 0.0
    baseline_no_candidate: int = 0
    bands: list[Band] = field(default_factory=list)
    predicate_right: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "type": self.name,
            "subjects": self.subjects,
            "exact_subjects": self.exact_subjects,
            "precision_at_1": round(self.p_at_1, 4),
            "recall_at_5": round(self.r_at_5, 4),
            "no_candidate": self.no_candidate,
            "baseline": {
                "precision_at_1": round(self.baseline_p_at_1, 4),
                "recall_at_5": round(self.baseline_r_at_5, 4),
                "no_candidate": self.baseline_no_candidate,
            },
            "top1_predicate_agrees": round(self.predicate_right, 4),
            "bands": [
                {
                    "band": f"{b.low:.1f}-{b.high:.1f}",
                    "candidates": b.count,
                    "mean_confidence": round(b.confidence, 4),
                    "precision": round(b.precision, 4),
                }
                for b in self.bands
                if b.count
            ],
        }


def figures(
    name: str, ranked: Sequence[Ranked], kind: TargetKind, truth: Mapping[str, dict[str, str]]
) -> Figures:
    """Precision@1, recall@5, calibration bands and the baseline for one type."""
    out = Figures(name, subjects=len(ranked))
    bands = [Band(lo, hi) for lo, hi in pairwise(BANDS)]
    hits1 = hits5 = base1 = base5 = predicate_right = 0
    for item in ranked:
        official = truth[item.subject.iri]
        exact = {o for o, p in official.items() if p == EXACT_MATCH}
        top = [c.target.iri for c in item.candidates[:5]]
        base = baseline(item.subject, kind)
        out.no_candidate += not item.candidates
        out.baseline_no_candidate += not base
        hits5 += any(o in official for o in top)
        base5 += any(o in official for o in base[:5])
        if exact:
            out.exact_subjects += 1
            hits1 += bool(top) and top[0] in exact
            base1 += bool(base) and base[0] in exact
        if item.candidates and top[0] in official:
            predicate_right += item.candidates[0].predicate == official[top[0]]
        for candidate in item.candidates[:5]:
            band = bands[min(int(candidate.confidence * 10), 9)]
            band.count += 1
            band.right += candidate.target.iri in official
            band.confidence += candidate.confidence
    for band in bands:
        band.confidence = band.confidence / band.count if band.count else 0.0
    n, e = max(1, len(ranked)), max(1, out.exact_subjects)
    out.p_at_1, out.r_at_5 = hits1 / e, hits5 / n
    out.baseline_p_at_1, out.baseline_r_at_5 = base1 / e, base5 / n
    out.predicate_right = predicate_right / max(1, hits5)
    out.bands = bands
    return out


# --- fitting the confidence model --------------------------------------------------------------


@dataclass
class Shortlist:
    """One training subject's shortlisted candidates as the model sees them: the evidence vectors
    (which do not depend on the weights) and whether the table relates each to the subject."""

    iri: str
    targets: list[str]
    vectors: np.ndarray
    right: np.ndarray
    #: 1.0 where the table maps the subject to the candidate with exactMatch.
    exact: np.ndarray = field(default_factory=lambda: np.zeros(0))


def shortlists(ranked: Sequence[Ranked], truth: Mapping[str, dict[str, str]]) -> list[Shortlist]:
    """The evidence of every shortlisted candidate, computed once for all the fits below."""
    out = []
    for item in ranked:
        if not item.candidates:
            continue
        official = truth[item.subject.iri]
        out.append(
            Shortlist(
                item.subject.iri,
                [c.target.iri for c in item.candidates],
                np.asarray([c.evidence.vector() for c in item.candidates], dtype=float),
                np.asarray([float(c.target.iri in official) for c in item.candidates]),
                np.asarray(
                    [float(official.get(c.target.iri) == EXACT_MATCH) for c in item.candidates]
                ),
            )
        )
    return out


def training_rows(
    ranked: Sequence[Ranked], truth: Mapping[str, dict[str, str]]
) -> tuple[np.ndarray, np.ndarray]:
    """Features and outcomes (right or not) of every shortlisted candidate."""
    return _stack(shortlists(ranked, truth))


def _stack(rows: Sequence[Shortlist]) -> tuple[np.ndarray, np.ndarray]:
    if not rows:
        return np.zeros((0, len(FEATURES))), np.zeros(0)
    return np.concatenate([r.vectors for r in rows]), np.concatenate([r.right for r in rows])


def logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> np.ndarray:
    """Logistic regression weights by Newton's method with a small L2 penalty (not on the bias)."""
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (p - y) + penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    return w


def conditional_logit(rows: Sequence[Shortlist], l2: float = 1.0, steps: int = 50) -> np.ndarray:
    """Weights that rank each subject's own candidates: a conditional logit (softmax over the
    subject's shortlist), fitted by Newton's method with a backtracking line search.

    The pointwise logistic regression learns whether a candidate is right among all candidates
    of all subjects; what the matcher has to do is pick the right one among a subject's own.
    The target is the subject's exactMatch objects where it has any (what P@1 asks for), else
    every related object. Subjects with no right candidate (or only right ones) say nothing
    about the order and are left out. The bias cancels in a softmax and stays 0."""
    groups = []
    for row in rows:
        wanted = row.exact if row.exact.any() else row.right
        if 0 < wanted.sum() < len(wanted):
            groups.append((row.vectors, wanted / wanted.sum()))
    w = np.zeros(len(FEATURES))
    penalty = np.full(len(FEATURES), l2)
    penalty[0] = 0.0

    def loss(v: np.ndarray) -> float:
        total = 0.5 * float(penalty @ (v * v))
        for x, y in groups:
            z = x @ v
            top = float(z.max())
            total -= float(y @ (z - top - np.log(np.exp(z - top).sum())))
        return total

    for _ in range(steps):
        gradient = penalty * w
        hessian = np.diag(penalty + 1e-6)
        for x, y in groups:
            z = x @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            gradient += x.T @ (p - y)
            mean = x.T @ p
            hessian += (x.T * p) @ x - np.outer(mean, mean)
        step = np.linalg.solve(hessian, gradient)
        size, before = 1.0, loss(w)
        while size > 1e-4 and loss(w - size * step) > before:
            size /= 2
        w = w - size * step
        if float(np.max(np.abs(size * step))) < 1e-7:
            break
    return w


def fit_weights(rows: Sequence[Shortlist]) -> np.ndarray:
    """The model's weights: the conditional logit's order (:func:`conditional_logit`), turned
    into a probability of being right by a logistic regression on its score (Platt scaling: a
    bias and a positive scale, folded into the weights, so the order stays the logit's)."""
    order = conditional_logit(rows)
    x, y = _stack(rows)
    bias, scale = logistic(np.column_stack([np.ones(len(x)), x @ order]), y, l2=0.0)
    weights = max(float(scale), 1e-3) * order
    weights[0] += bias
    return weights


def top_five(
    rows: Sequence[Shortlist], weights: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The raw probability and the outcome of each subject's five best candidates by `weights`
    (ties by IRI, as the matcher ranks them): what the calibration is fitted on."""
    w = np.asarray(weights, dtype=float)
    raw: list[float] = []
    right: list[float] = []
    for row in rows:
        p = 1.0 / (1.0 + np.exp(-np.clip(row.vectors @ w, -30, 30)))
        best = np.lexsort((np.asarray(row.targets), -p))[:5]
        raw += p[best].tolist()
        right += row.right[best].tolist()
    return np.asarray(raw), np.asarray(right)


def format_models(fitted: Mapping[str, Model]) -> str:
    """The fitted WEIGHTS and KNOTS as Python source, to paste into mappings/fitted.py."""
    lines = ["WEIGHTS: dict[str, tuple[float, ...]] = {"]
    for name, model in fitted.items():
        lines.append(f'    "{name}": (')
        for feature, value in zip(FEATURES, model.weights, strict=True):
            lines.append(f"        {value:.4f},  # {feature}")
        lines.append("    ),")
    lines.append("}")
    lines += ["KNOTS: dict[str, tuple[tuple[float, float], ...]] = {"]
    for name, model in fitted.items():
        lines.append(f'    "{name}": (')
        lines += [f"        ({x:.4f}, {y:.4f})," for x, y in model.knots]
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines)


# --- calibration --------------------------------------------------------------------------------

Knots = tuple[tuple[float, float], ...]
#: A calibration method: (raw probabilities, outcomes) -> knots for :meth:`Model.calibrate`.
Calibrator = Callable[[np.ndarray, np.ndarray], Knots]
#: The standard error a calibration step may have at most, for :func:`stepped_knots`.
STEP_ERRORS = (0.03, 0.025, 0.02)
#: Largest gap between confidence and share right allowed in a band of at least
#: :data:`BAND_MINIMUM` candidates (the project's target).
CALIBRATION_TOLERANCE, BAND_MINIMUM = 0.05, 50


def _pooled(raw: np.ndarray, right: np.ndarray, bins: int) -> list[list[float]]:
    """Equal-count bins of the raw probability pooled until their shares rise (pool adjacent
    violators): [lowest raw, highest raw, mean raw, right, count] per block."""
    order = np.argsort(raw, kind="stable")
    pooled: list[list[float]] = []
    for part in np.array_split(order, max(1, min(bins, len(order)))):
        if not len(part):
            continue
        block = [float(raw[part].min()), float(raw[part].max()), float(raw[part].sum())]
        pooled.append([*block, float(right[part].sum()), float(len(part))])
        while len(pooled) > 1 and (pooled[-2][3] / pooled[-2][4] >= pooled[-1][3] / pooled[-1][4]):
            last = pooled.pop()
            pooled[-1] = _merge(pooled[-1], last)
    return pooled


def _merge(a: list[float], b: list[float]) -> list[float]:
    return [a[0], b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4]]


def isotonic_knots(raw: np.ndarray, right: np.ndarray, bins: int = 100) -> Knots:
    """Calibration knots: equal-count bins of the raw probability, made monotone by pooling
    adjacent violators; each knot is (mean raw probability, share right) of a pooled block,
    and the confidence is interpolated between them."""
    knots = [(round(s / n, 4), round(r / n, 4)) for _lo, _hi, s, r, n in _pooled(raw, right, bins)]
    return ((0.0, 0.0), *knots, (1.0, max(knots[-1][1], 1.0) if knots else 1.0))


def stepped_knots(raw: np.ndarray, right: np.ndarray, error: float = 0.025) -> Knots:
    """A monotone step function whose every step stands on enough candidates that its share
    right has a standard error of at most `error` (n >= p(1-p)/error², at least 30): the
    pooled blocks of 100 bins are merged with their neighbours until each is that large. Few
    steps, each well measured, instead of many noisy ones; between steps the confidence jumps
    (knots 0.0001 apart), so every candidate of a step gets that step's share."""
    blocks: list[list[float]] = []
    for block in _pooled(raw, right, 100):
        if blocks and not _large(blocks[-1], error):
            block = _merge(blocks.pop(), block)
        blocks.append(block)
    while len(blocks) > 1 and not _large(blocks[-1], error):
        last = blocks.pop()
        blocks[-1] = _merge(blocks[-1], last)
    if not blocks:
        return ()
    shares = [round(b[3] / b[4], 4) for b in blocks]
    knots = [(0.0, shares[0])]
    for (before, after), share, following in zip(
        pairwise(blocks), shares, shares[1:], strict=False
    ):
        cut = round((before[1] + after[0]) / 2, 4)
        knots += [(cut, share), (round(cut + 0.0001, 4), following)]
    knots.append((1.0, shares[-1]))
    return tuple(knots)


def _large(block: Sequence[float], error: float) -> bool:
    share = block[3] / block[4]
    return block[4] >= max(30.0, share * (1 - share) / error**2)


def calibrators() -> list[tuple[str, Calibrator]]:
    """The calibrations tried, finest first: isotonic interpolated over 100 and 50 bins, then
    step functions with ever fewer, surer steps."""
    out: list[tuple[str, Calibrator]] = [
        ("isotonic, 100 bins", isotonic_knots),
        ("isotonic, 50 bins", lambda raw, right: isotonic_knots(raw, right, 50)),
    ]
    for error in STEP_ERRORS:
        out.append((f"steps, error {error}", _stepped(error)))
    return out


def _stepped(error: float) -> Calibrator:
    def calibrate(raw: np.ndarray, right: np.ndarray) -> Knots:
        return stepped_knots(raw, right, error)

    return calibrate


def worst_gap(confidence: np.ndarray, right: np.ndarray) -> float:
    """The largest |share right - mean confidence| over the bands of at least
    :data:`BAND_MINIMUM` candidates, as :func:`figures` measures it."""
    bands = np.minimum((confidence * 10).astype(int), 9)
    gaps = [
        abs(float(right[bands == b].mean() - confidence[bands == b].mean()))
        for b in range(10)
        if int((bands == b).sum()) >= BAND_MINIMUM
    ]
    return max(gaps, default=0.0)


def inner_half(iri: str) -> int:
    """A second stable split (another byte of the same hash), inside one half."""
    return hashlib.sha256(iri.encode()).digest()[1] % 2


def choose_calibration(rows: Sequence[Shortlist]) -> tuple[str, Calibrator]:
    """The finest calibration that meets the target inside the training half alone.

    The training half is split once more (:func:`inner_half`); on each part the weights and
    each calibration are fitted and the other part measured, and the two measurements pooled,
    as the evaluation's two-fold figures are. The first calibration (finest first) whose worst
    band is within :data:`CALIBRATION_TOLERANCE` is taken; if none is, the coarsest. The
    evaluation half is never looked at."""
    parts = [[r for r in rows if inner_half(r.iri) == k] for k in (0, 1)]
    options = calibrators()
    for name, calibrator in options:
        confidences, rights = [], []
        for train, held in ((parts[0], parts[1]), (parts[1], parts[0])):
            weights = fit_weights(train)
            knots = calibrator(*top_five(train, weights))
            raw, right = top_five(held, weights)
            confidences.append(Model((), knots).calibrate_all(raw))
            rights.append(right)
        gap = worst_gap(np.concatenate(confidences), np.concatenate(rights))
        if gap <= CALIBRATION_TOLERANCE:
            return name, calibrator
    return options[-1]


def fit(
    vocabularies: Vocabularies,
    name: str,
    kind: TargetKind,
    subjects: set[str],
    truth: Truth,
    weights: Sequence[float] | None = None,
    progress: Progress = lambda message: None,
) -> Model:
    """Weights by :func:`fit_weights` on every shortlisted candidate (unless given), then the
    calibration :func:`choose_calibration` picks, fitted on the top five of each subject as
    the matcher ranks them with those weights (what it reports)."""
    rows = shortlists(rank_all(vocabularies, name, kind, subjects, models()[name]), truth[name])
    if weights is None:
        weights = tuple(round(float(w), 4) for w in fit_weights(rows))
    method, calibrator = choose_calibration(rows)
    progress(f"  calibration chosen: {method}")
    return Model(tuple(weights), calibrator(*top_five(rows, weights)))


@dataclass
class Evaluation:
    """Figures per evaluated type on the test half, and the weights fitted on the fit half."""

    figures: list[Figures]
    fitted: dict[str, Model]


def evaluate(
    vocabularies: Vocabularies,
    truth: Truth,
    *,
    types: Sequence[str] = tuple(EVALUATED),
    model: Mapping[str, Model] | None = None,
    fit_weights: bool = False,
    keep_weights: bool = False,
    cross: bool = False,
    progress: Progress = lambda message: None,
) -> Evaluation:
    """Run the matcher on the test half of each type's official subjects and measure it; with
    `fit_weights`, first fit the confidence model on the fit half and measure that one (with
    `keep_weights`, only its calibration: the weights stay those of `model`).

    With `cross`, each type is also measured two-fold (:data:`CROSS`): a model fitted the same
    way on the test half ranks the fit half, and the figures are over both halves together,
    each measured by a model that never saw it. That doubles what the calibration bands hold
    and evens out differences between the halves; it measures the fitting procedure, not the
    exact constants shipped."""
    models_now = dict(model or models())
    run = _Run(vocabularies, truth, models_now, fit_weights, keep_weights, cross, progress)
    for name in types:
        run.measure(name)
    return run.out


@dataclass
class _Run:
    """One evaluation: the settings of :func:`evaluate`, the models as they are fitted, and the
    figures so far."""

    vocabularies: Vocabularies
    truth: Truth
    model: dict[str, Model]
    fit_weights: bool
    keep_weights: bool
    cross: bool
    progress: Progress = lambda message: None
    out: Evaluation = field(default_factory=lambda: Evaluation([], {}))

    def measure(self, name: str) -> None:
        """Every row of one type: plain, with reviewed neighbours where the tables give the
        type some (:data:`WITH_NEIGHBOURS`), and SSYK groups without JobTech's relation."""
        kind = TargetKind.build(self.vocabularies.targets[EVALUATED[name]])
        kind.claim(self.vocabularies.subjects.get(name, []))
        halves = {h: {s for s in self.truth[name] if half(s) == h} for h in ("fit", "test")}
        ranked, other = self._halves(name, kind, halves)
        if name in WITH_NEIGHBOURS:
            self._halves(name, kind, halves, neighbours=True, lead=other)
        if name == "ssyk-level-4":
            bare = [replace(r.subject, isco=frozenset()) for r in ranked]
            unaided = [Ranked(s, candidates_for(s, kind, self.model[name])) for s in bare]
            self.out.figures.append(figures(LABELS_ONLY, unaided, kind, self.truth[name]))

    def _halves(
        self,
        name: str,
        kind: TargetKind,
        halves: Mapping[str, set[str]],
        neighbours: bool = False,
        lead: Model | None = None,
    ) -> tuple[list[Ranked], Model | None]:
        """Fit on the fit half (when asked), measure on the test half and, with `cross`, fit
        on the test half and measure both: the test half's ranking and the model fitted on it.

        With `neighbours`, the model is the one fitted with reviewed neighbours
        (:data:`~kll_graph.mappings.matcher.REVIEWED`): the fit half's table rows are the
        reviewed mappings (of each other too, never of themselves, when fitting), as `suggest`
        sees reviewed sets, and two-fold the test half's rows serve the fit half; the half
        measured is never among them. Two-fold, it is led by `lead`, the plain model fitted
        on the test half, as the shipped one is by the plain one (:func:`model_for`)."""
        key = name + REVIEWED if neighbours else name
        truth, every = self.truth[name], self.vocabularies.subjects.get(name, [])
        if neighbours:
            kind.learn(every, {s: truth[s] for s in halves["fit"]})
        if self.fit_weights:
            self.progress(f"fitting {key} on {len(halves['fit']):,} subjects")
            kept = self.model[key].weights if self.keep_weights and key in self.model else None
            self.model[key] = self.out.fitted[key] = fit(
                self.vocabularies, name, kind, halves["fit"], self.truth, kept, self.progress
            )
        self.progress(f"measuring {key} on {len(halves['test']):,} subjects")
        model = model_for(name, kind, self.model)
        ranked = rank_all(self.vocabularies, name, kind, halves["test"], model)
        self.out.figures.append(figures(key, ranked, kind, truth))
        other = None
        if self.cross:
            self.progress(f"fitting {key} on the test half, measuring the fit half")
            if neighbours:
                kind.learn(every, {s: truth[s] for s in halves["test"]})
            other = fit(
                self.vocabularies, name, kind, halves["test"], self.truth, progress=self.progress
            )
            if lead is not None:
                other = replace(other, lead=lead)
            both = ranked + rank_all(self.vocabularies, name, kind, halves["fit"], other)
            self.out.figures.append(figures(f"{key} {CROSS}", both, kind, truth))
        if neighbours:
            kind.learn(every, {})
        return ranked, other


def figures_text(evaluation: Evaluation) -> str:
    """The figures as Markdown tables: the summary, then calibration per type."""
    lines = [
        "| type | subjects (exact) | P@1 | R@5 | no candidate | baseline P@1 | baseline R@5 "
        "| baseline no candidate | top-1 predicate agrees |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f in evaluation.figures:
        lines.append(
            f"| {f.name} | {f.subjects:,} ({f.exact_subjects:,}) | {f.p_at_1:.3f} | "
            f"{f.r_at_5:.3f} | {f.no_candidate:,} | {f.baseline_p_at_1:.3f} | "
            f"{f.baseline_r_at_5:.3f} | {f.baseline_no_candidate:,} | {f.predicate_right:.3f} |"
        )
    for f in evaluation.figures:
        lines += [
            "",
            f"Calibration, {f.name} (top five candidates per subject):",
            "",
            "| confidence | candidates | mean confidence | precision | difference |",
            "|---|---|---|---|---|",
        ]
        for b in f.bands:
            if b.count:
                lines.append(
                    f"| {b.low:.1f}-{b.high:.1f} | {b.count:,} | {b.confidence:.3f} | "
                    f"{b.precision:.3f} | {b.precision - b.confidence:+.3f} |"
                )
    return "\n".join(lines)
