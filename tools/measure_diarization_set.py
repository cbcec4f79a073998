"""Diarization error rate, one-voice splits and role accuracy on a diarization set.

    .venv/bin/python tools/measure_diarization_set.py [SET_DIR] [--method mfcc|embed|both] [--oracle-vad] [--telephone]

SET_DIR (default /tmp/diarset) is what tools/make_diarization_set.py writes. Each
recording is decoded as the pipeline does (flows.speech.audio.load_call, 16 kHz), its speech
found by flows.speech.vad.detect_speech (or, with --oracle-vad, taken from the truth: then
missed speech and false alarm are zero but for overlaps, and DER is the speaker
confusion alone), and split by the methods below. With --telephone each recording is first
written as its telephone copy (tools/asr_eval_set.telephone_copy: 8 kHz, 300-3400 Hz,
G.711 mu-law) in a temporary folder and that copy is decoded instead. Split by:

* mfcc:  flows.speech.diarize.diarize, today's MFCC + pitch clustering;
* embed: flows.speech.diarize_embed.diarize_embed, resemblyzer d-vectors (needs resemblyzer
  and torch; see docs/diarization.md for the venv).

Per kind of recording ("similar"/"different" pitch pairs, "single" voice), then for all
two-voice mixes pooled, it prints:

* DER, our own frame count (10 ms frames, the standard definition: missed + false
  alarm + confusion over reference speech, the speaker mapping that maximises the
  time in common, overlapped speech scored per speaker), with no collar and with a
  +-0.25 s collar around every reference boundary (NIST md-eval's). Pooled: the sums
  over the recordings of a kind, then divided. `--pyannote` also computes
  pyannote.metrics' DiarizationErrorRate (its collar=0.5 is +-0.25 s) as a check.
* splits: one-voice recordings the diarizer called two speakers.
* role accuracy: share of single-speaker reference speech whose diarized speaker is
  the right role, the first voice heard being the agent (the pipeline's naming before
  the greeting check): no mapping is searched for.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzers.diarization_metrics import COLLAR_S, Segment, der, role_accuracy_parts  # noqa: E402

RATE_HZ = 16000


def pyannote_der(reference: list[Segment], hypothesis: list[Segment], collar_s: float) -> float:
    """pyannote.metrics' DER (its collar is the total width, so 2 * collar_s)."""
    from pyannote.core import Annotation, Segment as PSeg
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref, hyp = Annotation(), Annotation()
    for k, (s, a, b) in enumerate(reference):
        ref[PSeg(a, b), k] = s
    for k, (s, a, b) in enumerate(hypothesis):
        hyp[PSeg(a, b), k] = s
    return float(DiarizationErrorRate(collar=2 * collar_s, skip_overlap=False)(ref, hyp))


