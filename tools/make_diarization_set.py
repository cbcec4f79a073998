"""Build a mono 8 kHz diarization set with exact speaker times from real voices.

    .venv/bin/python tools/make_diarization_set.py [OUT_DIR] [--real ../shared/audio/real] [--seed 18]

OUT_DIR (default /tmp/diarset, kept out of the repo: the clips' licences are theirs)
gets, per recording, `<name>.wav` (mono, 8 kHz, 16-bit, telephone rate) and
`<name>.json`:

    {"name", "kind": "similar" | "different" | "single", "sample_rate_hz": 8000,
     "duration_s", "speakers": {id: {"file", "pitch_hz"}}, "first_speaker": id,
     "segments": [{"speaker": id, "start_s", "end_s"}, ...]}   # sorted by start

* Source: the real clips listed in REFERENCES.tsv of `--real`, read in place.
* Speaker identity: one speaker per clip, except clips that are (or may be) the same
  person, grouped in SAME_SPEAKER; two such clips are never paired as two voices.
* Pairs: every two-speaker pair, ordered by their pitch ratio (median f0 of the louder
  frames, librosa YIN); the N_PAIRS closest in pitch ("similar", ratio < SIMILAR_RATIO)
  and N_PAIRS farthest ("different", ratio > DIFFERENT_RATIO), each two people once and
  each clip in at most MAX_USES pairs of a kind.
* A mix: each clip cut at its pauses into turns of 1-3 s; turns alternate A, B, A, ...
  with gaps of 0.15-0.9 s; about one change in five overlaps the previous turn by
  0.2-0.6 s; a short backchannel (0.3-0.7 s of the other voice) is laid over about
  one long turn in four. The shorter clip's turns repeat until it has at least half
  the other's speech (a one-sentence clip would otherwise be under 10 % of the call).
* Truth segments are the speech regions inside each placed turn (librosa.effects.split
  at TOP_DB, gaps under MERGE_GAP_S bridged), so pauses inside a clip are not speech.
* "single": each clip alone after 0.3 s of silence, a one-voice recording.
* Every voice is set to -20 dBFS RMS over its speech, then given a random gain of
  +-3 dB; a faint noise floor (-60 dBFS) keeps the silence from being digital zero.

Deterministic: the same seed gives byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RATE_HZ = 8000
DEFAULT_OUT = Path("/tmp/diarset")
DEFAULT_REAL = ROOT.parent / "shared" / "audio" / "real"

#: Clips that are, or may be, one person. wenet long/mid: resemblyzer cosine 0.84 and
#: the same f0 (~250 Hz); FunASR's cs_1-3 and the llama.cpp sample are one example
#: set with cosines up to 0.73: kept together to be safe.
SAME_SPEAKER = {
    "wenet/long.wav": "wenet_long_mid",
    "wenet/mid.wav": "wenet_long_mid",
    "funasr/cs_1.wav": "funasr_cs",
    "funasr/cs_2.wav": "funasr_cs",
    "funasr/cs_3.wav": "funasr_cs",
    "funasr/llamacpp_sample.wav": "funasr_cs",
}
N_PAIRS = 8
MAX_USES = 2
#: Each voice gets at least this much speech (s) in a mix, repeating its turns, so a
#: mix has several changes of speaker, not two.
MIN_VOICE_S = 8.0
SIMILAR_RATIO = 1.15
DIFFERENT_RATIO = 1.35
TOP_DB = 30.0
MERGE_GAP_S = 0.25
TURN_MIN_S, TURN_MAX_S = 1.0, 3.0
GAP_S = (0.15, 0.9)
OVERLAP_P, OVERLAP_S = 0.2, (0.2, 0.6)
BACKCHANNEL_P, BACKCHANNEL_S = 0.25, (0.3, 0.7)
LEAD_S = 0.3
TARGET_DBFS, GAIN_DB, NOISE_DBFS = -20.0, 3.0, -60.0


@dataclass(frozen=True)
class Clip:
    """One voice: `samples` at RATE_HZ, its speaker id and speech regions (s)."""

    file: str
    speaker: str
    samples: np.ndarray
    regions: tuple[tuple[float, float], ...]
    pitch_hz: float


def speech_regions(y: np.ndarray, rate_hz: int = RATE_HZ) -> list[tuple[float, float]]:
    """Speech stretches (s) of a clean clip: energy within TOP_DB of its peak, short gaps bridged."""
    import librosa

    if not np.any(y):
        return []
    iv = librosa.effects.split(y, top_db=TOP_DB, frame_length=256, hop_length=64)
    out: list[list[float]] = []
    for a, b in iv / rate_hz:
        if out and a - out[-1][1] < MERGE_GAP_S:
            out[-1][1] = float(b)
        else:
            out.append([float(a), float(b)])
    return [(round(a, 4), round(b, 4)) for a, b in out]


def median_pitch_hz(y: np.ndarray, rate_hz: int = RATE_HZ) -> float:
    """Median f0 (Hz) of the louder half of the frames: YIN, as flows.speech.diarize does (pyin is ~20x slower)."""
    import librosa

    f0 = librosa.yin(y, fmin=60.0, fmax=400.0, sr=rate_hz, frame_length=512, hop_length=80)
    rms = librosa.feature.rms(y=y, frame_length=512, hop_length=80)[0][: len(f0)]
    return float(np.median(f0[: len(rms)][rms >= np.median(rms)]))


def normalise(y: np.ndarray, regions, rate_hz: int = RATE_HZ) -> np.ndarray:
    """`y` scaled to TARGET_DBFS RMS over its speech regions."""
    speech = np.concatenate([y[int(a * rate_hz) : int(b * rate_hz)] for a, b in regions]) if regions else y
    rms = float(np.sqrt(np.mean(speech**2))) or 1.0
    return (y * (10 ** (TARGET_DBFS / 20) / rms)).astype(np.float32)


def turns(clip: Clip, rng: np.random.Generator) -> list[tuple[int, int]]:
    """(start, end) sample ranges of `clip`: its speech cut at pauses into turns of TURN_MIN_S-TURN_MAX_S."""
    out: list[tuple[int, int]] = []
    start = end = None
    limit = rng.uniform(TURN_MIN_S, TURN_MAX_S)
    for a, b in clip.regions:
        if start is None:
            start = a
        elif a - start >= limit and end - start >= TURN_MIN_S:  # cut in the pause before a
            out.append((start, end))
            start, limit = a, rng.uniform(TURN_MIN_S, TURN_MAX_S)
        end = b
        while end - start > TURN_MAX_S + TURN_MIN_S:  # a long breathless stretch: cut inside it
            cut = start + limit
            out.append((start, cut))
            start, limit = cut, rng.uniform(TURN_MIN_S, TURN_MAX_S)
    if start is not None:
        out.append((start, end))
    pad = 0.05  # keep the soft onset/offset of each turn the energy gate left out
    n = len(clip.samples)
    return [(max(0, int((a - pad) * RATE_HZ)), min(n, int((b + pad) * RATE_HZ))) for a, b in out]


def build_mix(a: Clip, b: Clip, rng: np.random.Generator) -> tuple[np.ndarray, list[dict]]:
    """Interleave the turns of `a` and `b` (see module doc); the mix and its truth segments."""
    ta, tb = turns(a, rng), turns(b, rng)
    # The shorter voice repeats until it has half the other's speech.
    def total(ts):
        return sum(e - s for s, e in ts)
    target = max(MIN_VOICE_S * RATE_HZ, total(ta) / 2, total(tb) / 2)
    clips = {a.speaker: a, b.speaker: b}
    placed = place_turns(a.speaker, _repeat(ta, target), b.speaker, _repeat(tb, target), rng)
    segments = []
    for spk, p, s, e in placed:
        for ra, rb in clips[spk].regions:  # speech regions of the clip inside [s, e)
            lo, hi = max(ra * RATE_HZ, s), min(rb * RATE_HZ, e)
            if hi - lo >= 0.02 * RATE_HZ:
                segments.append({"speaker": spk, "start_s": round((p + lo - s) / RATE_HZ, 3),
                                 "end_s": round((p + hi - s) / RATE_HZ, 3)})  # fmt: skip
    return mix_of(placed, clips), merge_segments(segments)


def place_turns(first: str, first_turns: list[tuple[int, int]], second: str, second_turns: list[tuple[int, int]],
                rng: np.random.Generator, backchannels: bool = True) -> list[tuple[str, int, int, int]]:
    """Where each turn goes in the mix: (speaker, mix position, clip start, clip end) in
    samples. Turns alternate from `first`, gaps GAP_S, about OVERLAP_P of the changes
    overlapping by OVERLAP_S; with `backchannels`, a piece of the other voice's next turn
    over about BACKCHANNEL_P of the long turns."""
    queue = {first: list(first_turns), second: list(second_turns)}
    placed: list[tuple[str, int, int, int]] = []
    pos = int(LEAD_S * RATE_HZ)
    who, other = first, second
    while queue[first] or queue[second]:
        if not queue[who]:
            who, other = other, who
        s, e = queue[who].pop(0)
        placed.append((who, pos, s, e))
        length = e - s
        # A backchannel of the other voice over the middle of a long turn.
        if backchannels and queue[other] and length > 2.0 * RATE_HZ and rng.random() < BACKCHANNEL_P:
            bs, be = queue[other][0]
            bc = int(rng.uniform(*BACKCHANNEL_S) * RATE_HZ)
            mid = pos + int(rng.uniform(0.3, 0.6) * length)
            placed.append((other, mid, bs, min(be, bs + bc)))
        end = pos + length
        if rng.random() < OVERLAP_P:
            pos = end - int(rng.uniform(*OVERLAP_S) * RATE_HZ)
        else:
            pos = end + int(rng.uniform(*GAP_S) * RATE_HZ)
        who, other = other, who
    return placed


def mix_of(placed: list[tuple[str, int, int, int]], clips: dict[str, Clip]) -> np.ndarray:
    """The placed turns summed into one mono track, with LEAD_S of silence after the last."""
    n = max(p + (e - s) for _, p, s, e in placed) + int(LEAD_S * RATE_HZ)
    mix = np.zeros(n, dtype=np.float32)
    for spk, p, s, e in placed:
        mix[p : p + e - s] += clips[spk].samples[s:e]
    return mix


def _repeat(ts: list[tuple[int, int]], target: float) -> list[tuple[int, int]]:
    out = list(ts)
    while sum(e - s for s, e in out) < target:
        out += ts
    return out


def merge_segments(segments: list[dict]) -> list[dict]:
    """Segments sorted by start, each speaker's touching or overlapping ones joined."""
    out: list[dict] = []
    last: dict[str, dict] = {}
    for seg in sorted(segments, key=lambda s: (s["start_s"], s["end_s"])):
        prev = last.get(seg["speaker"])
        if prev is not None and seg["start_s"] <= prev["end_s"]:
            prev["end_s"] = max(prev["end_s"], seg["end_s"])
            continue
        seg = dict(seg)
        out.append(seg)
        last[seg["speaker"]] = seg
    return out


