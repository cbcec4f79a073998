"""analyzers.intents with hand-made unit vectors: decisions, evidence, calibration."""

import numpy as np
import pytest

from analyzers.intents import Calibration, IntentBank, best_threshold, calibrate, match, match_many


def unit(*xs):
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def bank(pos, neg, intent="offer"):
    return IntentBank(intent, np.stack(pos), np.stack(neg),
                      tuple(f"p{i}" for i in range(len(pos))), tuple(f"n{i}" for i in range(len(neg))))


# positives around the x axis, negatives around the y axis, z is unrelated talk
POS = [unit(1, 0.1, 0), unit(1, -0.1, 0), unit(1, 0, 0.1), unit(1, 0.2, 0.05)]
NEG = [unit(0.1, 1, 0), unit(-0.1, 1, 0), unit(0, 1, 0.1), unit(0.3, 1, 0)]
LOOSE = Calibration(k=1, margin=0.0, min_similarity=-1.0)


def test_nearer_positive_hits_with_its_evidence():
    m = match(unit(1, 0.19, 0.04), bank(POS, NEG), LOOSE)
    assert m.hit and m.intent == "offer"
    assert m.nearest == "p3" and m.similarity == pytest.approx(float(unit(1, 0.19, 0.04) @ POS[3]))
    assert m.nearest_negative == "n3"
    assert m.evidence() == f"meaning: nearest example 'p3' ({m.similarity:.2f})"


def test_nearer_negative_does_not_hit():
    m = match(unit(0.2, 1, 0), bank(POS, NEG), LOOSE)
    assert not m.hit and m.score < 0


def test_margin_and_floor_both_decide():
    v = unit(1, 0.8, 0)  # a little nearer the positives
    b = bank(POS, NEG)
    assert match(v, b, LOOSE).hit
    assert not match(v, b, Calibration(1, margin=0.5, min_similarity=-1.0)).hit
    # unrelated talk: nearer the positives than the negatives, but like none of them
    far = unit(0.2, 0.1, 1)
    assert match(far, b, LOOSE).hit
    assert not match(far, b, Calibration(1, margin=0.0, min_similarity=0.5)).hit


def test_k_averages_the_k_nearest():
    b = bank([unit(1, 0, 0), unit(0, 0, 1)], [unit(0.9, 0.3, 0), unit(0.8, 0.4, 0)])
    v = unit(1, 0.05, 0)
    assert match(v, b, Calibration(1, 0.0, -1.0)).hit       # nearest positive beats nearest negative
    assert not match(v, b, Calibration(2, 0.0, -1.0)).hit   # the far positive drags the mean down


def test_match_many_matches_one_by_one():
    vs = np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(0.5, 0.5, 0.7)])
    b = bank(POS, NEG)
    assert match_many(vs, b, LOOSE) == [match(v, b, LOOSE) for v in vs]


def test_vectors_of_another_size_are_refused():
    with pytest.raises(ValueError, match="another encoder"):
        match(np.ones(4, dtype=np.float32) / 2, bank(POS, NEG), LOOSE)


def test_bank_needs_one_vector_per_text():
    with pytest.raises(ValueError, match="one vector per text"):
        IntentBank("x", np.stack(POS), np.stack(NEG), ("a",), ("b",) * 4)


def test_best_threshold_sits_in_the_middle_of_the_gap():
    t, acc = best_threshold(np.array([0.5, 0.6, 0.9]), np.array([-0.3, 0.1]))
    assert acc == 1.0 and t == pytest.approx(0.3)


def test_best_threshold_with_overlap_keeps_most_right():
    t, acc = best_threshold(np.array([0.2, 0.4, 0.6, -0.1]), np.array([-0.4, -0.2, 0.0, 0.3]))
    # 3 of 4 each side right at best
    assert acc == pytest.approx(0.75)
    pos_right = (np.array([0.2, 0.4, 0.6, -0.1]) > t).mean()
    neg_right = (np.array([-0.4, -0.2, 0.0, 0.3]) <= t).mean()
    assert (pos_right + neg_right) / 2 == pytest.approx(0.75)


def test_calibrate_separates_separable_train_and_leaves_each_example_out():
    b = bank(POS, NEG)
    cal = calibrate(b)
    assert cal.k in (1, 3, 5)
    assert all(match(p, b, cal).hit for p in POS)
    assert not any(match(n, b, cal).hit for n in NEG)
    # the floor comes from other positives, never from a vector's similarity to itself (1.0)
    assert cal.min_similarity < 0.999


def test_calibrate_margin_moves_with_the_data():
    near_neg = [unit(1, 0.5, 0), unit(1, 0.6, 0), unit(1, 0.55, 0.1), unit(1, 0.45, -0.1)]
    assert calibrate(bank(POS, near_neg)).margin < calibrate(bank(POS, NEG)).margin


def test_calibrate_needs_two_examples_per_side():
    with pytest.raises(ValueError, match="at least 2"):
        calibrate(bank(POS[:1], NEG))
