"""The matcher's evidence features and the constants fitted for them.

`kll-graph mappings evaluate --fit` prints WEIGHTS and KNOTS in this form to paste here
(docs/mappings.md, "How it is measured"). They live apart from the matcher
(:mod:`kll_graph.mappings.matcher`) because they are data a refit rewrites whole, a few hundred
lines that say nothing about how candidates are found; the matcher reads them through
:func:`~kll_graph.mappings.matcher.models`."""

from __future__ import annotations

#: Names of the evidence features, in the order of the weight vectors.
FEATURES = (
    "bias",
    "equal_exact",  # a label equal with diacritics kept (å, ä, ö distinct)
    "equal_folded",  # equal only once diacritics are folded
    "equal_words",  # equal words in another order (inverted forms)
    "equal_pref",  # the equal label is the ESCO concept's preferred label
    "equal_en",  # the equal label is English
    "cos_sv",  # trigram cosine with the Swedish labels
    "cos_en",  # trigram cosine with the English labels
    "cos_gap",  # best cosine of the subject minus this one (0 for the best)
    "head",  # the last word (compound head) is shared
    "isco_agree",  # the ISCO unit group agrees with the subject's (via SSYK)
    "isco_minor",  # only the first three ISCO digits agree
    "isco_disagree",  # the subject has ISCO codes and none agrees
    "ambiguity",  # log2 of how many candidates share the best equal label
    "keyword",  # the match came from a JobTech keyword pointing at the subject
    "rank1",  # best by cosine among the subject's candidates
    "typo",  # a label one edit away (no equal label)
    "narrower",  # the candidate's label is the subject's with a compound prefix or more words
    "broader",  # the subject's label is the candidate's with a compound prefix or more words
    "group_only",  # 1 / how many ESCO occupations the agreeing ISCO group holds
    "claimed",  # another subject of the type has an equal label for this concept
    "isco_share",  # agreeing: 1 / how many ISCO codes the subject has (one code is sure)
    "names",  # SSYK groups: share of the group's occupation names equal to one in this group
    "substitute",  # an occupation that can substitute the subject (or it them) has an equal label
    "neighbour",  # best label cosine of another subject with a reviewed mapping to the candidate
    "neighbour_exact",  # the same, counting only reviewed exactMatch mappings
    "neighbour_votes",  # the sum of those cosines over the close subjects mapped to it
)

