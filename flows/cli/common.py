"""What the `callqa` commands share: logging, misuse errors, the output folder, progress and the report refresh."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from flows.cli.parser import DEFAULT_OUT, OUT_ENV


def setup_logging(level: str) -> None:
    """callqa's own loggers to stderr at `level`; libraries stay at warning."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    root = logging.getLogger("callqa")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # jieba logs its dictionary loading at debug through its own handler to stderr.
    logging.getLogger("jieba").setLevel(logging.WARNING)


class Misuse(Exception):
    """Bad input from the user: reported on stderr, exit code 2."""


def load_rule_pack(name_or_path: str):
    from lexicons import PackError, load_pack

    try:
        return load_pack(name_or_path)
    except (PackError, FileNotFoundError) as exc:
        raise Misuse(f"lexicon error: {exc}") from exc


def progress_bar(items, quiet: bool, desc: str):
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="call", disable=quiet or None, file=sys.stderr)


def with_bar(fn):
    """Run `fn` with log lines printed above tqdm's bar instead of through it."""
    from tqdm.contrib.logging import logging_redirect_tqdm

    with logging_redirect_tqdm(loggers=[logging.getLogger("callqa")]):
        return fn()


def print_failed(summary) -> None:
    """Every recording that became an error row, with its reason (also in the log)."""
    if summary.failed:
        n = len(summary.failed)
        lines = "".join(f"\n  {cid}: {why}" for cid, why in summary.failed)
        print(f"callqa: {n} recording{'s' if n != 1 else ''} failed:{lines}", file=sys.stderr)


def refresh_report(out_dir, skip: bool) -> None:
    """Rewrite OUT/report/ when it is there (flows.review.report.refresh_report, as the flows do)."""
    from flows.review.report import refresh_report as refresh

    result = None if skip else refresh(out_dir)
    if result is not None:
        print(f"report refreshed: {result.index} ({result.pages} call pages)")


def out_for_run(out: str | None) -> str:
    """`run`'s output folder: --out, else $CALLQA_OUT (never a folder it was not told of)."""
    out = out or os.environ.get(OUT_ENV)
    if not out:
        raise Misuse(f"no output folder: pass --out DIR or set {OUT_ENV}")
    return out


def out_of_run(out: str | None) -> str:
    """The output folder of an earlier run: --out, else $CALLQA_OUT, else ./out when it
    holds a run (where `make run` writes)."""
    out = out or os.environ.get(OUT_ENV)
    if out:
        return out
    if (Path(DEFAULT_OUT) / "calls").is_dir():
        return DEFAULT_OUT
    raise Misuse(f"no output folder: pass --out DIR or set {OUT_ENV} (./{DEFAULT_OUT}/ holds no run)")
