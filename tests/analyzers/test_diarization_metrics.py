"""analyzers.diarization_metrics: DER and role accuracy on hand-made segments, and the
agreement of a diarization with a call's truth."""

from __future__ import annotations

import pytest

from analyzers.diarization_metrics import agreement, der, role_accuracy_parts


# --- DER -------------------------------------------------------------------------


def test_der_perfect_with_other_names_is_zero():
    ref = [("A", 0.0, 2.0), ("B", 2.5, 4.0)]
    hyp = [("agent", 0.0, 2.0), ("customer", 2.5, 4.0)]  # names differ: the mapping finds them
    d = der(ref, hyp)
    assert d["der"] == pytest.approx(0.0)
    assert d["total"] == pytest.approx(3.5)


def test_der_counts_miss_false_alarm_and_confusion():
    ref = [("A", 0.0, 4.0), ("B", 6.0, 8.0)]  # 6 s of speech
    # A found 1-4 (1 s missed), a false alarm 4-5, B 6-7 right and 7-8 given to A's label
    hyp = [("x", 1.0, 5.0), ("y", 6.0, 7.0), ("x", 7.0, 8.0)]
    d = der(ref, hyp)
    assert d["miss"] == pytest.approx(1.0)
    assert d["fa"] == pytest.approx(1.0)
    assert d["confusion"] == pytest.approx(1.0)
    assert d["der"] == pytest.approx(3.0 / 6.0)


def test_der_overlap_is_scored_per_speaker():
    ref = [("A", 0.0, 4.0), ("B", 3.0, 6.0)]  # 1 s of overlap: 7 s of speaker time
    hyp = [("x", 0.0, 3.5), ("y", 3.5, 6.0)]  # one speaker at a time
    d = der(ref, hyp)
    assert d["total"] == pytest.approx(7.0)
    assert d["miss"] == pytest.approx(1.0)  # the second voice of the overlap
    assert d["confusion"] == pytest.approx(0.0)
    assert d["der"] == pytest.approx(1.0 / 7.0)


def test_der_one_speaker_split_in_two_is_confusion_of_the_smaller_part():
    ref = [("A", 0.0, 10.0)]
    hyp = [("x", 0.0, 7.0), ("y", 7.0, 10.0)]
    d = der(ref, hyp)
    assert d["confusion"] == pytest.approx(3.0)
    assert d["der"] == pytest.approx(0.3)


def test_der_collar_skips_boundaries():
    ref = [("A", 0.0, 2.0), ("B", 2.0, 4.0)]
    hyp = [("x", 0.0, 2.2), ("y", 2.2, 4.0)]  # the change 0.2 s late
    assert der(ref, hyp)["der"] > 0.04
    assert der(ref, hyp, collar_s=0.25)["der"] == pytest.approx(0.0)


def test_role_accuracy_uses_the_fixed_roles_not_a_mapping():
    ref = [("A", 0.0, 2.0), ("B", 2.0, 4.0)]
    swapped = [("customer", 0.0, 2.0), ("agent", 2.0, 4.0)]
    right, alone = role_accuracy_parts(ref, swapped, {"A": "agent", "B": "customer"})
    assert alone == pytest.approx(4.0)
    assert right == pytest.approx(0.0)
    assert der(ref, swapped)["der"] == pytest.approx(0.0)


def test_agreement_counts_one_speaker_time_given_to_that_speaker():
    truth = [("agent", 0.0, 4.0), ("customer", 3.0, 6.0)]  # 3-4 overlaps: not scored
    found = [("agent", 0.0, 2.0), ("customer", 2.0, 6.0)]  # agent 2-3 given to the customer
    assert agreement(truth, found, 6.0) == pytest.approx(4.0 / 5.0, abs=0.01)
    assert agreement(truth, [("customer", 0.0, 6.0)], 6.0) == pytest.approx(2.0 / 5.0, abs=0.01)
    assert agreement([], found, 6.0) == 0.0