#: Weights per type, in the order of FEATURES, fitted on the fit half of the official tables by
#: `kll-graph mappings evaluate --fit` (its output pasted here): a conditional logit's order of
#: each subject's candidates, scaled into a probability by a logistic regression on its score
#: (`evaluation.fit_weights`); the model applies them as a logistic one. ssyk-level-4 is in no
#: table; its reference is what the occupation table implies (`evaluation.ssyk_reference`).
WEIGHTS: dict[str, tuple[float, ...]] = {
    "occupation-name": (
        -4.5992,  # bias
        0.9872,  # equal_exact
        0.0000,  # equal_folded
        0.0000,  # equal_words
        0.7182,  # equal_pref
        0.3540,  # equal_en
        3.0728,  # cos_sv
        2.9904,  # cos_en
        -2.4128,  # cos_gap
        0.0965,  # head
        1.3170,  # isco_agree
        -0.1902,  # isco_minor
        -1.1269,  # isco_disagree
        -0.0588,  # ambiguity
        0.0645,  # keyword
        0.6418,  # rank1
        0.7675,  # typo
        1.1975,  # narrower
        1.0683,  # broader
        1.4958,  # group_only
        -0.5405,  # claimed
        0.4790,  # isco_share
        0.0000,  # names
        1.6161,  # substitute
        0.0000,  # neighbour
        0.0000,  # neighbour_exact
        0.0000,  # neighbour_votes
    ),
    "skill": (
        -5.3672,  # bias
        -0.1545,  # equal_exact
        -0.7835,  # equal_folded
        -0.0009,  # equal_words
        -0.0237,  # equal_pref
        -0.9281,  # equal_en
        5.5711,  # cos_sv
        3.7130,  # cos_en
        -2.8519,  # cos_gap
        0.3114,  # head
        0.0000,  # isco_agree
        0.0000,  # isco_minor
        0.0000,  # isco_disagree
        -0.2507,  # ambiguity
        0.0297,  # keyword
        0.2618,  # rank1
        0.1125,  # typo
        -0.2162,  # narrower
        0.3679,  # broader
        0.0000,  # group_only
        0.1226,  # claimed
        0.0000,  # isco_share
        0.0000,  # names
        0.0000,  # substitute
        0.0000,  # neighbour
        0.0000,  # neighbour_exact
        0.0000,  # neighbour_votes
    ),
    "skill (reviewed neighbours)": (
        -5.7482,  # bias
        1.3342,  # equal_exact
        -0.8723,  # equal_folded
        0.2794,  # equal_words
        1.0511,  # equal_pref
        -1.2900,  # equal_en
        3.8488,  # cos_sv
        2.8117,  # cos_en
        1.1320,  # cos_gap
        0.4403,  # head
        0.0000,  # isco_agree
        0.0000,  # isco_minor
        0.0000,  # isco_disagree
        -0.0703,  # ambiguity
        0.0541,  # keyword
        1.0234,  # rank1
        0.7364,  # typo
        0.9694,  # narrower
        0.6144,  # broader
        0.0000,  # group_only
        -0.7909,  # claimed
        0.0000,  # isco_share
        0.0000,  # names
        0.0000,  # substitute
        1.7709,  # neighbour
        -0.5805,  # neighbour_exact
        1.2298,  # neighbour_votes
    ),
    "ssyk-level-4": (
        -2.4592,  # bias
        0.1197,  # equal_exact
        0.0000,  # equal_folded
        0.0447,  # equal_words
        0.1644,  # equal_pref
        0.0000,  # equal_en
        0.6953,  # cos_sv
        0.1355,  # cos_en
        -0.7408,  # cos_gap
        -0.4541,  # head
        1.5364,  # isco_agree
        0.2367,  # isco_minor
        -1.7731,  # isco_disagree
        0.0000,  # ambiguity
        0.0000,  # keyword
        0.6250,  # rank1
        0.0220,  # typo
        -0.2000,  # narrower
        -0.2084,  # broader
        1.5364,  # group_only
        0.2469,  # claimed
        1.4223,  # isco_share
        3.2833,  # names
        0.0000,  # substitute
        0.0000,  # neighbour
        0.0000,  # neighbour_exact
        0.0000,  # neighbour_votes
    ),
}
#: Calibration per type (raw probability, share right, interpolated), fitted on the top five
#: candidates of the fit half by `kll-graph mappings evaluate --fit-calibration` with the weights
#: above; the method (isotonic, or steps: knots 0.0001 apart) is the finest that met the target
#: inside the fit half (`evaluation.choose_calibration`). A type without knots reports the raw
#: probability.
KNOTS: dict[str, tuple[tuple[float, float], ...]] = {
    "occupation-name": (
        (0.0000, 0.0000),
        (0.0037, 0.0000),
        (0.0038, 0.0152),
        (0.0092, 0.0152),
        (0.0093, 0.0189),
        (0.0159, 0.0189),
        (0.0160, 0.0303),
        (0.0205, 0.0303),
        (0.0206, 0.0455),
        (0.0279, 0.0455),
        (0.0280, 0.0505),
        (0.0317, 0.0505),
        (0.0318, 0.0530),
        (0.0372, 0.0530),
        (0.0373, 0.0649),
        (0.0493, 0.0649),
        (0.0494, 0.0707),
        (0.0580, 0.0707),
        (0.0581, 0.1126),
        (0.0774, 0.1126),
        (0.0775, 0.1288),
        (0.1340, 0.1288),
        (0.1341, 0.1591),
        (0.2070, 0.1591),
        (0.2071, 0.2939),
        (0.4187, 0.2939),
        (0.4188, 0.6037),
        (0.9135, 0.6037),
        (0.9136, 0.9625),
        (0.9745, 0.9625),
        (0.9746, 1.0000),
        (1.0000, 1.0000),
    ),
    "skill": (
        (0.0000, 0.0000),
        (0.0062, 0.0000),
        (0.0151, 0.0271),
        (0.0215, 0.0278),
        (0.0266, 0.0389),
        (0.0333, 0.0424),
        (0.0376, 0.0451),
        (0.0392, 0.0556),
        (0.0432, 0.0585),
        (0.0475, 0.0590),
        (0.0490, 0.0764),
        (0.0596, 0.0786),
        (0.0762, 0.0787),
        (0.0843, 0.0979),
        (0.0926, 0.1026),
        (0.1085, 0.1177),
        (0.1248, 0.1329),
        (0.1455, 0.1664),
        (0.1791, 0.1748),
        (0.2010, 0.2448),
        (0.2179, 0.2657),
        (0.2491, 0.2867),
        (0.3015, 0.3636),
        (0.3573, 0.4476),
        (0.4073, 0.4615),
        (0.5165, 0.5524),
        (0.6958, 0.6573),
        (0.8783, 0.8881),
        (1.0000, 1.0000),
    ),
    "skill (reviewed neighbours)": (
        (0.0000, 0.0000),
        (0.0123, 0.0231),
        (0.0195, 0.0347),
        (0.0270, 0.0425),
        (0.0322, 0.0569),
        (0.0376, 0.0625),
        (0.0436, 0.0681),
        (0.0502, 0.0694),
        (0.0575, 0.0938),
        (0.0628, 0.0972),
        (0.0695, 0.1014),
        (0.0763, 0.1319),
        (0.0847, 0.1381),
        (0.0927, 0.1678),
        (0.0958, 0.1748),
        (0.1145, 0.1841),
        (0.1457, 0.1935),
        (0.1612, 0.1958),
        (0.1704, 0.2238),
        (0.1859, 0.2273),
        (0.2128, 0.2727),
        (0.2513, 0.2937),
        (0.2880, 0.3427),
        (0.3396, 0.3776),
        (0.3993, 0.4126),
        (0.4760, 0.4685),
        (0.5771, 0.5245),
        (0.6563, 0.5874),
        (0.7483, 0.6154),
        (0.8331, 0.6853),
        (0.9082, 0.8252),
        (0.9603, 0.8322),
        (0.9942, 0.9441),
        (1.0000, 1.0000),
    ),
    "ssyk-level-4": (
        (0.0000, 0.0000),
        (0.0087, 0.0000),
        (0.0117, 0.0144),
        (0.0158, 0.0303),
        (0.0188, 0.0741),
        (0.0206, 0.0833),
        (0.0222, 0.1111),
        (0.0679, 0.1270),
        (0.1243, 0.2222),
        (0.1480, 0.3333),
        (0.2053, 0.4444),
        (0.5357, 0.4667),
        (0.7119, 0.5556),
        (0.7363, 0.6667),
        (0.7857, 0.7778),
        (0.8734, 0.8611),
        (0.9171, 0.8889),
        (0.9468, 0.9444),
        (0.9884, 1.0000),
        (1.0000, 1.0000),
    ),
}
