"""bench/cv_intents.py --tol: the solver's stopping tolerance reaches every fit, scikit-learn's
default (the pipeline's, flows.meaning.bank) unless asked."""

import numpy as np
from sklearn.linear_model import LogisticRegression

import bench.cv_intents as cv


def test_the_tolerance_reaches_the_fit(monkeypatch):
    seen = []

    class Spy(LogisticRegression):
        def fit(self, *a, **k):
            seen.append(self.tol)
            return super().fit(*a, **k)

    monkeypatch.setattr(cv, "LogisticRegression", Spy)
    rng = np.random.default_rng(0)
    texts = ["不客气", "不用谢", "应该的", "没关系", "请稍等", "好的", "再见", "我查一下", "您好"]
    vec = {t: v / np.linalg.norm(v) for t, v in zip(texts, rng.normal(size=(len(texts), 8)))}
    args = (list(texts[:4]), list(texts[4:8]), [], [texts[8]], vec, 10.0, 0.1, (1, 3))
    default = cv.fit_predict(*args)
    tight = cv.fit_predict(*args, tol=1e-8)
    assert seen == [LogisticRegression().tol, 1e-8] and cv.TOL == LogisticRegression().tol
    assert abs(default[0] - tight[0]) < 1e-2  # the same model, solved a little further


def test_the_flag_reaches_every_fold(monkeypatch, tmp_path, capsys):
    from tests.fake_encoder import char_bag_encoder as encoder
    from tests.meaning.test_min_probability import folder

    seen = []
    monkeypatch.setattr(cv, "load_encoder", lambda name: encoder())
    monkeypatch.setattr(cv, "fit_predict", lambda *a, **k: (seen.append(a[-1]), np.full(len(a[3]), 0.5))[1])
    cv.main(["--examples", str(folder(tmp_path / "ex")), "--cache", str(tmp_path), "--hash-salt", "a",
             "--tol", "1e-8", "--per-intent", "0.6"])
    assert seen and set(seen) == {1e-8} and "(tol 1e-08)" in capsys.readouterr().out
