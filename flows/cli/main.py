"""`callqa`: parse, dispatch to a command, map errors to exit codes (a closed stdout pipe included)."""

from __future__ import annotations

import sys

from flows.cli.common import Misuse, setup_logging
from flows.cli.parser import parser


def main(argv: list[str] | None = None) -> int:
    from flows.storage.store import OutputBusy, OutputError

    args = parser().parse_args(argv)
    setup_logging(getattr(args, "log_level", "info"))
    try:
        return _dispatch(args)
    except Misuse as exc:
        print(f"callqa: {exc}", file=sys.stderr)
        return 2
    except OutputError as exc:
        print(f"callqa: {exc}", file=sys.stderr)
        return 3 if isinstance(exc, OutputBusy) else 2


def _dispatch(args) -> int:
    from flows.cli import model, review, rules, run

    if args.command == "run":
        return run.cmd_run(args)
    if args.command == "reprocess":
        return run.cmd_reprocess(args)
    if args.command == "show":
        return review.cmd_show(args)
    if args.command == "report":
        return review.cmd_report(args)
    if args.command == "model":
        return model.cmd_model(args)
    if args.command in ("serve", "db", "users", "export"):
        return review.cmd_review(args)
    if args.command == "examples":
        from flows.cli import examples

        return examples.cmd_examples(args)
    return rules.cmd_rules(args)


def entry() -> int:
    """The `callqa` command: `main`, then a quick exit.

    At exit the interpreter's last garbage collection walks every object still alive, the
    rule pack's jieba and pinyin dictionaries among them: over a second per process, after
    every result is written. Freezing them first leaves that walk nothing to do; nothing
    is lost, the process ends right after. Not in `main`, which tests call in-process.
    """
    import gc

    try:
        code = main()
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
    except BrokenPipeError:
        code = _reader_gone()
    gc.freeze()
    if "triton" in sys.modules:
        # torch pulls triton in during `model convert`; its nanobind bindings print pages of
        # "leaked instance" reports at interpreter teardown. All output is written and flushed.
        import os

        sys.stderr.flush()
        os._exit(code)
    return code


#: Exit code when the reader of stdout went away (`callqa show ID | head`): 128 + SIGPIPE, as
#: a tool killed by the signal would give.
READER_GONE = 141


def _reader_gone() -> int:
    """stdout's reader closed the pipe: no traceback; stdout pointed at /dev/null so that
    the interpreter's last flush at exit does not fail again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return READER_GONE
