"""bench/cv_intents.py --units: a held-out sentence judged by the max over it and its clauses."""

from __future__ import annotations

import numpy as np
import pytest

from bench.cv_intents import clause_units, fit_predict

POS = ["不客气。", "不用谢。", "应该的。", "没关系。", "您太客气了。", "也谢谢您。"]
NEG = ["谢谢您的配合。", "请稍等。", "您的快递明天到。", "不客气地说这是您的问题。", "我查一下。", "再见。"]
HELD = ["没事儿，我们这边重新给您发一次验证码。", "好的，请您稍等，我查一下。", "不用谢"]


def test_clause_units():
    s = "没事儿，我们这边重新发一次，您查收。不客气、再见"
    assert clause_units(s, None) == (s,)
    assert clause_units(s, "leading") == (s, "没事儿", "不客气")
    assert clause_units(s, "last") == (s, "您查收", "再见")
    assert clause_units(s, "leading+last") == (s, "没事儿", "您查收", "不客气", "再见")
    assert clause_units("不用谢。", "leading+last") == ("不用谢。",)  # one clause: the sentence alone
    with pytest.raises(KeyError):  # every unit needs its embedding
        fit_predict(POS, NEG, [], HELD, _vectors(POS + NEG + HELD), 10.0, 0.0, (1, 3), mode="leading")


def _vectors(texts):
    rng = np.random.default_rng(0)
    v = rng.normal(size=(len(texts), 16))
    return dict(zip(texts, v / np.linalg.norm(v, axis=1, keepdims=True)))


@pytest.mark.parametrize("mode", ["leading", "last", "leading+last"])
def test_max_over_units_and_its_softer_variants(mode):
    units = [clause_units(t, mode) for t in HELD]
    vec = _vectors(sorted({*POS, *NEG, *(u for g in units for u in g)}))
    vec["没事儿"] = vec["没关系。"]  # a leading clause that means the intent
    alone = {u: p for g in units for u, p in zip(g, fit_predict(POS, NEG, [], list(g), vec, 10.0, 0.0, (1, 3)))}
    got = fit_predict(POS, NEG, [], HELD, vec, 10.0, 0.0, (1, 3), mode=mode)
    assert got == pytest.approx([max(alone[u] for u in g) for g in units])
    if "leading" in mode:  # its leading clause lifted the first sentence
        assert got[0] > alone[HELD[0]] and got[0] == pytest.approx(alone["没事儿"])
    half = fit_predict(POS, NEG, [], HELD, vec, 10.0, 0.0, (1, 3), mode=mode, lift=0.5)
    assert half == pytest.approx([alone[t] + (m - alone[t]) / 2 for t, m in zip(HELD, got)])
    gated = fit_predict(POS, NEG, [], HELD, vec, 10.0, 0.0, (1, 3), mode=mode, gate=1.0)
    assert gated == pytest.approx([alone[t] for t in HELD])
