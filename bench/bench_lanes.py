"""One whisper decode on several CPU threads against several decodes side by side (lanes).

Usage: python bench/bench_lanes.py [AUDIO ...]   (default: sample calls call11 and call01)

Decodes every channel of the files with faster-whisper (the converted model the default engine
uses, int8, beam 5, word timestamps, as the pipeline asks) in five ways, each after one short
warm-up decode: two models of one thread with two channels at once; one model of one thread
and of two threads, channels one after another; two models of two threads at once; and the
first way again. Prints the wall time of each and whether its words equal the first way's.
This is the measurement behind flows.speech.engines.faster.lane_plan (docs/accuracy-and-performance.md).
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT = [ROOT / "sample_audio" / "call11_raised_voice.mp3", ROOT / "sample_audio" / "call01_compliant.wav"]


def main() -> None:
    import numpy as np
    from faster_whisper import WhisperModel

    from flows.speech.audio import load_call
    from flows.speech.engines.faster import resolve_model_ref

    ref = resolve_model_ref(None)
    channels = []
    for path in sys.argv[1:] or DEFAULT:
        channels += [np.ascontiguousarray(c, np.float32) for c in load_call(str(path)).channels.values()]
    print(f"{len(channels)} channels, {sum(len(c) for c in channels) / 16000:.1f} s of audio, model {ref}")
    options = dict(language="zh", beam_size=5, best_of=5, condition_on_previous_text=False,
                   word_timestamps=True, vad_filter=False)

    def words(model, audio):
        return [s.text for s in model.transcribe(audio, **options)[0]]

    def model(threads: int):
        m = WhisperModel(ref, device="cpu", compute_type="int8", cpu_threads=threads, num_workers=1,
                         local_files_only=True)
        words(m, channels[0][:80000])
        return m

    def decode_all(models):
        if len(models) == 1:
            return [words(models[0], a) for a in channels]
        with ThreadPoolExecutor(len(models)) as pool:
            return list(pool.map(lambda job: words(models[job[0] % len(models)], job[1]), enumerate(channels)))

    first = None
    for name, lanes, threads in [("2 lanes x 1 thread", 2, 1), ("1 thread, in turn", 1, 1),
                                 ("2 threads, in turn", 1, 2), ("2 lanes x 2 threads", 2, 2),
                                 ("2 lanes x 1 thread again", 2, 1)]:
        models = [model(threads) for _ in range(lanes)]  # loaded and warmed up outside the clock
        t0 = time.perf_counter()
        out = decode_all(models)
        wall = time.perf_counter() - t0
        first = out if first is None else first
        print(f"{name:26s} {wall:6.1f} s   same words: {out == first}", flush=True)


if __name__ == "__main__":
    main()