def single(clip: Clip) -> tuple[np.ndarray, list[dict]]:
    """The clip alone after LEAD_S of silence: a one-voice recording."""
    lead = int(LEAD_S * RATE_HZ)
    mix = np.concatenate([np.zeros(lead, np.float32), clip.samples, np.zeros(lead, np.float32)])
    segs = [{"speaker": clip.speaker, "start_s": round(LEAD_S + a, 3), "end_s": round(LEAD_S + b, 3)} for a, b in clip.regions]
    return mix, segs


def load_clips(real_dir: Path) -> list[Clip]:
    from flows.speech.audio import load_call

    with open(real_dir / "REFERENCES.tsv", encoding="utf-8") as f:
        files = [row["file"] for row in csv.DictReader(f, delimiter="\t")]
    clips = []
    for name in files:
        y = load_call(real_dir / name, sample_rate_hz=RATE_HZ).channels["mixed"]
        regions = tuple(speech_regions(y))
        clips.append(Clip(name, SAME_SPEAKER.get(name, Path(name).stem), normalise(y, regions), regions,
                          round(median_pitch_hz(y), 1)))  # fmt: skip
    return clips


def choose_pairs(clips: list[Clip]) -> list[tuple[str, Clip, Clip]]:
    """("similar" | "different", a, b): the N_PAIRS closest and farthest in pitch, two people each."""
    pairs = [(max(a.pitch_hz, b.pitch_hz) / min(a.pitch_hz, b.pitch_hz), a, b)
             for a, b in combinations(clips, 2) if a.speaker != b.speaker]  # fmt: skip
    pairs.sort(key=lambda p: (p[0], p[1].file, p[2].file))
    similar = _spread([(a, b) for r, a, b in pairs if r < SIMILAR_RATIO])
    different = _spread([(a, b) for r, a, b in pairs[::-1] if r > DIFFERENT_RATIO])
    return [("similar", a, b) for a, b in similar] + [("different", a, b) for a, b in different]


