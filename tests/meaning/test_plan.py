"""The run plan fits the intents its rule pack reads by meaning, once; rows record it."""

import pickle
from pathlib import Path

import pytest

from flows.batch.plan import PipelineConfig, RunPlan
from flows.meaning.call import pack_intents
from lexicons import load_pack

EXAMPLES = Path(__file__).resolve().parents[2] / "lexicons" / "zh-CN" / "examples"


def test_plan_fits_the_packs_intents_and_rows_say_so(tmp_path):
    pack = load_pack()
    cfg = PipelineConfig(out_dir=str(tmp_path))
    plan = RunPlan.build(cfg, pack, transcribes=False, examples_dir=EXAMPLES)
    assert set(plan.intents.models) == pack_intents(pack) >= {"service_offer"}
    assert plan.intents.fit_cpu_s > 0
    assert plan.call_settings(str(tmp_path / "a.wav")).analysis["meaning"] == "use"
    # without a folder named, the pack's own examples/ (the same plan as the CLI's)
    assert set(RunPlan.build(cfg, pack, transcribes=False).intents.models) == set(plan.intents.models)
    literal = RunPlan(cfg, pack)
    # on or off is a setting the rows carry: a call analysed the other way is not current
    assert literal.call_settings(str(tmp_path / "a.wav")).analysis["meaning"] == "off"
    # worker processes get the fitted intents with the plan, not a refit
    again = pickle.loads(pickle.dumps(plan))
    assert set(again.intents.models) == set(plan.intents.models)


def test_a_pack_naming_an_intent_without_examples_is_refused(tmp_path):
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "greeting.yaml").write_bytes((EXAMPLES / "greeting.yaml").read_bytes())
    with pytest.raises(ValueError, match="no examples for intent"):
        RunPlan.build(PipelineConfig(out_dir=str(tmp_path)), load_pack(), transcribes=False,
                      examples_dir=tmp_path / "examples")
