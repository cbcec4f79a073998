"""`callqa`: run the QA batch, reprocess from cached transcripts, show a call, check lexicons.

Exit codes: 0 when the batch completed (recordings that failed are error rows in the
`calls` table, not a failed run); 2 for misuse (bad arguments, no model, a model file that
cannot be loaded, broken lexicon; a batch stopped by the model keeps what it wrote);
3 when another run is using the output folder (nothing was done; try again later);
4 when `reprocess` could not redo some calls (no cached transcript, a failing rule): they
keep their rows, and each is named with its reason on stderr.
An output folder that cannot be created or written is misuse (2).

Progress and each call's outcome go to the log on stderr (`--log-level`, default info):
a progress bar on a terminal, and a line per call (`[3/12] call03: ok, grade B ...`)
whatever stderr is; the summary line goes to stdout, followed on stderr by the reason of
every recording that failed and a warning when no recording was found.

The output folder: `--out`, else $CALLQA_OUT; `reprocess`, `show` and `report` also take
./out when it holds a run (what `make run` writes). `run` and `reprocess` refresh the
report when the output folder has one (OUT/report/index.html), unless `--no-report`.

The whisper model: `--model`, else $CALLQA_WHISPER_MODEL, else a checkpoint in the model
folder (`callqa model list` shows it; `callqa model add PATH` puts one there).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from analyzers.model import DIRECTIONS
from flows.batch.settings import MONO_ASR
from flows.speech.audio import AGENT_CHANNELS
from flows.speech.diarize_embed import DIARIZERS
from flows.speech.engines import ENGINE_NAMES, DecoderOptions, default_engine
from flows.speech.engines.convert import QUANTIZATIONS
from flows.speech.engines.faster import COMPUTE_TYPES, DEFAULT_COMPUTE_TYPE
from flows.speech.engines.faster import MODEL_ENV as FW_MODEL_ENV
from flows.speech.engines.openai import MODEL_DIR_ENV, MODEL_ENV
from flows.speech.vad import METHODS as VAD_METHODS

#: The output folder when --out is not given.
log = logging.getLogger("callqa.cli")

OUT_ENV = "CALLQA_OUT"
DEFAULT_OUT = "out"

EPILOG = f"""
offline machines: whisper cannot download its models there; pass a checkpoint path with
--model, set {MODEL_ENV}, or put the checkpoint into the model folder with
`callqa model add ../shared/models/whisper-base.pt` (~/.cache/callqa/models, or ${MODEL_DIR_ENV});
`callqa model list` shows which model is used and where it was found
--engine faster takes a CTranslate2 model folder (--model or {FW_MODEL_ENV});
`python tools/fetch_fw_model.py` fetches whisper base for it
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="callqa",
        description="Transcribe Mandarin customer-service calls and check them against the service standard.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--out", metavar="DIR", help=f"output folder (Parquet datasets calls/, utterances/, findings/); "
                        f"default: ${OUT_ENV}" + ("" if sp.prog.endswith(" run") else f", else ./{DEFAULT_OUT} when it holds a run"))
        sp.add_argument("--lexicon", default="zh-CN", metavar="NAME_OR_PATH", help="rule pack: a name under lexicons/ or a folder path (default: zh-CN)")
        sp.add_argument("--cache-dir", metavar="DIR", help="transcript cache (default: OUT/cache/transcripts)")
        sp.add_argument("--no-mask", action="store_true",
                        help="write phone/ID/bank/order numbers unmasked (default: runs of 6+ digits masked but the last 4)")
        sp.add_argument("--log-level", default="info", choices=LOG_LEVELS,
                        help="what the log on stderr shows: info has a line per call (default: %(default)s)")
        sp.add_argument("--workers", type=_positive_int, default=1, metavar="N",
                        help="recordings processed at once, each in its own worker process with its own copy "
                             "of the model (default: 1, in this process)")
        sp.add_argument("--no-report", action="store_true",
                        help="leave OUT/report/ as it is (default: refresh it when it is there)")

    run = sub.add_parser("run", help="transcribe and analyse recordings (files or folders)",
                         epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("inputs", nargs="+", metavar="PATH", help="recordings, or folders searched recursively for audio files")
    add_common(run)
    run.add_argument("--engine", choices=ENGINE_NAMES, default=None,
                     help="ASR engine: faster-whisper (CTranslate2, same weights, several times faster) or openai-whisper "
                          "(the reference); default: faster wherever its model is present (`callqa model convert`), else openai")
    run.add_argument("--model", help=f"whisper model name or checkpoint path (default: ${MODEL_ENV}); "
                     f"with --engine faster a CTranslate2 model folder (default: ${FW_MODEL_ENV})")
    run.add_argument("--compute-type", choices=COMPUTE_TYPES, default=DEFAULT_COMPUTE_TYPE,
                     help="--engine faster only: auto = float16 on CUDA when CTranslate2 sees a GPU, else int8 on the CPU; "
                     "int8/float32 run on the CPU, float16/int8_float16 need a GPU (default: %(default)s)")
    run.add_argument("--agent-channel", choices=AGENT_CHANNELS, default="left", help="stereo channel of the agent (default: left)")
    run.add_argument("--vad", choices=VAD_METHODS, default="silero", help="speech detection method (default: silero)")
    run.add_argument("--diarizer", choices=DIARIZERS, default="auto",
                     help="who said what in a mono call: speaker embeddings with an MFCC fallback (auto, default), "
                          "embeddings only, or MFCC + pitch only (docs/diarization.md)")
    run.add_argument("--mono-asr", choices=MONO_ASR, default="per_speaker",
                     help="whisper on a two-voice mono call: a pass per speaker with the other muted (default), "
                          "or one pass with words given to speakers by time")
    run.add_argument("--beam-size", type=int, default=DecoderOptions.beam_size, help="whisper beam size; 0 for greedy decoding (default: %(default)s)")
    run.add_argument("--batch-size", type=int, metavar="N", help="--engine faster: decode N clips of <= 30 s at once (batched; no temperature fallback); default: one window after another")
    run.add_argument("--force", action="store_true", help="process recordings again even if their results are current")
    run.add_argument("--direction", choices=DIRECTIONS, default="inbound",
                     help="calls without a <stem>.meta.json sidecar are this direction; outbound checks the "
                          "outbound opening (purpose, a good time) (default: %(default)s)")
    run.add_argument("--metadata", metavar="CSV",
                     help="call metadata manifest: a call_id column and any of agent_id, agent_name, team, "
                          "started_at, queue, direction (a <stem>.meta.json sidecar wins over its row)")
    run.add_argument("--allow-truncated", action="store_true",
                     help="process recordings that hold less audio than their header promises (default: an error "
                          "row naming both durations); the shortfall goes to the truncated_s column")
    run.add_argument("--quiet", action="store_true", help="no progress bar (the log still has a line per call)")

    rep = sub.add_parser("reprocess", help="re-run the analyzers on cached transcripts (no ASR), e.g. after a lexicon change")
    add_common(rep)
    rep.add_argument("--call", action="append", metavar="CALL_ID", help="only this call (repeatable; default: all)")
    rep.add_argument("--quiet", action="store_true", help="no progress bar (the log still has a line per call)")

    show = sub.add_parser("show", help="print one call's transcript with its findings inline")
    show.add_argument("call_id", metavar="CALL_ID")
    show.add_argument("--out", metavar="DIR", help=f"output folder of a run (default: ${OUT_ENV}, else ./{DEFAULT_OUT})")

    report = sub.add_parser("report", help="write an HTML review report (overview + a page per call) for QA staff")
    report.add_argument("out", metavar="OUTPUT_FOLDER", nargs="?",
                        help=f"output folder of a run (its --out; default: ${OUT_ENV}, else ./{DEFAULT_OUT})")
    report.add_argument("-o", "--report-dir", metavar="REPORT_DIR", help="where to write the report (default: OUTPUT_FOLDER/report)")
    report.add_argument("--audio-root", metavar="DIR", help="folder that holds the recordings now (default: each call's source path)")
    report.add_argument("--embed-audio", action="store_true", help="embed the recordings in the pages as data: URIs (large; plays without the recordings)")

    lex = sub.add_parser("lexicon", help="rule pack tools")
    lex_sub = lex.add_subparsers(dest="lexicon_command", required=True, metavar="ACTION")
    check = lex_sub.add_parser("check", help="validate a rule pack and print a summary")
    check.add_argument("path", metavar="NAME_OR_PATH")

    serve = sub.add_parser("serve", help="the QA review workspace: verdicts, manual grades, appeals, trends (web app)")
    serve.add_argument("--out", metavar="DIR", help="output folder of `callqa run` (default as for show)")
    serve.add_argument("--db", metavar="URL", help="database URL (default: sqlite OUT/review.db; a team: "
                       "postgresql+psycopg://user@host/db)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s, this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    serve.add_argument("--lexicon", default="zh-CN", metavar="NAME_OR_PATH", help="rule pack whose scorecard grades final scores")
    serve.add_argument("--audio-root", metavar="DIR", help="where the recordings are now, if they moved since the run")
    dbp = sub.add_parser("db", help="the review database: upgrade its schema, take in the output folder")
    db_sub = dbp.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    for action, text in (("upgrade", "run the schema migrations (serve does this on start)"),
                         ("ingest", "take in the output folder's new or changed calls (serve does this on start)")):
        sp = db_sub.add_parser(action, help=text)
        sp.add_argument("--out", metavar="DIR", help="output folder of `callqa run`")
        sp.add_argument("--db", metavar="URL", help="database URL (default: sqlite OUT/review.db)")
    users = sub.add_parser("users", help="review workspace users")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    uadd = users_sub.add_parser("add", help="add a user; the password is read from a prompt, or from stdin when piped")
    uadd.add_argument("name")
    uadd.add_argument("--role", required=True, choices=["reviewer", "agent", "supervisor", "admin"])
    uadd.add_argument("--agent-id", metavar="ID", help="an agent's id in the calls' metadata (required for --role agent)")
    uadd.add_argument("--out", metavar="DIR", help="output folder of `callqa run`")
    uadd.add_argument("--db", metavar="URL", help="database URL (default: sqlite OUT/review.db)")
    exp = sub.add_parser("export", help="export review data as Parquet")
    exp_sub = exp.add_subparsers(dest="export_command", required=True, metavar="WHAT")
    erev = exp_sub.add_parser("reviews", help="verdicts, grades, appeals and the audit log to OUT/reviews/*.parquet")
    erev.add_argument("--out", metavar="DIR", help="output folder of `callqa run`")
    erev.add_argument("--db", metavar="URL", help="database URL (default: sqlite OUT/review.db)")

    model = sub.add_parser("model", help="the whisper model: which one `run` uses, and the model folder")
    model_sub = model.add_subparsers(dest="model_command", required=True, metavar="ACTION")
    model_sub.add_parser("list", help="show the model `run` would use, where it was found, and what the model folder holds")
    conv = model_sub.add_parser(
        "convert", help="convert an openai-whisper checkpoint (tiny ... large-v3, turbo, fine-tuned) into a "
                        "CTranslate2 model folder for the faster engine, offline; its tensors are compared with the checkpoint's")
    conv.add_argument("checkpoint", metavar="CHECKPOINT")
    conv.add_argument("dest", metavar="DIR", nargs="?",
                      help="the model folder to write (default: the faster engine's default folder, where `run` finds it)")
    conv.add_argument("--quantization", choices=QUANTIZATIONS, default="float16",
                      help="weights as stored (default: %(default)s; the engine's --compute-type still applies at run time)")
    conv.add_argument("--heads-of", metavar="NAME",
                      help="use openai-whisper's word-alignment heads of this model (e.g. base) for a copy whose bytes "
                           "differ from openai's download (default: found by the checkpoint's SHA-256, else the last half)")
    conv.add_argument("--force", action="store_true", help="replace DIR when it exists")
    add = model_sub.add_parser("add", help="put a whisper checkpoint into the model folder (a link to it, or --copy)")
    add.add_argument("path", metavar="CHECKPOINT", help="an openai-whisper checkpoint, e.g. ../shared/models/whisper-base.pt")
    add.add_argument("--copy", action="store_true", help="copy the file instead of linking to it")
    return p


LOG_LEVELS = ("debug", "info", "warning", "error")


def _setup_logging(level: str) -> None:
    """callqa's own loggers to stderr at `level`; libraries stay at warning."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    root = logging.getLogger("callqa")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # jieba logs its dictionary loading at debug through its own handler to stderr.
    logging.getLogger("jieba").setLevel(logging.WARNING)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


class _Misuse(Exception):
    """Bad input from the user: reported on stderr, exit code 2."""


def _load_pack(name_or_path: str):
    from lexicons import PackError, load_pack

    try:
        return load_pack(name_or_path)
    except (PackError, FileNotFoundError) as exc:
        raise _Misuse(f"lexicon error: {exc}") from exc


def _config(**settings):
    from flows.batch.pipeline import PipelineConfig

    try:
        return PipelineConfig(**settings)
    except ValueError as exc:
        raise _Misuse(str(exc)) from exc


def _progress(items, quiet: bool, desc: str):
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="call", disable=quiet or None, file=sys.stderr)


def _with_bar(fn):
    """Run `fn` with log lines printed above tqdm's bar instead of through it."""
    from tqdm.contrib.logging import logging_redirect_tqdm

    with logging_redirect_tqdm(loggers=[logging.getLogger("callqa")]):
        return fn()


def cmd_run(args) -> int:
    from flows.batch.runner import run_batch
    from flows.batch.pipeline import AUDIO_EXTENSIONS
    from flows.storage.store import output_lock
    from flows.speech.transcribe import ModelLoadError, ModelNotConfigured, resolve_model_ref
    from flows.speech.vad import VadOptions

    for item in args.inputs:  # before the rule pack and the model: the cheapest mistake first
        if not Path(item).exists():
            print(f"callqa: no such file or folder: {item}", file=sys.stderr)
            return 2
    out = _out_for_run(args.out)
    if args.metadata:  # a bad manifest concerns every call: stop before any audio
        from flows.batch.metadata import MetadataError, read_manifest

        try:
            read_manifest(args.metadata)
        except MetadataError as exc:
            print(f"callqa: --metadata {exc.reason}", file=sys.stderr)
            return 2
    pack = _load_pack(args.lexicon)  # fail fast, before any audio is touched
    engine, why = (args.engine, "as asked with --engine") if args.engine else default_engine(args.model)
    try:
        resolve_model_ref(args.model, engine)
    except ModelNotConfigured as exc:
        print(f"callqa: {exc}", file=sys.stderr)
        return 2
    cfg = _config(
        out_dir=out, model=args.model, lexicon=args.lexicon, agent_channel=args.agent_channel,
        vad=VadOptions(args.vad), decoder=DecoderOptions(beam_size=args.beam_size or None, batch_size=args.batch_size),
        cache_dir=args.cache_dir,
        mask_pii=not args.no_mask, engine=engine, compute_type=args.compute_type,
        allow_truncated=args.allow_truncated, direction=args.direction, diarizer=args.diarizer,
        mono_asr=args.mono_asr, metadata=args.metadata,
    )
    with output_lock(cfg.out_dir, cfg.transcript_dir):
        # Named once the run is sure to start (a refused run prints its one error line only).
        log.info("ASR engine: %s (%s)", engine, why)
        try:
            summary = _with_bar(lambda: run_batch(
                args.inputs, cfg, pack, force=args.force, workers=args.workers,
                progress=lambda xs: _progress(xs, args.quiet, "callqa run")))
        except ModelLoadError as exc:
            print(f"callqa: {exc}; batch stopped, recordings not yet processed stay pending",
                  file=sys.stderr)
            return 2
    print(summary.line(), flush=True)
    if summary.stages_line():
        print(summary.stages_line(), flush=True)
    if not summary.found:
        print(f"callqa: warning: no recordings found in {', '.join(args.inputs)} (looked in folders "
              f"recursively for {' '.join(sorted(AUDIO_EXTENSIONS))} files)", file=sys.stderr)
    _print_failed(summary)
    _refresh_report(cfg.out_dir, args.no_report)
    return 0


def _print_failed(summary) -> None:
    """Every recording that became an error row, with its reason (also in the log)."""
    if summary.failed:
        n = len(summary.failed)
        lines = "".join(f"\n  {cid}: {why}" for cid, why in summary.failed)
        print(f"callqa: {n} recording{'s' if n != 1 else ''} failed:{lines}", file=sys.stderr)


def _refresh_report(out_dir, skip: bool) -> None:
    """Rewrite OUT/report/ when it is there, so that it never shows older results."""
    from flows.review.report import build_report

    if skip or not (Path(out_dir) / "report" / "index.html").is_file():
        return
    result = build_report(out_dir)
    print(f"report refreshed: {result.index} ({result.pages} call pages)")


def _out_for_run(out: str | None) -> str:
    """`run`'s output folder: --out, else $CALLQA_OUT (never a folder it was not told of)."""
    out = out or os.environ.get(OUT_ENV)
    if not out:
        raise _Misuse(f"no output folder: pass --out DIR or set {OUT_ENV}")
    return out


def _out_of_run(out: str | None) -> str:
    """The output folder of an earlier run: --out, else $CALLQA_OUT, else ./out when it
    holds a run (where `make run` writes)."""
    out = out or os.environ.get(OUT_ENV)
    if out:
        return out
    if (Path(DEFAULT_OUT) / "calls").is_dir():
        return DEFAULT_OUT
    raise _Misuse(f"no output folder: pass --out DIR or set {OUT_ENV} (./{DEFAULT_OUT}/ holds no run)")


def cmd_reprocess(args) -> int:
    from flows.batch.runner import reprocess_batch
    from flows.storage.store import output_lock

    out = _out_of_run(args.out)
    pack = _load_pack(args.lexicon)
    cfg = _config(out_dir=out, lexicon=args.lexicon, cache_dir=args.cache_dir,
                  mask_pii=not args.no_mask)
    with output_lock(cfg.out_dir, cfg.transcript_dir):
        summary = _with_bar(lambda: reprocess_batch(
            cfg, pack, call_ids=args.call, workers=args.workers,
            progress=lambda xs: _progress(xs, args.quiet, "callqa reprocess")))
    print(summary.line(), flush=True)
    if not summary.found:
        print(f"callqa: warning: no calls to reprocess in {out}{' among ' + ', '.join(args.call) if args.call else ''} "
              "(only calls transcribed OK can be)", file=sys.stderr)
    for call_id, reason in summary.not_reprocessed:
        print(f"callqa: {call_id} not reprocessed (its rows are kept): {reason}", file=sys.stderr)
    _print_failed(summary)
    _refresh_report(cfg.out_dir, args.no_report)
    return 4 if summary.not_reprocessed else 0


def cmd_show(args) -> int:
    from flows.review.terminal import render_call

    out = _out_of_run(args.out)
    text = render_call(out, args.call_id)
    if text is None:
        print(f"callqa: no call {args.call_id!r} in {out}", file=sys.stderr)
        return 2
    print(text)
    return 0


def cmd_report(args) -> int:
    from flows.review.report import build_report

    args.out = _out_of_run(args.out)
    if not (Path(args.out) / "calls").is_dir():
        print(f"callqa: no run output in {args.out} (expected {Path(args.out) / 'calls'}/)", file=sys.stderr)
        return 2
    if args.audio_root and not Path(args.audio_root).is_dir():
        print(f"callqa: --audio-root is not a folder: {args.audio_root}", file=sys.stderr)
        return 2
    result = build_report(args.out, args.report_dir, audio_root=args.audio_root, embed_audio=args.embed_audio)
    if result.missing_audio:
        print(f"callqa: {len(result.missing_audio)} recording(s) not found, e.g. {result.missing_audio[0]}"
              " (their players cannot play; see --audio-root)", file=sys.stderr)
    print(f"report: {result.index} ({result.pages} call pages)")
    return 0


def cmd_lexicon_check(args) -> int:
    pack = _load_pack(args.path)
    print(f"ok: {pack.name} version {pack.version} ({pack.content_hash[:12]}), "
          f"{len(pack.banned)} banned entries, {len(pack.greeting.groups)} greeting groups, "
          f"{len(pack.closing.groups)} closing groups")
    return 0


def cmd_model(args) -> int:
    from flows.speech.engines import ModelNotConfigured
    from flows.speech.engines import faster as fw_engine
    from flows.speech.engines.openai import find_model, folder_checkpoints, model_dir

    folder = model_dir()
    if args.model_command == "convert":
        return _model_convert(args)
    if args.model_command == "add":
        return _model_add(Path(args.path), folder, args.copy)
    try:
        ref, where = find_model(None)
        print(f"whisper model (--engine openai): {ref}\n  found in: {where}")
        if ref.endswith(".pt") and not Path(ref).is_file():
            print(f"  but no such file: {ref}")
    except ModelNotConfigured as exc:
        ref = None
        print(f"whisper model (--engine openai): none\n  {exc}")
    print(f"looked in, in this order: --model, ${MODEL_ENV} ({os.environ.get(MODEL_ENV) or 'not set'}), "
          f"the model folder {folder} (${MODEL_DIR_ENV} {'set' if os.environ.get(MODEL_DIR_ENV) else 'not set'})")
    found = folder_checkpoints(folder)
    print(f"model folder {folder}:" + ("" if found else " no checkpoints" if folder.is_dir() else " not there"))
    for p in found:
        target = f" -> {os.readlink(p)}" if p.is_symlink() else ""
        print(f"  {p.name}{target} ({p.stat().st_size / 1e6:.0f} MB)")
    try:
        fw = fw_engine.resolve_model_ref(None)
        print(f"faster-whisper model (--engine faster): {fw}")
    except ModelNotConfigured:
        print(f"faster-whisper model (--engine faster): none (`callqa model convert CHECKPOINT` writes "
              f"{fw_engine.default_model_dir()}; or ${fw_engine.MODEL_ENV}, or `python tools/fetch_fw_model.py` "
              f"into {fw_engine.DEFAULT_MODEL_DIR})")
    engine, why = default_engine()
    print(f"default engine (`run` without --engine): {engine} ({why})")
    return 0 if ref else 2


def _model_convert(args) -> int:
    from flows.speech.engines import faster
    from flows.speech.engines.convert import ConvertError, convert

    dest = Path(args.dest) if args.dest else faster.default_model_dir()
    try:
        done = convert(args.checkpoint, dest, quantization=args.quantization, force=args.force, heads_of=args.heads_of)
    except ConvertError as exc:
        print(f"callqa: {exc}", file=sys.stderr)
        return 2
    if done.reused:
        print(f"{done.dest} holds {args.checkpoint} converted already (--force converts again)")
        return 0
    print(f"converted {args.checkpoint} -> {done.dest} ({'multilingual' if done.multilingual else 'English-only'}, "
          f"{done.layers[0]}+{done.layers[1]} layers, {args.quantization}); {done.tensors_compared} tensors compared "
          f"with the checkpoint: max abs difference {done.max_abs_diff:g}; alignment heads: {done.alignment_heads}")
    if args.dest:
        print(f"use it: callqa run ... --model {done.dest} (or set ${faster.MODEL_ENV})")
    return 0


def _model_add(src: Path, folder: Path, copy: bool) -> int:
    import shutil

    if not src.is_file():
        print(f"callqa: no such checkpoint: {src}", file=sys.stderr)
        return 2
    if src.suffix != ".pt":
        print(f"callqa: not an openai-whisper checkpoint (*.pt): {src}", file=sys.stderr)
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    dst = folder / src.name
    tmp = folder / f".{src.name}.tmp"
    tmp.unlink(missing_ok=True)
    if copy:
        shutil.copyfile(src, tmp)
    else:
        tmp.symlink_to(src.resolve())
    os.replace(tmp, dst)
    print(f"{'copied' if copy else 'linked'}: {dst} {'from' if copy else '->'} {src.resolve()}")
    return 0


def _review_engine(args, out: str):
    from flows.review.webapp import db

    if not (Path(out) / "calls").is_dir():
        raise _Misuse(f"no calls/ dataset in {out} (is it the --out folder of `callqa run`?)")
    engine = db.make_engine(args.db or db.default_url(out))
    db.upgrade(engine)
    return engine


def _read_password() -> str:
    import getpass

    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise _Misuse("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_review(args) -> int:
    """serve, db upgrade|ingest, users add, export reviews (flows/review/webapp)."""
    import sqlalchemy as sa

    out = _out_of_run(args.out)
    try:
        if args.command == "serve":
            from flows.review.webapp.app import serve

            _load_pack(args.lexicon)
            serve(out, args.db, args.host, args.port, args.lexicon, args.audio_root)
            return 0
        engine = _review_engine(args, out)
        if args.command == "db":
            if args.db_command == "ingest":
                from flows.review.webapp.ingest import ingest

                print(ingest(engine, out).line())
            else:
                from flows.review.webapp.db import upgrade

                print(f"database at revision {upgrade(engine)}")
            return 0
        if args.command == "users":
            from flows.review.webapp import service

            try:
                service.add_user(engine, args.name, args.role, _read_password(), args.agent_id)
            except (service.BadInput, service.Conflict, ValueError) as exc:
                raise _Misuse(str(exc)) from None
            print(f"user {args.name} added ({args.role}{' ' + args.agent_id if args.agent_id else ''})")
            return 0
        from flows.review.webapp.export import export_reviews

        counts = export_reviews(engine, out)
        print(f"exported to {Path(out) / 'reviews'}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
        return 0
    except sa.exc.OperationalError as exc:
        raise _Misuse(f"database error: {str(exc.orig).strip() or exc}") from None


def main(argv: list[str] | None = None) -> int:
    from flows.storage.store import OutputBusy, OutputError

    args = _parser().parse_args(argv)
    _setup_logging(getattr(args, "log_level", "info"))
    try:
        return _dispatch(args)
    except _Misuse as exc:
        print(f"callqa: {exc}", file=sys.stderr)
        return 2
    except OutputError as exc:
        print(f"callqa: {exc}", file=sys.stderr)
        return 3 if isinstance(exc, OutputBusy) else 2


def _dispatch(args) -> int:
    if args.command == "run":
        return cmd_run(args)
    if args.command == "reprocess":
        return cmd_reprocess(args)
    if args.command == "show":
        return cmd_show(args)
    if args.command == "report":
        return cmd_report(args)
    if args.command == "model":
        return cmd_model(args)
    if args.command in ("serve", "db", "users", "export"):
        return cmd_review(args)
    return cmd_lexicon_check(args)


def entry() -> int:
    """The `callqa` command: `main`, then a quick exit.

    At exit the interpreter's last garbage collection walks every object still alive, the
    rule pack's jieba and pinyin dictionaries among them: over a second per process, after
    every result is written. Freezing them first leaves that walk nothing to do; nothing
    is lost, the process ends right after. Not in `main`, which tests call in-process.
    """
    import gc

    code = main()
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(entry())