def run_one(meta: dict, wav: Path, method: str, oracle_vad: bool, telephone_dir: Path | None = None):
    from flows.speech.audio import load_call
    from flows.speech.vad import detect_speech

    if telephone_dir is not None:
        from tools.asr_eval_set import telephone_copy

        wav = telephone_copy(wav, telephone_dir / wav.name)
    mix = load_call(wav, sample_rate_hz=RATE_HZ).channels["mixed"]
    reference = [(s["speaker"], s["start_s"], s["end_s"]) for s in meta["segments"]]
    if oracle_vad:  # the union of the truth segments
        spans: list[tuple[float, float]] = []
        for _, a, b in sorted(reference, key=lambda x: x[1]):
            if spans and a <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], b))
            else:
                spans.append((a, b))
    else:
        spans = detect_speech(mix, RATE_HZ)
    from flows.speech.diarize_embed import diarize_call

    result = diarize_call(mix, RATE_HZ, spans, method=method)
    hypothesis = [(s.speaker, s.start_s, s.end_s) for s in result.spans]
    return reference, hypothesis, result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("set_dir", type=Path, nargs="?", default=Path("/tmp/diarset"))
    ap.add_argument("--method", choices=("auto", "mfcc", "embed", "all"), default="auto")
    ap.add_argument("--oracle-vad", action="store_true")
    ap.add_argument("--telephone", action="store_true", help="measure each recording's telephone copy")
    ap.add_argument("--pyannote", action="store_true", help="also pyannote.metrics' DER, as a check")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per recording")
    args = ap.parse_args(argv)
    methods = ("auto", "embed", "mfcc") if args.method == "all" else (args.method,)
    metas = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(args.set_dir.glob("*.json"))]
    if not metas:
        print(f"no recordings in {args.set_dir}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="diar-tel-") as tmp:
        for method in methods:
            _measure(args, metas, method, Path(tmp) if args.telephone else None)
    return 0


def _measure(args, metas: list[dict], method: str, telephone_dir: Path | None) -> None:
    """Run `method` over the set and print the pooled figures per kind."""
    totals: dict[str, dict[str, float]] = {}
    for meta in metas:
        reference, hypothesis, result = run_one(meta, args.set_dir / f"{meta['name']}.wav", method, args.oracle_vad,
                                                 telephone_dir)
        kind = meta["kind"]
        t = totals.setdefault(kind, {"n": 0, "splits": 0, "right": 0.0, "alone": 0.0, "py": 0.0})
        t["n"] += 1
        for collar, tag in ((0.0, ""), (COLLAR_S, "c_")):
            d = der(reference, hypothesis, collar)
            for key in ("miss", "fa", "confusion", "total"):
                t[tag + key] = t.get(tag + key, 0.0) + d[key]
        roles = {meta["first_speaker"]: "agent"} | {s: "customer" for s in meta["speakers"] if s != meta["first_speaker"]}
        right, alone = role_accuracy_parts(reference, hypothesis, roles)
        t["right"] += right
        t["alone"] += alone
        if kind == "single" and result.speakers == 2:
            t["splits"] += 1
        if args.pyannote:
            t["py"] += pyannote_der(reference, hypothesis, COLLAR_S) * d["total"]
        if args.verbose:
            d0 = der(reference, hypothesis)
            print(f"  {method:5s} {meta['name']:12s} DER {d0['der']:6.1%} (collar {d['der']:6.1%})"
                  f"  speakers {result.speakers} {result.method}{' uncertain' if result.uncertain else ''}  role acc {right / max(alone, 1e-9):6.1%}  conf {result.confidence:.2f}")  # fmt: skip
    vad = "oracle VAD" if args.oracle_vad else "flows.speech.vad"
    vad += " tel" if telephone_dir is not None else ""
    for kind in sorted(totals):
        t = totals[kind]
        der0 = (t["miss"] + t["fa"] + t["confusion"]) / t["total"]
        derc = (t["c_miss"] + t["c_fa"] + t["c_confusion"]) / t["c_total"]
        line = (f"{method:5s} {vad:10s} {kind:9s} n={t['n']:2d}  DER {der0:6.1%} (miss {t['miss'] / t['total']:5.1%}"
                f" fa {t['fa'] / t['total']:5.1%} conf {t['confusion'] / t['total']:5.1%})"
                f"  DER+-0.25s {derc:6.1%} (conf {t['c_confusion'] / t['c_total']:5.1%})"
                f"  role acc {t['right'] / t['alone']:6.1%}")  # fmt: skip
        if kind == "single":
            line += f"  split {t['splits']}/{t['n']}"
        if args.pyannote:
            line += f"  pyannote DER+-0.25s {t['py'] / t['c_total']:6.1%}"
        print(line)
    mixes = [t for kind, t in totals.items() if kind != "single"]
    if len(mixes) > 1:  # every two-voice recording of the set, pooled
        c = {key: sum(t[key] for t in mixes) for key in ("n", "c_miss", "c_fa", "c_confusion", "c_total", "right", "alone")}
        print(f"{method:5s} {vad:10s} {'all mixes':9s} n={c['n']:2d}  DER+-0.25s "
              f"{(c['c_miss'] + c['c_fa'] + c['c_confusion']) / c['c_total']:6.1%}  role acc {c['right'] / c['alone']:6.1%}")


if __name__ == "__main__":
    raise SystemExit(main())
