"""The `callqa` argument parser: every command, option and default in one place."""

from __future__ import annotations

import argparse

from analyzers.model import DIRECTIONS
from flows.batch.settings import MONO_ASR
from flows.speech.audio import AGENT_CHANNELS
from flows.speech.diarize_embed import DIARIZERS
from flows.speech.engines import ENGINE_NAMES, DecoderOptions
from flows.speech.engines.convert import QUANTIZATIONS
from flows.speech.engines.faster import COMPUTE_TYPES, DEFAULT_COMPUTE_TYPE
from flows.speech.engines.faster import MODEL_ENV as FW_MODEL_ENV
from flows.speech.engines.openai import MODEL_DIR_ENV, MODEL_ENV
from flows.speech.vad import METHODS as VAD_METHODS

#: The output folder: --out, else this variable, else ./out for commands that read a run.
OUT_ENV = "CALLQA_OUT"
DEFAULT_OUT = "out"
LOG_LEVELS = ("debug", "info", "warning", "error")

EPILOG = f"""
offline machines: whisper cannot download its models there; pass a checkpoint path with
--model, set {MODEL_ENV}, or put the checkpoint into the model folder with
`callqa model add ../shared/models/whisper-base.pt` (~/.cache/callqa/models, or ${MODEL_DIR_ENV});
`callqa model list` shows which model is used and where it was found
--engine faster takes a CTranslate2 model folder (--model or {FW_MODEL_ENV});
`python tools/fetch_fw_model.py` fetches whisper base for it
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="callqa",
        description="Transcribe Mandarin customer-service calls and check them against the service standard.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_run(sub)
    _add_reprocess_show_report(sub)
    _add_rules(sub)
    _add_review(sub)
    _add_model(sub)
    _add_examples(sub)
    return p


#: Where a run's settings come from when not given (flows.batch.run_settings).
FOLDERS = ": the output folder's, else"


def _add_common(sp: argparse.ArgumentParser) -> None:
    """Options `run` and `reprocess` share."""
    sp.add_argument("--out", metavar="DIR", help=f"output folder (Parquet datasets calls/, utterances/, findings/); "
                    f"default: ${OUT_ENV}" + ("" if sp.prog.endswith(" run") else f", else ./{DEFAULT_OUT} when it holds a run"))
    add_rule_pack(sp, f"rule pack: a name under lexicons/ or a folder path (default{FOLDERS}: zh-CN)", default=None)
    sp.add_argument("--cache-dir", metavar="DIR", help="transcript cache (default: OUT/cache/transcripts)")
    sp.add_argument("--mask", action=argparse.BooleanOptionalAction, default=None,
                    help=f"--no-mask writes phone/ID/bank/order numbers unmasked (default{FOLDERS}: runs of 6+ digits "
                         "masked but the last 4)")
    sp.add_argument("--log-level", default="info", choices=LOG_LEVELS,
                    help="what the log on stderr shows: info has a line per call (default: %(default)s)")
    sp.add_argument("--workers", type=positive_int, default=1, metavar="N",
                    help="recordings processed at once, each in its own worker process with its own copy "
                         "of the model (default: 1, in this process)")
    sp.add_argument("--no-report", action="store_true",
                    help="leave OUT/report/ as it is (default: refresh it when it is there)")

def _add_run(sub) -> None:
    run = sub.add_parser("run", help="transcribe and analyse recordings (files or folders)",
                         epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("inputs", nargs="+", metavar="PATH", help="recordings, or folders searched recursively for audio files")
    _add_common(run)
    run.add_argument("--engine", choices=ENGINE_NAMES, default=None,
                     help="ASR engine: faster-whisper (CTranslate2, same weights, several times faster) or openai-whisper "
                          "(the reference); default: faster wherever its model is present (`callqa model convert`), else openai")
    run.add_argument("--model", help=f"whisper model name or checkpoint path (default: ${MODEL_ENV}); "
                     f"with --engine faster a CTranslate2 model folder (default: ${FW_MODEL_ENV})")
    run.add_argument("--compute-type", choices=COMPUTE_TYPES,
                     help="--engine faster only: auto = float16 on CUDA when CTranslate2 sees a GPU, else int8 on the CPU; "
                     f"int8/float32 run on the CPU, float16/int8_float16 need a GPU (default{FOLDERS}: {DEFAULT_COMPUTE_TYPE})")
    run.add_argument("--agent-channel", choices=AGENT_CHANNELS, help=f"stereo channel of the agent (default{FOLDERS}: left)")
    run.add_argument("--vad", choices=VAD_METHODS, help=f"speech detection method (default{FOLDERS}: silero)")
    run.add_argument("--diarizer", choices=DIARIZERS,
                     help="who said what in a mono call: speaker embeddings with an MFCC fallback (auto, default), "
                          "embeddings only, or MFCC + pitch only (docs/diarization.md)")
    run.add_argument("--mono-asr", choices=MONO_ASR,
                     help="whisper on a two-voice mono call: a pass per speaker with the other muted (default), "
                          "or one pass with words given to speakers by time")
    run.add_argument("--beam-size", type=int, help=f"whisper beam size; 0 for greedy decoding (default{FOLDERS}: "
                     f"{DecoderOptions.beam_size})")
    run.add_argument("--batch-size", type=int, metavar="N", help="--engine faster: decode N clips of <= 30 s at once (batched; no temperature fallback); default: one window after another")
    run.add_argument("--force", action="store_true", help="process recordings again even if their results are current")
    run.add_argument("--direction", choices=DIRECTIONS,
                     help="calls without a <stem>.meta.json sidecar are this direction; outbound checks the "
                          f"outbound opening (purpose, a good time) (default{FOLDERS}: inbound)")
    run.add_argument("--metadata", metavar="CSV",
                     help="call metadata manifest: a call_id column and any of agent_id, agent_name, team, "
                          "started_at, queue, direction (a <stem>.meta.json sidecar wins over its row)")
    run.add_argument("--allow-truncated", action=argparse.BooleanOptionalAction, default=None,
                     help="process recordings that hold less audio than their header promises (default: an error "
                          "row naming both durations); the shortfall goes to the truncated_s column")
    run.add_argument("--max-error-share", type=_share, metavar="SHARE",
                     help="exit 5 when more than this share (0-1) of the recordings processed failed "
                          "(default: only when every one did)")
    run.add_argument("--quiet", action="store_true", help="no progress bar (the log still has a line per call)")


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {value}")
    return value


def _add_reprocess_show_report(sub) -> None:
    rep = sub.add_parser("reprocess", help="re-run the analyzers on cached transcripts (no ASR), e.g. after a rule pack change")
    _add_common(rep)
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

def _add_rules(sub) -> None:
    rules = sub.add_parser("rules", aliases=["lexicon"], help="rule pack tools (`lexicon` is the former name)")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    check = rules_sub.add_parser("check", help="validate a rule pack, run every rule's examples (exit 1 on a miss), "
                                 "print a summary")
    check.add_argument("path", metavar="NAME_OR_PATH")
    try_ = rules_sub.add_parser("try", help="try a rule (or a pack's rules) on a run's cached transcripts: calls it "
                                "would flag, sample hits, reviewers' verdicts at those places")
    try_.add_argument("rule", metavar="RULE_OR_PACK", help="a rule id of --rule-pack, or a rule pack (name or folder)")
    try_.add_argument("--out", metavar="DIR", help=f"output folder of a run (default: ${OUT_ENV}, else ./{DEFAULT_OUT})")
    add_rule_pack(try_, "the pack whose rule RULE_OR_PACK names (default: %(default)s)")
    try_.add_argument("--cache-dir", metavar="DIR", help="transcript cache (default: OUT/cache/transcripts)")
    try_.add_argument("--db", metavar="URL", help="review database with verdicts (default: sqlite OUT/review.db if there)")
    try_.add_argument("--no-mask", action="store_true", help="show numbers in the sample hits unmasked")

def _add_review(sub) -> None:
    serve = sub.add_parser("serve", help="the QA review workspace: verdicts, manual grades, appeals, trends (web app)")
    serve.add_argument("--out", metavar="DIR", help="output folder of `callqa run` (default as for show)")
    serve.add_argument("--db", metavar="URL", help="database URL (default: sqlite OUT/review.db; a team: "
                       "postgresql+psycopg://user@host/db)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s, this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    add_rule_pack(serve, "rule pack whose scorecard grades final scores (default: %(default)s)")
    serve.add_argument("--audio-root", metavar="DIR", help="where the recordings are now, if they moved since the run")
    serve.add_argument("--forwarded-allow-ips", metavar="IPS", default="",
                       help="the reverse proxies whose X-Forwarded-For/-Proto are believed (comma-separated; "
                       "default: none, the client's own address counts)")
    dbp = sub.add_parser("db", help="the review database: upgrade its schema, take in the output folder")
    db_sub = dbp.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    for action, text in (("upgrade", "run the schema migrations (serve does this on start)"),
                         ("ingest", "take in the output folder's new or changed calls (serve does this on start)"),
                         ("verify", "check the audit log's hash chain; prints its head hash (exit 1: broken)")):
        sp = db_sub.add_parser(action, help=text)
        _add_out_db(sp)
        if action == "verify":
            sp.add_argument("--expect-head", metavar="HASH", help="a head printed earlier: it must still be in the chain")
    users = sub.add_parser("users", help="review workspace users")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    uadd = users_sub.add_parser("add", help="add a user; the password is read from a prompt, or from stdin when piped")
    uadd.add_argument("name")
    uadd.add_argument("--role", required=True, choices=["reviewer", "agent", "supervisor", "admin"])
    uadd.add_argument("--agent-id", metavar="ID", help="an agent's id in the calls' metadata (required for --role agent)")
    _add_out_db(uadd)
    for action, text in (("passwd", "set a user's password (prompt, or stdin when piped); ends their sessions"),
                         ("disable", "stop a user from signing in; ends their sessions")):
        sp = users_sub.add_parser(action, help=text)
        sp.add_argument("name")
        _add_out_db(sp)
    _add_out_db(users_sub.add_parser("list", help="every user: role, agent id, disabled, live sessions"))
    exp = sub.add_parser("export", help="export review data as Parquet")
    exp_sub = exp.add_subparsers(dest="export_command", required=True, metavar="WHAT")
    erev = exp_sub.add_parser("reviews", help="verdicts, grades, appeals and the audit log to OUT/reviews/*.parquet")
    erev.add_argument("--out", metavar="DIR", help="output folder of `callqa run`")
    erev.add_argument("--db", metavar="URL", help="database URL (default: sqlite OUT/review.db)")

def _add_out_db(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--out", metavar="DIR", help="output folder of `callqa run`")
    sp.add_argument("--db", metavar="URL", help="database URL (default: sqlite OUT/review.db)")


def _add_model(sub) -> None:
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


def _add_examples(sub) -> None:
    ex = sub.add_parser("examples", help="the rule pack's meaning examples (lexicons/<pack>/examples/)")
    ex_sub = ex.add_subparsers(dest="examples_command", required=True, metavar="ACTION")
    add = ex_sub.add_parser(
        "add", help="add the sentences of findings reviewers rejected to their intent's negative.train",
        description="Reads OUT/reviews/verdicts.parquet (`callqa export reviews`) and the findings and utterances "
                    "of OUT; every rejected finding of a rule the pack's near_misses names gives its sentence "
                    "to that intent's negative.train, with a comment saying where it came from.")
    add.add_argument("--from-reviews", dest="from_reviews", required=True, metavar="OUT",
                     help="output folder of a run whose reviews were exported (OUT/reviews/verdicts.parquet)")
    add_rule_pack(add, "rule pack whose examples/ folder is edited (default: %(default)s)")
    add.add_argument("--dry-run", action="store_true", help="print what would be added, write nothing")


def add_rule_pack(sp: argparse.ArgumentParser, help_text: str, default: str | None = "zh-CN") -> None:
    """--rule-pack, and --lexicon (its former name, hidden) for the scripts that still pass it;
    `default` None for run and reprocess, which take the output folder's."""
    sp.add_argument("--rule-pack", dest="lexicon", default=default, metavar="NAME_OR_PATH", help=help_text)
    sp.add_argument("--lexicon", dest="lexicon", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value
