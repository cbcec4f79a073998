"""Pooled CER with bootstrap 95 % intervals on the real-Mandarin evaluation set (issue 33),
per condition (clean, telephone) and decoding cell, through callqa's own speech path.

Usage: python bench/bench_asr_eval.py [--cells CELL,...] [--conditions clean,telephone]
           [--json OUT.json] [--no-packages]
CELL is ENGINE[:COMPUTE]:BEAM[:OPTION...], beam 0 = greedy; options: bias=prompt|hotwords
(the standard's key phrases, flows/speech's DecoderOptions.initial_prompt or faster-whisper's
`hotwords`), pad=S (GatingOptions.span_pad_s), fallback=off|full (temperature 0 only, or
openai's 0 .. 1 in steps of 0.2), nst=X / lpt=X (no-speech and log-prob thresholds), and,
faster engine only, given to faster-whisper's transcribe as they are: patience=X, lp=X
(length_penalty), bestof=N, cond=1 (condition_on_previous_text). COMPUTE may be any type
CTranslate2 offers on the CPU (int8_float32 too). Default cells, cheapest first:
faster:int8:0, faster:int8:5, faster:float32:0, faster:float32:5, openai:0, openai:5.

Each clip goes through flows.batch.pipeline as `callqa run` takes it (decode, speech
detection, diarization of a mono recording, whisper passes, refine); its utterances joined
in time order are its text. Decode/VAD/diarization run once per clip and condition; only
the whisper passes are timed: wall seconds per second of audio, and this process's CPU
seconds (all threads) per second of audio, which the load of other processes moves less. The
telephone copy of each clip (tools/asr_eval_set.py) is written to a temporary folder.
`--one-voice` overrules the diarization (every clip is one voice, as it is): whisper's share
of the error alone, since diarization splits some telephone copies in two.
Intervals: tools.asr_eval_set.bootstrap_cer (2000 resamples of clips); "vs first" is the
paired bootstrap of the CER difference against the first cell of the same condition.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import flows.batch.pipeline as pipeline  # noqa: E402
from analyzers.cer import char_errors, normalize_for_cer  # noqa: E402
from flows.speech.engines import faster, get_engine  # noqa: E402
from flows.speech.engines.faster import FwModel  # noqa: E402
from flows.speech.transcribe import DecoderOptions, GatingOptions, load_model, transcribe_jobs  # noqa: E402
from tools.asr_eval_set import bootstrap_cer, bootstrap_diff, eval_set, telephone_copy  # noqa: E402

OPENAI_MODEL = os.environ.get("CALLQA_WHISPER_MODEL") or str(ROOT.parent / "shared" / "models" / "whisper-base.pt")
DEFAULT_CELLS = "faster:int8:0,faster:int8:5,faster:float32:0,faster:float32:5,openai:0,openai:5"

#: The service standard's key phrases (../shared/standard: greeting, hold, order, closing).
KEY_PHRASES = ("您好", "很高兴为您服务", "请问有什么可以帮您", "工号", "请稍等", "让您久等了",
               "订单号", "满意", "回电", "感谢您的来电", "还有其他可以帮您的吗", "再见")
#: The same phrases as a simplified-Chinese sentence, the form whisper's prompt reads best.
BIAS_PROMPT = ("您好，很高兴为您服务，我的工号是一二三，请问有什么可以帮您？请稍等，让您久等了。"
               "您的订单号是多少？您对这次服务满意吗？我们会尽快回电。感谢您的来电，还有其他可以帮您的吗？再见。")
BIAS_HOTWORDS = "，".join(KEY_PHRASES)
TABLE_HEAD = ("| condition | cell | pooled CER | 95 % interval | vs baseline (points, paired 95 %) | wall s/audio s "
              "| CPU s/audio s |\n|---|---|---|---|---|---|---|")


@dataclass(frozen=True)
class Cell:
    """One decoding setting: engine, compute type, beam (0 greedy), biasing, span padding."""

    engine: str
    compute_type: str | None
    beam: int
    bias: str = "none"
    pad_s: float | None = None
    #: DecoderOptions fields changed from the default: ((name, value), ...).
    decoder: tuple = ()
    #: faster-whisper transcribe() keywords given as they are: ((name, value), ...).
    fw_kwargs: tuple = ()

    @property
    def name(self) -> str:
        parts = [self.engine + (f":{self.compute_type}" if self.compute_type else ""),
                 f"beam {self.beam}" if self.beam else "greedy"]
        parts += [f"bias {self.bias}"] if self.bias != "none" else []
        parts += [f"pad {self.pad_s:g}"] if self.pad_s is not None else []
        parts += [f"{_LABELS[k]} {_show(v)}" for k, v in self.decoder + self.fw_kwargs]
        return " ".join(parts)

    def config(self) -> pipeline.PipelineConfig:
        decoder = DecoderOptions(beam_size=self.beam or None,
                                 initial_prompt=BIAS_PROMPT if self.bias == "prompt" else DecoderOptions.initial_prompt,
                                 **dict(self.decoder))
        gating = GatingOptions() if self.pad_s is None else GatingOptions(span_pad_s=self.pad_s)
        cfg = pipeline.PipelineConfig(out_dir=tempfile.gettempdir(), engine=self.engine, decoder=decoder, gating=gating,
                                      model=OPENAI_MODEL if self.engine == "openai" else None)
        return replace(cfg, compute_type=self.compute_type) if self.compute_type else cfg


#: Cell options: name -> (where it goes, field or keyword, parser).
FALLBACKS = {"off": (0.0,), "full": (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)}
OPTIONS = {
    "fallback": ("decoder", "temperature", FALLBACKS.__getitem__),
    "nst": ("decoder", "no_speech_threshold", float),
    "lpt": ("decoder", "logprob_threshold", float),
    "patience": ("fw", "patience", float),
    "lp": ("fw", "length_penalty", float),
    "bestof": ("fw", "best_of", int),
    "cond": ("fw", "condition_on_previous_text", lambda v: bool(int(v))),
}
_LABELS = {"temperature": "fallback", "no_speech_threshold": "nst", "logprob_threshold": "lpt", "patience": "patience",
           "length_penalty": "lp", "best_of": "best_of", "condition_on_previous_text": "cond"}


def _show(v) -> str:
    if isinstance(v, tuple):
        return next(k for k, t in FALLBACKS.items() if t == v)
    return str(int(v)) if isinstance(v, bool) else f"{v:g}"


def parse_cell(spec: str) -> Cell:
    """ENGINE[:COMPUTE]:BEAM[:bias=..][:pad=..] -> Cell (ValueError for a bad spec)."""
    parts = spec.strip().split(":")
    opts = dict(p.split("=", 1) for p in parts if "=" in p)
    plain = [p for p in parts if "=" not in p]
    if len(plain) not in (2, 3) or not plain[-1].isdigit():
        raise ValueError(f"cell {spec!r}: want ENGINE[:COMPUTE]:BEAM[:bias=..][:pad=..]")
    bias = opts.pop("bias", "none")
    pad = opts.pop("pad", None)
    known = {k: opts.pop(k) for k in list(opts) if k in OPTIONS}
    if opts or bias not in ("none", "prompt", "hotwords"):
        raise ValueError(f"cell {spec!r}: unknown option {opts or bias}")
    fw = [k for k in known if OPTIONS[k][0] == "fw"]
    if (bias == "hotwords" or fw) and plain[0] != "faster":
        raise ValueError(f"cell {spec!r}: hotwords and {', '.join(fw) or 'faster-whisper keywords'} need the faster engine")
    try:
        parsed = {k: (OPTIONS[k][0], OPTIONS[k][1], OPTIONS[k][2](v)) for k, v in known.items()}
    except (KeyError, ValueError) as exc:
        raise ValueError(f"cell {spec!r}: bad option value {exc}") from None
    return Cell(plain[0], plain[1] if len(plain) == 3 else None, int(plain[-1]), bias,
                float(pad) if pad is not None else None,
                tuple((f, v) for where, f, v in parsed.values() if where == "decoder"),
                tuple((f, v) for where, f, v in parsed.values() if where == "fw"))


class _KwargsLane:
    """A faster-whisper WhisperModel whose transcribe() gets `overrides` over the engine's
    own keywords: how the bench passes `hotwords`, patience, length_penalty, best_of and
    condition_on_previous_text, which DecoderOptions has no field for."""

    def __init__(self, model, overrides: dict) -> None:
        self._model, self._overrides = model, overrides

    def transcribe(self, *args, **kwargs):
        return self._model.transcribe(*args, **{**kwargs, **self._overrides})

    def __getattr__(self, attr):
        return getattr(self._model, attr)


def model_ref(cfg: pipeline.PipelineConfig) -> str:
    """The model `cfg` names, found as a run finds it."""
    return get_engine(cfg.engine).resolve_model_ref(cfg.model)


def load_cell_model(cell: Cell, cfg: pipeline.PipelineConfig):
    """The cell's model; a CPU compute type callqa does not offer (int8_float32) is loaded
    here as the engine loads its own (same lanes and threads)."""
    if cell.engine == "faster" and cell.compute_type and cell.compute_type not in faster.COMPUTE_TYPES:
        lanes, threads = faster.lane_plan(faster.cpu_threads(), "cpu")
        WhisperModel = faster._faster_whisper().WhisperModel
        model = FwModel(tuple(WhisperModel(model_ref(cfg), device="cpu", compute_type=cell.compute_type,
                                           cpu_threads=threads, num_workers=1, local_files_only=True)
                              for _ in range(lanes)), cell.compute_type)
        cfg = replace(cfg, compute_type=None)
    else:
        model = load_model(model_ref(cfg), cfg.engine, compute_type=cfg.compute_type)
    overrides = dict(cell.fw_kwargs) | ({"hotwords": BIAS_HOTWORDS} if cell.bias == "hotwords" else {})
    if overrides:
        assert isinstance(model, FwModel)
        model = FwModel(tuple(_KwargsLane(m, overrides) for m in model.models), model.compute_type, model.device)
    return model, cfg


def transcript_text(path: Path, clip_id: str, cfg, model, heard) -> tuple[str, float, float]:
    """The clip's text through the pipeline (utterances in time order) and whisper's wall
    and CPU seconds."""
    spent = [0.0, 0.0]  # wall, CPU of this process (all threads): the load of others left out

    def decode(jobs):
        t0, c0 = time.perf_counter(), time.process_time()
        words = transcribe_jobs(model, jobs, cfg.decoder, cfg.gating)
        spent[0] += time.perf_counter() - t0
        spent[1] += time.process_time() - c0
        return words, time.perf_counter() - t0

    t = pipeline.refine(pipeline.transcribe_call(str(path), clip_id, cfg.speech, model_ref(cfg), heard=heard, decode=decode))
    return "".join(u.text for u in t.utterances), spent[0], spent[1]


def one_voice(heard: pipeline.Heard) -> pipeline.Heard:
    """`heard` with its diarization overruled: one speaker, every span the agent's."""
    d = heard.diarization
    spans = tuple(replace(s, speaker="agent") for s in d.spans)
    return replace(heard, diarization=replace(d, spans=spans, speakers=1))


