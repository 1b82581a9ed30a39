"""`stance annotate stats`: counts of a hand-made gold log, and agreement checked by hand."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from pipeline.annotate.stats import (
    cohen_kappa,
    gold_stats,
    krippendorff_alpha_nominal,
)
from pipeline.annotate.store import append_record, label_record, read_log
from pipeline.config import load_params
from tests.conftest import run_cli, write_params

LABELS = ("favor", "against", "none")

# --- Cohen's kappa -----------------------------------------------------------------------------


def test_kappa_of_a_two_by_two_table_worked_by_hand() -> None:
    # Ten paragraphs, two annotators:        B favor  B against
    #                           A favor          4        2       (A: 6 favor)
    #                           A against        1        3       (A: 4 against)
    # p_o = (4 + 3) / 10 = 0.7; B gives favor 5 times and against 5 times, so
    # p_e = 0.6 * 0.5 + 0.4 * 0.5 = 0.5 and kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4.
    pairs = (
        [("favor", "favor")] * 4
        + [("favor", "against")] * 2
        + [("against", "favor")] * 1
        + [("against", "against")] * 3
    )
    assert cohen_kappa(pairs) == pytest.approx(0.4)
    assert cohen_kappa(pairs) == pytest.approx(cohen_kappa_score(*zip(*pairs, strict=True)))


def test_kappa_bounds_and_undefined_cases() -> None:
    assert cohen_kappa([("favor", "favor"), ("none", "none")]) == pytest.approx(1.0)
    # Always opposite, with balanced use: p_o = 0, p_e = 1/2, kappa = -1.
    assert cohen_kappa([("favor", "none"), ("none", "favor")]) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="no paragraph labelled by both"):
        cohen_kappa([])
    with pytest.raises(ValueError, match="only 'none'"):
        cohen_kappa([("none", "none")] * 3)  # perfect, but p_e = 1: kappa is 0/0


@pytest.mark.parametrize("seed", range(5))
def test_kappa_matches_scikit_learn_on_random_labels(seed: int) -> None:
    generator = random.Random(seed)
    first = [generator.choice(LABELS) for _ in range(40)]
    # The second annotator copies the first most of the time, so kappa is well away from 0.
    second = [a if generator.random() < 0.6 else generator.choice(LABELS) for a in first]
    pairs = list(zip(first, second, strict=True))
    assert cohen_kappa(pairs) == pytest.approx(cohen_kappa_score(first, second))


# --- Krippendorff's alpha ----------------------------------------------------------------------


def test_alpha_of_the_same_two_by_two_table_worked_by_hand() -> None:
    # Every paragraph has m = 2 labels, so each contributes both ordered pairs with
    # weight 1/(m - 1) = 1: o_ff = 2*4 = 8, o_aa = 2*3 = 6, o_fa = o_af = 2 + 1 = 3;
    # n_f = 11, n_a = 9, n = 20. alpha = 1 - (n - 1) * (o_fa + o_af) / (2 * n_f * n_a)
    #                                 = 1 - 19 * 6 / 198 = 14/33.
    units = (
        [["favor", "favor"]] * 4
        + [["favor", "against"]] * 2
        + [["against", "favor"]] * 1
        + [["against", "against"]] * 3
    )
    assert krippendorff_alpha_nominal(units) == pytest.approx(14 / 33)


def test_alpha_with_three_annotators_and_a_missing_label_worked_by_hand() -> None:
    # Unit 1: three 'a' -> 3*2 ordered a-a pairs, weight 1/2: o_aa += 3.
    # Unit 2: 'a' and 'b' -> o_ab += 1, o_ba += 1.  Unit 3: three 'b' -> o_bb += 3.
    # Unit 4 has one label and cannot be paired: left out.
    # n_a = n_b = 4, n = 8: alpha = 1 - 7 * 2 / (2 * 4 * 4) = 1 - 14/32 = 0.5625.
    units = [["a", "a", "a"], ["a", "b"], ["b", "b", "b"], ["a"]]
    assert krippendorff_alpha_nominal(units) == pytest.approx(0.5625)


@pytest.mark.parametrize("seed", range(5))
def test_alpha_of_two_complete_annotators_is_scotts_pi_corrected_for_sample_size(
    seed: int,
) -> None:
    # With two annotators and no missing labels, alpha = 1 - (2N - 1)/(2N) * (1 - pi),
    # where Scott's pi uses the pooled label frequencies of both annotators.
    generator = random.Random(seed)
    first = [generator.choice(LABELS) for _ in range(30)]
    second = [a if generator.random() < 0.5 else generator.choice(LABELS) for a in first]
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    pooled = Counter(first + second)
    expected = sum((count / (2 * n)) ** 2 for count in pooled.values())
    scotts_pi = (observed - expected) / (1 - expected)
    units = [list(pair) for pair in zip(first, second, strict=True)]
    assert krippendorff_alpha_nominal(units) == pytest.approx(
        1 - (2 * n - 1) / (2 * n) * (1 - scotts_pi)
    )


def test_alpha_undefined_cases() -> None:
    with pytest.raises(ValueError, match="no paragraph labelled by two or more"):
        krippendorff_alpha_nominal([["favor"], ["none"]])
    with pytest.raises(ValueError, match="every label given is 'favor'"):
        krippendorff_alpha_nominal([["favor", "favor"], ["favor", "favor", "favor"]])
    assert krippendorff_alpha_nominal([["favor", "favor"], ["none", "none"]]) == 1.0


# --- the report --------------------------------------------------------------------------------

# Paragraph texts written for this test; harbour:0003 and ghost:0001 are not in the table.
TEXTS = {
    "harbour:0001": "Both governments promised to reopen the border crossing by autumn.",
    "harbour:0002": "A minister warned that the pipeline deal favours only one party.",
    "harbour:0003": "Port workers say shipments have halved since the quarrel began.",
    "valley:0001": "The football club unveiled a new stand behind the north goal.",
    "valley:0002": "Editors disagree over whether the summit changed anything at all.",
    "ghost:0001": "Nobody remembers which outlet first printed this rumour.",
}
TABLE = [
    ("harbour:0001", "harbour", "Coastal Herald"),
    ("harbour:0002", "harbour", "Coastal Herald"),
    ("valley:0001", "valley", "Valley Times"),
    ("valley:0002", "valley", "Valley Times"),
]
# (paragraph, label, annotator) per gold line; None on line 10 marks the retraction of line 9.
LINES = [
    ("harbour:0001", "favor", "ana"),  # 1
    ("harbour:0001", "favor", "ben"),  # 2
    ("harbour:0002", "against", "ana"),  # 3
    ("harbour:0002", "favor", "ben"),  # 4
    ("valley:0001", "none", "ana"),  # 5
    ("valley:0001", "none", "ben"),  # 6
    ("valley:0001", "none", "cy"),  # 7
    ("harbour:0003", "favor", "ana"),  # 8
    ("harbour:0003", "against", "ben"),  # 9, undone on line 10
    None,  # 10
    ("harbour:0003", "favor", "ben"),  # 11
    ("ghost:0001", "against", "cy"),  # 12
    ("harbour:0002", "favor", "dee"),  # 13, adjudicated: settles harbour:0002
    ("valley:0002", "against", "ana"),  # 14
    ("valley:0002", "favor", "cy"),  # 15, conflicts with line 14
]


def _hand_made_project(tmp_path: Path) -> Path:
    params_path = write_params(tmp_path)
    params = load_params(params_path)
    rows = [(pid, doc, source, TEXTS[pid]) for pid, doc, source in TABLE]
    params.paths.paragraphs.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["paragraph_id", "doc_id", "source", "text"]).to_parquet(
        params.paths.paragraphs
    )
    for number, line in enumerate(LINES, start=1):
        if line is None:
            record = {"paragraph_id": "harbour:0003", "retracts_line": 9, "annotator": "ben"}
        else:
            paragraph_id, label, annotator = line
            record = label_record(
                paragraph_id, TEXTS[paragraph_id], label, annotator, adjudicated=number == 13
            )
        assert append_record(params.paths.gold, record) == number
    return params_path


# By hand, from LINES (adjudicated line 13 left out of agreement; ben's line 11 replaces 9):
#   ana/ben share harbour:0001 (f,f), harbour:0002 (a,f), valley:0001 (n,n), harbour:0003 (f,f):
#     p_o = 3/4; ana f2 a1 n1, ben f3 n1: p_e = (2*3 + 1*1)/16 = 7/16;
#     kappa = (12/16 - 7/16) / (9/16) = 5/9.
#   ana/cy share valley:0001 (n,n) and valley:0002 (a,f): p_o = 1/2, p_e = 1/4, kappa = 1/3.
#   ben/cy share valley:0001 only, both 'none': p_e = 1, kappa undefined.
#   alpha over harbour:0001 [f,f], harbour:0002 [a,f], valley:0001 [n,n,n], harbour:0003 [f,f],
#     valley:0002 [a,f]: o_ff = 4, o_nn = 3, o_af = o_fa = 2; n_f = 6, n_a = 2, n_n = 3, n = 11;
#     alpha = 1 - 10 * 4 / (121 - 36 - 4 - 9) = 1 - 40/72 = 4/9.
def test_stats_of_a_hand_made_log(tmp_path: Path) -> None:
    params = load_params(_hand_made_project(tmp_path))
    by_paragraph = {pid: source for pid, _, source in TABLE}
    by_doc = {doc: source for _, doc, source in TABLE}
    stats = gold_stats(read_log(params.paths.gold, LABELS), LABELS, by_paragraph, by_doc)
    assert (stats.labels_total, stats.labels_active, stats.retractions) == (14, 13, 1)
    assert stats.per_annotator == {"ana": 5, "ben": 4, "cy": 3, "dee": 1}
    assert stats.per_source == {"Coastal Herald": 7, "Valley Times": 5, "unknown": 1}
    assert stats.per_class == {"favor": 7, "against": 3, "none": 3}
    assert stats.multi_annotated == 5
    assert [c.paragraph_id for c in stats.conflicts] == ["valley:0002"]
    kappas = {a.annotators: (a.n, a.value) for a in stats.pairwise}
    assert kappas[("ana", "ben")] == (4, pytest.approx(5 / 9))
    assert kappas[("ana", "cy")] == (2, pytest.approx(1 / 3))
    assert kappas[("ben", "cy")] == (1, None)
    assert ("ana", "dee") not in kappas  # adjudicated labels are not judgements
    assert stats.overall.value == pytest.approx(4 / 9)
    assert (stats.overall.n, stats.overall.annotators) == (5, ("ana", "ben", "cy"))


def test_stats_command_prints_the_report(tmp_path: Path) -> None:
    params_path = _hand_made_project(tmp_path)
    code, stdout, stderr = run_cli("annotate", "stats", "--params", str(params_path))
    assert code == 0, stderr
    lines = [line.split() for line in stdout.splitlines()]
    assert ["ana", "5"] in lines and ["dee", "1"] in lines
    assert ["Coastal", "Herald", "7"] in lines and ["unknown", "1"] in lines
    assert ["favor", "7"] in lines and ["against", "3"] in lines and ["none", "3"] in lines
    assert "Retractions (undos): 1" in stdout
    assert "Paragraphs labelled by 2+ annotators: 5" in stdout
    assert "Paragraphs in conflict: 1" in stdout
    assert "paragraph valley:0002 has conflicting labels (line 14 'against' by ana" in stdout
    assert ["ana", "/", "ben", "4", "0.556"] in lines
    assert ["ana", "/", "cy", "2", "0.333"] in lines
    (ben_cy,) = [line for line in stdout.splitlines() if line.split()[:3] == ["ben", "/", "cy"]]
    assert ben_cy.split()[3:5] == ["1", "n/a"] and "both gave only 'none'" in ben_cy
    assert "Krippendorff's alpha (nominal): 0.444, n = 5 paragraphs, 3 annotators" in stdout


def test_stats_without_a_gold_log_says_so(tmp_path: Path) -> None:
    code, stdout, _ = run_cli("annotate", "stats", "--params", str(write_params(tmp_path)))
    assert code == 0 and "no labels yet" in stdout
