"""`callqa`: run the QA batch, reprocess from cached transcripts, show a call, check lexicons.

Exit codes: 0 when the batch completed (recordings that failed are error rows in the
`calls` table); 5 when every recording failed (none ok, none already current) or more
than `--max-error-share` of those processed did (every row is written all the same);
141 when stdout's reader went away (`callqa show ID | head`); 2 for misuse (bad arguments, no model, a model file that
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
The commands live one concern a module: parser (every option), run (run, reprocess), review
(show, report, serve, db, users, export), model, rules (lexicon check), main (dispatch, exit codes).
"""

from flows.cli.main import entry, main
from flows.cli.parser import parser as _parser  # noqa: F401  (tests build the parser)

__all__ = ["entry", "main"]
