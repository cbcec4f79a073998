"""An example file's `min_similarity:` (lead21b): a hit also needs a train positive at least
that close, in every route a decision takes (match_many, the stack's evidence, decide)."""

from pathlib import Path

import numpy as np
import pytest

from analyzers.intent_stack import evidence
from analyzers.intents import IntentBank, IntentModel, match_many
from flows.meaning.examples import ExamplesError
from tests.meaning.test_examples import GOOD, parse


def unit(*xs):
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


BANK = IntentBank("blame", np.stack([unit(1, 0.1, 0), unit(1, 0, 0.2)]), np.stack([unit(0, 1, 0), unit(0.2, 1, 0)]),
                  ("是快递的问题", "都怪厂家"), ("我帮您催一下", "您稍等"))


def model(floor=0.0):
    # the third axis pushes the probability up although no positive lies there: an extrapolation
    return IntentModel(BANK, np.array((4.0, -4.0, 8.0), dtype=np.float32), {}, {}, 0.0, 0.6, min_similarity=floor)


FAR = unit(0.1, 0.0, 1.0)   # like neither positive (cosine 0.1 and 0.29), probability 0.9997
NEAR = unit(1.0, 0.1, 0.1)  # like the first positive (0.99)


@pytest.mark.parametrize("floor, far_hits", [(0.0, True), (0.3, False)])
def test_a_line_like_no_example_means_nothing_under_the_floor(floor, far_hits):
    far, near = match_many(model(floor), np.stack([FAR, NEAR]), ["那……", "是快递的问题"])
    assert far.probability > 0.99 and far.similarity < 0.3
    assert far.hit is far_hits and near.hit
    # the stack's decision clear of the threshold (evidence) reads the same floor
    assert evidence(model(floor), FAR, far.probability).hit is far_hits
    assert evidence(model(floor), NEAR, near.probability).hit


def test_the_floor_is_read_from_the_file_and_checked():
    assert parse(GOOD).min_similarity == 0.0
    assert parse(GOOD.replace("positive:", "min_similarity: 0.3\npositive:")).min_similarity == 0.3
    for bad in ("-0.1", "1.5", "close", "true"):
        with pytest.raises(ExamplesError) as e:
            parse(GOOD.replace("positive:", f"min_similarity: {bad}\npositive:"))
        assert e.value.field == "min_similarity"
        assert str(e.value).startswith(f"{Path('examples') / 'service_offer.yaml'}: min_similarity:")


def test_the_pack_sets_it_where_the_blind_dev_sets_showed_extrapolation():
    from flows.meaning.examples import load_examples

    examples = load_examples(Path(__file__).resolve().parents[2] / "lexicons" / "zh-CN" / "examples")
    assert {i for i, ex in examples.items() if ex.min_similarity} == {"blame_third_party", "rude_banned"}