def prepare(clips, conditions, tmp: Path, force_one_voice: bool = False) -> dict:
    """(clip_id, condition) -> (path, Heard): decode, VAD and diarization done once; each
    clip's speaker count is printed (diarization may split a one-voice clip in two)."""
    cfg = pipeline.PipelineConfig(out_dir=str(tmp))
    heard = {}
    for i, clip in enumerate(clips):
        for cond in conditions:
            path = clip.path if cond == "clean" else telephone_copy(clip.path, tmp / f"{i:02d}_tel.wav")
            h = pipeline.hear_call(str(path), cfg.speech)
            print(f"{cond}	{clip.clip_id}	diarized speakers {h.diarization.speakers}", flush=True)
            heard[clip.clip_id, cond] = (path, one_voice(h) if force_one_voice else h)
    return heard


def run_cell(cell: Cell, clips, cond: str, heard: dict, verbose: bool, label: str = "") -> dict:
    model, cfg = load_cell_model(cell, cell.config())
    rows, asr_s, cpu_s, audio_s = [], 0.0, 0.0, 0.0
    for clip in clips:
        path, h = heard[clip.clip_id, cond]
        hyp, spent, cpu = transcript_text(path, clip.clip_id, cfg, model, h)
        e, n = char_errors(hyp, clip.reference)
        rows.append({"clip": clip.clip_id, "errors": e, "chars": n, "hyp": normalize_for_cer(hyp)})
        asr_s, cpu_s, audio_s = asr_s + spent, cpu_s + cpu, audio_s + h.audio.duration_s
        if verbose:
            print(f"  {cond}\t{cell.name}\t{clip.clip_id}\t{e}/{n}\t{normalize_for_cer(hyp)}\t| {clip.reference}", flush=True)
    cer, lo, hi = bootstrap_cer([r["errors"] for r in rows], [r["chars"] for r in rows])
    return {"cell": cell.name, "condition": cond + label, "cer": cer, "lo": lo, "hi": hi, "asr_s": asr_s, "cpu_s": cpu_s,
            "audio_s": audio_s, "errors": sum(r["errors"] for r in rows), "chars": sum(r["chars"] for r in rows),
            "clips": rows}


