"""Whisper on mono calls of real voices (issue 18, item 4): one pass over the call with
words given out by time, or one pass per diarized speaker with the other muted.

    python tools/eval_mono_asr.py build [SET_DIR] [--real ../shared/audio/real] [--seed 18] [--repeat | --whole-refs]
    callqa run SET_DIR --out A --no-mask --no-report                        # per_speaker (default)
    callqa run SET_DIR --out B --no-mask --no-report --mono-asr one_pass
    python tools/eval_mono_asr.py eval SET_DIR A B

`build` makes a mono 8 kHz mix for each pair of real clips with a reference transcript
(clip i with clip i+1 of REFERENCES.tsv, round the list, never two clips of one person):
each clip cut at its pauses into turns of 1-3 s, the turns alternating, gaps of 0.15-0.9 s,
about one change in five overlapping by 0.2-0.6 s (tools/make_diarization_set.py's turns
and constants), no backchannels, so each voice's words are its clip's reference. With
`--repeat` a voice's turns are played again, whole, until it has 8 s of speech (its
reference repeats as often); without it most mixes hold too little of one voice to be
heard as two. `eval` compares, per run, the words the pipeline gave each speaker (the
first voice heard is the agent) with that voice's reference: pooled agent and customer CER.
`--whole-refs`: every clip with 5 s of speech or more, referenced or not, no repetition, and
as its reference what the default engine hears in the clip alone and whole: how much of what
whisper hears of a voice alone survives the mix, in each mode.

Caveat (docs/diarization.md): with `--repeat` a per-speaker pass hears one sentence several
times in a row, which whisper and the pipeline's loop filter collapse; a real call does not
repeat itself so, and the per-speaker figure suffers from the set, not only from the method.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import make_diarization_set as mk  # noqa: E402

DEFAULT_SET = Path("/tmp/monoasr")


#: `--whole-refs`: clips with at least this much speech (s), so that two voices are heard.
MIN_SPEECH_S = 5.0


def whole_clip_texts(clips, real: Path) -> dict[str, str]:
    """Each clip transcribed alone and whole by the default engine (its own audio, not the
    8 kHz mix): what whisper hears of the voice with nobody else in the call."""
    from flows.speech.audio import load_call
    from flows.speech.engines import default_engine
    from flows.speech.transcribe import join_words, load_model, resolve_model_ref, transcribe_speech

    engine, _why = default_engine()
    model = load_model(resolve_model_ref(None, engine), engine)
    out = {}
    for c in clips:
        audio = load_call(real / c.file)
        out[c.file] = join_words(transcribe_speech(model, audio.channels["mixed"], [(0.0, audio.duration_s)]))
    return out


def build(out: Path, real: Path, seed: int, repeat: bool = False, whole_refs: bool = False) -> int:
    import soundfile as sf

    from tools.eval_asr import references

    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    if whole_refs:
        clips = [c for c in mk.load_clips(real) if sum(b - a for a, b in c.regions) >= MIN_SPEECH_S]
        refs = whole_clip_texts(clips, real)
    else:
        refs = {str(p.relative_to(real)): text for p, text in references(real)}
        clips = [c for c in mk.load_clips(real) if c.file in refs]
    for k, a in enumerate(clips):
        b = next(c for c in clips[k + 1 :] + clips[:k] if c.speaker != a.speaker)
        ta, tb = mk.turns(a, rng), mk.turns(b, rng)
        # Each voice's turns repeat whole (every turn of the clip again) until it has
        # MIN_VOICE_S of speech and half the other's, as in the diarization set: a voice of
        # one short sentence is too little to diarize. Its reference repeats as often.
        target = max(mk.MIN_VOICE_S * mk.RATE_HZ, sum(e - s for s, e in ta) / 2, sum(e - s for s, e in tb) / 2)
        ra, rb = (mk._repeat(ta, target), mk._repeat(tb, target)) if repeat else (ta, tb)
        cycles = {a.speaker: len(ra) // len(ta), b.speaker: len(rb) // len(tb)}
        source = {a.speaker: a, b.speaker: b}
        placed = mk.place_turns(a.speaker, ra, b.speaker, rb, rng, backchannels=False)
        mix = mk.mix_of(placed, source)
        mix += (10 ** (mk.NOISE_DBFS / 20) * rng.standard_normal(len(mix))).astype(np.float32)
        name = f"mix{k:02d}"
        sf.write(out / f"{name}.wav", np.clip(mix, -1, 1), mk.RATE_HZ, subtype="PCM_16")
        meta = {"name": name, "agent": {"file": a.file, "reference": refs[a.file] * cycles[a.speaker]},
                "customer": {"file": b.file, "reference": refs[b.file] * cycles[b.speaker]},
                "turns": [{"voice": "agent" if spk == a.speaker else "customer", "start_s": round(p / mk.RATE_HZ, 3),
                           "end_s": round((p + e - s) / mk.RATE_HZ, 3)} for spk, p, s, e in placed]}
        (out / f"{name}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"{name}: {a.file} then {b.file}, {len(placed)} turns, {len(mix) / mk.RATE_HZ:.1f} s")
    return 0


def evaluate(set_dir: Path, runs: list[Path]) -> int:
    import pyarrow.dataset as ds

    from analyzers.cer import char_errors

    metas = {m["name"]: m for m in (json.loads(p.read_text(encoding="utf-8")) for p in sorted(set_dir.glob("mix*.json")))}
    for out in runs:
        calls = {c["call_id"]: c for c in ds.dataset(out / "calls", format="parquet").to_table().to_pylist()}
        utts = ds.dataset(out / "utterances", format="parquet").to_table().to_pylist()
        sums = {"agent": [0, 0], "customer": [0, 0]}
        for name, meta in metas.items():
            call = calls.get(name)
            if call is None or call["status"] != "ok":
                print(f"{out}: {name} not processed", file=sys.stderr)
                return 1
            own = sorted((u for u in utts if u["call_id"] == name), key=lambda u: (u["start_s"], u["end_s"]))
            line = []
            for voice in ("agent", "customer"):
                e, n = char_errors("".join(u["text"] for u in own if u["speaker"] == voice), meta[voice]["reference"])
                sums[voice][0] += e
                sums[voice][1] += n
                line.append(f"{voice} {e}/{n}")
            print(f"  {out.name} {name} {'  '.join(line)}  speakers {len({u['speaker'] for u in own})}"
                  f"  uncertain {call.get('speakers_uncertain')}")
        print(f"{out}: agent CER {sums['agent'][0] / sums['agent'][1]:.1%} ({sums['agent'][0]}/{sums['agent'][1]}), "
              f"customer {sums['customer'][0] / sums['customer'][1]:.1%} ({sums['customer'][0]}/{sums['customer'][1]})")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("set_dir", type=Path, nargs="?", default=DEFAULT_SET)
    b.add_argument("--real", type=Path, default=mk.DEFAULT_REAL)
    b.add_argument("--seed", type=int, default=18)
    b.add_argument("--repeat", action="store_true", help="repeat a voice's turns until it has 8 s of speech")
    b.add_argument("--whole-refs", action="store_true",
                   help="every clip with 5 s of speech, its reference the default engine's transcript of it alone")
    e = sub.add_parser("eval")
    e.add_argument("set_dir", type=Path)
    e.add_argument("runs", type=Path, nargs="+")
    args = ap.parse_args(argv)
    if args.cmd == "build":
        return build(args.set_dir, args.real, args.seed, args.repeat, args.whole_refs)
    return evaluate(args.set_dir, args.runs)


if __name__ == "__main__":
    raise SystemExit(main())
