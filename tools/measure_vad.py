"""Measure the speech detectors in flows/speech/vad.py against known speech times; print tables.

    .venv/bin/python tools/measure_vad.py [--calls sample_audio] [--configs silero,energy,...]

1. A real recording: /work/shared/audio/real/funasr/llamacpp_sample.wav, annotated
   as speech from 0.77 s to 5.98 s: errors of the first start / last end (s).
2. The generated sample calls (`<call_id>.json` ground truth next to the audio): per
   channel (stereo) or for the mix (mono), 10 ms frame precision/recall of detected
   speech against the truth utterances, boundary errors of each utterance, utterances
   split by a false silence >= 0.5 s, and holds: every truth hold must come out as a
   silence >= 6 s on all channels, and no other silence >= 6 s may appear.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.sample_set import truth_paths  # noqa: E402

from analyzers.diarization_metrics import FRAME_S, frame_mask  # noqa: E402
from analyzers.model import UNKNOWN, CallTruth, SpeechSpan, from_dict  # noqa: E402
from flows.speech.audio import load_call  # noqa: E402
import flows.speech.vad  # noqa: E402
from flows.speech.vad import silences  # noqa: E402

REAL_SAMPLE = Path("/work/shared/audio/real/funasr/llamacpp_sample.wav")
REAL_SPEECH_S = (0.77, 5.98)
HOLD_S = 6.0
#: A gap inside a truth utterance at least this long counts as a false split.
SPLIT_GAP_S = 0.5

#: name -> detect_speech keyword arguments; "widen_edges_s": then flows.speech.vad.widen_speech_edges
#: with that limit, as the pipeline does to the spans a transcript keeps
CONFIGS = {
    "silero": dict(method="silero"),
    "silero+edges": dict(method="silero", widen_edges_s=flows.speech.vad.EDGE_MAX_WIDEN_S),  # kept spans
    "silero+edges.3": dict(method="silero", widen_edges_s=0.3),
    "silero+edges1": dict(method="silero", widen_edges_s=1.0),
    "silero pad.15": dict(method="silero", speech_pad_s=0.15),
    "silero sil.3": dict(method="silero", min_silence_s=0.3),
    "silero thr.35": dict(method="silero", silero_threshold=0.35),
    "silero thr.25": dict(method="silero", silero_threshold=0.25),
    "energy": dict(method="energy"),
    "energy pad.15": dict(method="energy", speech_pad_s=0.15),
    "energy sil.3": dict(method="energy", min_silence_s=0.3),
}


def _detect(audio, channel: str, kw: dict) -> list[tuple[float, float]]:
    """detect_speech on one channel of `audio` with a config; "silero_threshold" overrides
    the module constant, "widen_edges_s" adds widen_speech_edges (see CONFIGS)."""
    kw = dict(kw)
    widen_s = kw.pop("widen_edges_s", 0.0)
    saved = flows.speech.vad.SILERO_THRESHOLD
    flows.speech.vad.SILERO_THRESHOLD = kw.pop("silero_threshold", saved)
    try:
        spans = flows.speech.vad.detect_speech(audio.channels[channel], audio.sample_rate_hz, **kw)
    finally:
        flows.speech.vad.SILERO_THRESHOLD = saved
    if widen_s > 0:
        speaker = channel if channel in ("agent", "customer") else UNKNOWN
        labelled = [SpeechSpan(speaker, a, b) for a, b in spans]
        spans = [(s.start_s, s.end_s) for s in flows.speech.vad.widen_speech_edges(labelled, audio, max_widen_s=widen_s)]
    return spans


@dataclass
class ChannelScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    start_errs: list = None
    end_errs: list = None
    missed: int = 0
    splits: int = 0


def score_channel(detected, truth_spans, duration_s: float) -> ChannelScore:
    n = int(np.ceil(duration_s / FRAME_S)) + 1
    d, t = frame_mask(detected, n), frame_mask(truth_spans, n)
    s = ChannelScore(int((d & t).sum()), int((d & ~t).sum()), int((~d & t).sum()), [], [])
    for ua, ub in truth_spans:
        hits = [(a, b) for a, b in detected if b > ua and a < ub]
        if not hits:
            s.missed += 1
            continue
        s.start_errs.append(hits[0][0] - ua)  # signed: negative = detected early
        s.end_errs.append(hits[-1][1] - ub)
        s.splits += sum(1 for (_, b1), (a2, _) in zip(hits, hits[1:]) if a2 - b1 >= SPLIT_GAP_S)
    return s


def measure_real(configs) -> list[str]:
    audio = load_call(REAL_SAMPLE)
    rows = [f"{'config':<15} {'first start':>11} {'last end':>9} {'start err':>9} {'end err':>8} {'segments':>8}"]
    for name, kw in configs.items():
        seg = _detect(audio, "mixed", kw)
        if not seg:
            rows.append(f"{name:<15} no speech found")
            continue
        a, b = seg[0][0], seg[-1][1]
        rows.append(
            f"{name:<15} {a:>11.3f} {b:>9.3f} {a - REAL_SPEECH_S[0]:>+9.3f} {b - REAL_SPEECH_S[1]:>+8.3f} {len(seg):>8}"
        )
    return rows


def _stress(audio, truth, seed: int = 0):
    """The call as a harder line: slowly swelling background noise around -42 dBFS
    (fan/line hum rather than flat hiss) on both channels, and music-on-hold (chords
    at about -26 dBFS) on the agent channel during every truth hold."""
    import dataclasses

    rng = np.random.default_rng(seed)
    rate = audio.sample_rate_hz
    n = int(round(audio.duration_s * rate))
    t = np.arange(n) / rate
    channels = {}
    for i, (ch, x) in enumerate(audio.channels.items()):
        white = rng.standard_normal(n)
        brown = np.cumsum(white)
        brown -= np.convolve(brown, np.ones(400) / 400, mode="same")  # drop the DC drift
        noise = 0.5 * white / white.std() + brown / brown.std()
        swell = 10 ** ((-42 + 6 * np.sin(2 * np.pi * t / (7.0 + i))) / 20)
        y = x + (swell * noise / np.sqrt(1.25)).astype(np.float32)
        if ch in ("agent", "mixed"):
            for h in truth.holds:
                a, b = int(h.start_s * rate), int(h.end_s * rate)
                tt = t[a:b]
                root = 220.0 * 2 ** (np.floor(tt / 0.5) % 4 * 3 / 12)  # a chord every 0.5 s
                music = sum(np.sin(2 * np.pi * root * k * tt) / k for k in (1, 1.26, 1.5, 2))
                y[a:b] += (10 ** (-26 / 20) * music / np.sqrt(np.mean(music**2))).astype(np.float32)
        channels[ch] = y.astype(np.float32)
    return dataclasses.replace(audio, channels=channels)


def sample_truths(calls_dir: Path) -> list[CallTruth]:
    """The ground truths (`<call_id>.json`) in `calls_dir` whose audio is there."""
    truths = []
    for jf in truth_paths(calls_dir):
        truth = from_dict(CallTruth, json.loads(jf.read_text(encoding="utf-8")))
        if (calls_dir / truth.audio).exists():
            truths.append(truth)
    return truths


def measure_calls(calls_dir: Path, configs, stress: bool = False) -> list[str]:
    truths = sample_truths(calls_dir)
    if not truths:
        return [f"no sample calls in {calls_dir}"]
    loaded = {
        t.call_id: load_call(calls_dir / t.audio, agent_channel=t.agent_channel or "left") for t in truths
    }
    if stress:
        loaded = {t.call_id: _stress(loaded[t.call_id], t) for t in truths}

    rows = [
        f"{'config':<15} {'call':<28} {'ch':<8} {'prec':>5} {'recall':>6} {'|start|':>7} {'|end|':>6}"
        f" {'max|b|':>6} {'miss':>4} {'split':>5} {'holds':>5} {'false':>5} {'RTF':>6}"
    ]
    summary = [
        f"{'config':<15} {'prec':>5} {'recall':>6} {'mean|b|':>7} {'max|b|':>6} {'miss':>4} {'split':>5}"
        f" {'holds found':>11} {'false holds':>11} {'speech in holds s':>17} {'RTF':>6}"
    ]
    for name, kw in configs.items():
        tot = ChannelScore(0, 0, 0, [], [])
        holds_found = holds_total = false_holds = 0
        speech_in_holds_s = 0.0
        cpu_s = audio_s = 0.0
        for truth in truths:
            audio = loaded[truth.call_id]
            all_speech = []
            for ch in audio.channels:
                t0 = time.process_time()
                seg = _detect(audio, ch, kw)
                cpu_s += time.process_time() - t0
                audio_s += audio.duration_s
                all_speech += seg
                truth_spans = [
                    (u.start_s, u.end_s) for u in truth.utterances if ch == "mixed" or u.speaker == ch
                ]
                s = score_channel(seg, truth_spans, audio.duration_s)
                b = [abs(e) for e in s.start_errs + s.end_errs]
                rows.append(
                    f"{name:<15} {truth.call_id:<28} {ch:<8} {s.tp / max(1, s.tp + s.fp):>5.3f}"
                    f" {s.tp / max(1, s.tp + s.fn):>6.3f} {np.mean(np.abs(s.start_errs)) if s.start_errs else 0:>7.3f}"
                    f" {np.mean(np.abs(s.end_errs)) if s.end_errs else 0:>6.3f} {max(b, default=0):>6.3f}"
                    f" {s.missed:>4} {s.splits:>5}"
                )
                tot.tp, tot.fp, tot.fn = tot.tp + s.tp, tot.fp + s.fp, tot.fn + s.fn
                tot.start_errs += s.start_errs
                tot.end_errs += s.end_errs
                tot.missed += s.missed
                tot.splits += s.splits
            # Holds are call-level: silence on every channel.
            gaps = [g for g in silences(all_speech, audio.duration_s) if g[1] - g[0] >= HOLD_S]
            found = sum(
                1 for h in truth.holds if any(a <= h.start_s + 0.5 and b >= h.end_s - 0.5 for a, b in gaps)
            )
            false = sum(1 for a, b in gaps if not any(b > h.start_s and a < h.end_s for h in truth.holds))
            for h in truth.holds:
                speech_in_holds_s += sum(
                    max(0.0, min(b, h.end_s) - max(a, h.start_s)) for a, b in all_speech
                )
            holds_found += found
            holds_total += len(truth.holds)
            false_holds += false
            rows[-1] += f" {found}/{len(truth.holds):<3} {false:>5} {cpu_s / max(audio_s, 1e-9):>6.3f}"
        b = [abs(e) for e in tot.start_errs + tot.end_errs]
        summary.append(
            f"{name:<15} {tot.tp / max(1, tot.tp + tot.fp):>5.3f} {tot.tp / max(1, tot.tp + tot.fn):>6.3f}"
            f" {np.mean(b) if b else 0:>7.3f} {max(b, default=0):>6.3f} {tot.missed:>4} {tot.splits:>5}"
            f" {holds_found:>5}/{holds_total:<5} {false_holds:>11} {speech_in_holds_s:>17.2f}"
            f" {cpu_s / max(audio_s, 1e-9):>6.3f}"
        )
    header = [f"{len(truths)} sample calls: {', '.join(t.call_id for t in truths)}"]
    return header + ["", "summary (all calls, all channels)"] + summary + ["", "per channel"] + rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=Path, default=ROOT / "sample_audio")
    ap.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated names from CONFIGS")
    ap.add_argument("--per-channel", action="store_true", help="also print every channel's row")
    args = ap.parse_args(argv)
    configs = {n: CONFIGS[n] for n in args.configs.split(",")}
    print(f"== {REAL_SAMPLE.name} (annotated speech {REAL_SPEECH_S[0]}-{REAL_SPEECH_S[1]} s)")
    if REAL_SAMPLE.exists():
        print("\n".join(measure_real(configs)))
    else:
        print("missing")
    for stress in (False, True):
        what = "with swelling noise and music on hold (see _stress)" if stress else "as generated"
        print(f"\n== sample calls in {args.calls}, {what}")
        lines = measure_calls(args.calls, configs, stress=stress)
        if not args.per_channel and "per channel" in lines:
            lines = lines[: lines.index("per channel") - 1]
        print("\n".join(lines))
    print(
        "\nprec/recall: 10 ms frames vs truth utterances; |start|/|end|: mean abs boundary error (s);"
        f" split: utterances cut by a detected gap >= {SPLIT_GAP_S} s; holds: truth holds found as"
        f" >= {HOLD_S} s silence on all channels; false: other >= {HOLD_S} s silences; RTF: CPU s per audio s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