def _spread(pairs: list[tuple[Clip, Clip]]) -> list[tuple[Clip, Clip]]:
    """Up to N_PAIRS of `pairs` in order, each two people once and each clip at most
    MAX_USES times: else one odd clip (the 80 Hz one) is in nearly every "different" mix."""
    out, seen, uses = [], set(), {}
    for a, b in pairs:
        people = frozenset((a.speaker, b.speaker))
        if people in seen or uses.get(a.file, 0) >= MAX_USES or uses.get(b.file, 0) >= MAX_USES:
            continue
        out.append((a, b))
        seen.add(people)
        uses[a.file] = uses.get(a.file, 0) + 1
        uses[b.file] = uses.get(b.file, 0) + 1
        if len(out) == N_PAIRS:
            break
    return out


def write(out_dir: Path, name: str, kind: str, mix: np.ndarray, segments: list[dict], clips: list[Clip],
          rng: np.random.Generator) -> None:  # fmt: skip
    import soundfile as sf

    mix = mix + rng.normal(0, 10 ** (NOISE_DBFS / 20), len(mix)).astype(np.float32)
    peak = float(np.max(np.abs(mix)))
    if peak > 0.99:  # an overlap can clip: scale the whole mix, times stay exact
        mix = mix * (0.99 / peak)
    sf.write(out_dir / f"{name}.wav", mix, RATE_HZ, subtype="PCM_16")
    meta = {
        "name": name, "kind": kind, "sample_rate_hz": RATE_HZ, "duration_s": round(len(mix) / RATE_HZ, 3),
        "speakers": {c.speaker: {"file": c.file, "pitch_hz": c.pitch_hz} for c in clips},
        "first_speaker": segments[0]["speaker"], "segments": segments,
    }  # fmt: skip
    (out_dir / f"{name}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, nargs="?", default=DEFAULT_OUT)
    ap.add_argument("--real", type=Path, default=DEFAULT_REAL)
    ap.add_argument("--seed", type=int, default=18)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    clips = load_clips(args.real)
    for c in clips:
        print(f"{c.file:55s} {c.speaker:32s} f0 {c.pitch_hz:6.1f} Hz  speech {sum(b - a for a, b in c.regions):5.1f} s")
    for k, (kind, a, b) in enumerate(choose_pairs(clips)):
        gain = 10 ** (rng.uniform(-GAIN_DB, GAIN_DB, 2) / 20)
        a = Clip(a.file, a.speaker, a.samples * np.float32(gain[0]), a.regions, a.pitch_hz)
        b = Clip(b.file, b.speaker, b.samples * np.float32(gain[1]), b.regions, b.pitch_hz)
        mix, segs = build_mix(a, b, rng)
        name = f"{kind}{k:02d}"
        write(args.out, name, kind, mix, segs, [a, b], rng)
        print(f"{name}: {a.file} ({a.pitch_hz:.0f} Hz) + {b.file} ({b.pitch_hz:.0f} Hz), {len(mix) / RATE_HZ:.1f} s")
    for k, c in enumerate(clips):
        mix, segs = single(c)
        write(args.out, f"single{k:02d}", "single", mix, segs, [c], rng)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
