"""The fitted intent models kept on disk (flows.meaning.bank_cache): a second build reads
them instead of fitting, and anything the fit reads changes the key."""

from __future__ import annotations

import time

import numpy as np
import pytest

from flows.meaning import bank, bank_cache
from flows.meaning.encoder import load_encoder
from tests.rulepacks import copy_examples

INTENTS = ("hold_notice", "after_hold", "farewell")


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv(bank_cache.CACHE_ENV, str(tmp_path / "cache"))
    (tmp_path / "ex").mkdir()
    copy_examples(INTENTS, tmp_path / "ex")
    return tmp_path / "ex"


def test_the_second_build_reads_the_fit_and_gives_the_same_models(folder, monkeypatch):
    enc = load_encoder("use")
    only = frozenset({"hold_notice"})
    first = bank_cache.build_models(folder, enc, only=only)
    assert len(list(bank_cache.cache_dir().glob("*.pkl"))) == 1

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted again although the same fit is cached")
    monkeypatch.setattr(bank, "build_models", no_fit)
    t0 = time.process_time()
    second = bank_cache.build_models(folder, enc, only=only)
    assert time.process_time() - t0 < 1.0
    a, b = first["hold_notice"].model, second["hold_notice"].model
    assert np.array_equal(a.embedding_weights, b.embedding_weights) and a.bias == b.bias
    assert dict(a.ngram_weights) == dict(b.ngram_weights)
    assert bank_cache.kept_or_built(folder, enc, only=only)[1]  # the log says "loaded from cache"


def test_a_plan_says_whether_its_models_were_fitted_or_loaded(folder):
    from flows.meaning.call import IntentBankPlan, plan_intents

    assert "fitted in" in IntentBankPlan({}, "use", 2.04).cost()
    pack = type("Pack", (), {})  # plan_intents reads the intents through pack_intents only
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("flows.meaning.call.pack_intents", lambda _: frozenset({"farewell"}))
        first, second = plan_intents(pack, folder), plan_intents(pack, folder)
    assert (first.loaded, second.loaded) == (False, True)
    assert first.cost().startswith("fitted in") and second.cost().startswith("loaded from cache in")


def test_the_runs_log_line_says_loaded_from_cache_on_a_cache_hit():
    from types import SimpleNamespace

    from flows.batch.runner import log_intents
    from flows.meaning.call import IntentBankPlan

    lines = []
    logger = SimpleNamespace(info=lambda fmt, *args: lines.append(fmt % args))
    log_intents(SimpleNamespace(intents=IntentBankPlan({}, "use", 0.01, loaded=True)), logger)
    log_intents(SimpleNamespace(intents=IntentBankPlan({}, "use", 2.04)), logger)
    assert "loaded from cache in 0.0 s CPU" in lines[0] and "fitted" not in lines[0]
    assert "fitted in 2.0 s CPU" in lines[1]


def test_an_edited_example_or_another_setting_is_another_key(folder):
    key = bank_cache.fit_key(folder, "use", 0.6, 0.1, None)
    assert bank_cache.fit_key(folder, "e5", 0.6, 0.1, None) != key
    assert bank_cache.fit_key(folder, "use", 0.7, 0.1, None) != key
    assert bank_cache.fit_key(folder, "use", 0.6, 0.1, frozenset({"farewell"})) != key
    path = folder / "farewell.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("再见", "再会", 1), encoding="utf-8")
    assert (edited := bank_cache.fit_key(folder, "use", 0.6, 0.1, None)) != key
    path.write_text(path.read_text(encoding="utf-8").replace("not_background: [closing_thanks, invite_call_again]", "not_background: [closing_thanks, invite_call_again, after_hold]", 1),
                    encoding="utf-8")
    assert bank_cache.fit_key(folder, "use", 0.6, 0.1, None) != edited


def test_a_broken_cache_file_is_fitted_again_and_replaced(folder):
    enc = load_encoder("use")
    only = frozenset({"farewell"})
    path = bank_cache.cache_dir() / f"{bank_cache.fit_key(folder, enc.name, 0.6, 0.1, only)}.pkl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a pickle")
    models = bank_cache.build_models(folder, enc, 0.6, 0.1, only)
    assert set(models) == {"farewell"} and path.stat().st_size > 1000
