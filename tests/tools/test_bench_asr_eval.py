"""bench/bench_asr_eval.py's cells (issue 33 item 2): each option reaches the decoder it
names, and a bad cell is refused rather than run as something else."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import bench_asr_eval as bench  # noqa: E402


def test_decoder_options_go_into_the_pipeline_config():
    cell = bench.parse_cell("faster:int8:5:fallback=off:nst=0.4:lpt=-0.7:pad=0.3")
    cfg = cell.config()
    assert cfg.decoder.temperature == (0.0,)
    assert cfg.decoder.no_speech_threshold == 0.4 and cfg.decoder.logprob_threshold == -0.7
    assert cfg.decoder.beam_size == 5 and cfg.gating.span_pad_s == 0.3
    assert cell.fw_kwargs == ()
    assert cell.name == "faster:int8 beam 5 pad 0.3 fallback off nst 0.4 lpt -0.7"


def test_faster_whisper_keywords_override_the_engines_own():
    cell = bench.parse_cell("faster:int8:5:patience=2:lp=0.6:bestof=1:cond=1")
    assert dict(cell.fw_kwargs) == {"patience": 2.0, "length_penalty": 0.6, "best_of": 1,
                                    "condition_on_previous_text": True}
    assert cell.config().decoder == bench.DecoderOptions(beam_size=5)  # nothing else changed

    seen = {}

    class Model:
        def transcribe(self, audio, **kwargs):
            seen.update(kwargs)
            return [], None

    lane = bench._KwargsLane(Model(), dict(cell.fw_kwargs))
    lane.transcribe("audio", beam_size=5, best_of=5, condition_on_previous_text=False, language="zh")
    assert seen == {"beam_size": 5, "best_of": 1, "condition_on_previous_text": True, "language": "zh",
                    "patience": 2.0, "length_penalty": 0.6}


@pytest.mark.parametrize("spec", ["faster:int8:5:patience=x", "faster:int8:5:fallback=some", "faster:int8:5:beam=3",
                                  "openai:5:lp=0.6", "faster:int8:five"])
def test_bad_cells_are_refused(spec):
    with pytest.raises(ValueError):
        bench.parse_cell(spec)