def print_tables(files: list[Path], baseline: str | None) -> None:
    """The table of results saved by --json (several runs together); "vs" against the cell
    named `baseline` (default: each condition's first) on the same clips."""
    results = [r for f in files for r in json.loads(f.read_text(encoding="utf-8"))]
    print(TABLE_HEAD)
    for cond in dict.fromkeys(r["condition"] for r in results):
        rows = [r for r in results if r["condition"] == cond]
        base = next((r for r in rows if r["cell"] == baseline), rows[0])
        for r in rows:
            print(table_line(r, base))


def table_line(res: dict, first: dict | None) -> str:
    vs = "-"
    if first is not None and first is not res:
        if [r["clip"] for r in res["clips"]] != [r["clip"] for r in first["clips"]]:
            raise ValueError(f"{res['cell']} and {first['cell']} were measured on different clips")
        d, lo, hi = bootstrap_diff([r["errors"] for r in res["clips"]], [r["errors"] for r in first["clips"]],
                                   [r["chars"] for r in res["clips"]])
        vs = f"{100 * d:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]"
    per_s = lambda key: "-" if res.get(key) is None else f"{res[key] / res['audio_s']:.3f}"  # noqa: E731
    return (f"| {res['condition']} | {res['cell']} | {100 * res['cer']:.1f} % ({res['errors']}/{res['chars']}) | "
            f"{100 * res['lo']:.1f}-{100 * res['hi']:.1f} | {vs} | {per_s('asr_s')} | {per_s('cpu_s')} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", default=DEFAULT_CELLS)
    ap.add_argument("--conditions", default="clean,telephone")
    ap.add_argument("--json", type=Path, help="write every cell's per-clip results here")
    ap.add_argument("--no-packages", action="store_true", help="the real clips of ../shared only")
    ap.add_argument("--one-voice", action="store_true",
                    help="overrule diarization: each clip is one speaker (ASR alone, as on a stereo channel)")
    ap.add_argument("--tables", type=Path, nargs="+", metavar="JSON", help="print the table of saved --json results, run nothing")
    ap.add_argument("--baseline", help="with --tables: the cell the others are compared with (default: the first)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each clip's text")
    args = ap.parse_args(argv)
    if args.tables:
        print_tables(args.tables, args.baseline)
        return 0
    cells = [parse_cell(c) for c in args.cells.split(",")]
    conditions = args.conditions.split(",")
    if set(conditions) - {"clean", "telephone"}:
        ap.error(f"conditions are clean and telephone, got {args.conditions}")
    clips = eval_set(packages=not args.no_packages)
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print(f"set: {len(clips)} clips, {sum(len(normalize_for_cer(c.reference)) for c in clips)} reference characters")
    results: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        heard = prepare(clips, conditions, Path(tmp), args.one_voice)
        print(TABLE_HEAD)
        for cell in cells:
            for cond in conditions:
                res = run_cell(cell, clips, cond, heard, args.verbose, " (one voice)" if args.one_voice else "")
                first = next(r for r in results + [res] if r["condition"] == res["condition"])
                results.append(res)
                print(table_line(res, first), flush=True)
                if args.json:
                    args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
