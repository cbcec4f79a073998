"""What a second labeller of the sample calls may see (issue 37 item 4), and nothing else.

Usage: python tools/labeller_pack.py OUT_DIR
Writes OUT_DIR/callNN.md per sample call: its lines (speaker, text, times) and what a
listener would know of them (silences between lines, lines spoken over another, loudness
against the speaker's usual, speech rate, the call's direction), from the calls'
truth files (tools/make_sample_calls.py) but without their expected findings, their
descriptions or their file names (both say what is wrong); a README.md saying what to
label; and a copy of the service standard's five documents (not its README, which says
what callqa takes from them).
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the repo's tools/
from tools.sample_set import SAMPLES, truth_paths  # noqa: E402

STANDARD = ROOT.parent / "shared" / "standard"
#: Silences between lines from this long (s) are listed: shorter ones are the ordinary turn gaps.
SILENCE_S = 1.5
SPEAKER = {"agent": "客服 agent", "customer": "客户 customer"}


def chars(text: str) -> int:
    return len(re.sub(r"[\W_]", "", text))


def call_page(n: int, truth: dict, direction: str) -> str:
    utts = truth["utterances"]
    usual = {s: statistics.median([u["level_db"] for u in utts if u["speaker"] == s and u.get("level_db") is not None]
                                  or [0.0]) for s in SPEAKER}
    lines = [f"# call{n:02d}", "",
             f"- direction: {direction} ({'the agent called the customer' if direction == 'outbound' else 'the customer called in'})",
             f"- length: {truth['duration_s']:.1f} s; the recording starts with silence until the first line",
             "", "| # | from (s) | to (s) | who | what is said | chars/min | loudness vs the speaker's usual | heard |",
             "|---|---|---|---|---|---|---|---|"]
    latest_end = 0.0
    for i, u in enumerate(utts, 1):
        notes = []
        if u["start_s"] - latest_end >= SILENCE_S and i > 1:
            lines.append(f"|   | {latest_end:.2f} | {u['start_s']:.2f} | — | *(silence, {u['start_s'] - latest_end:.1f} s: nobody speaks)* | | | |")
        if u["start_s"] < latest_end:
            notes.append(f"starts {latest_end - u['start_s']:.1f} s before the other speaker has finished")
        rate = chars(u["text"]) / (u["end_s"] - u["start_s"]) * 60
        level = u.get("level_db")
        # no level in the truth: the call was made with every line at the speaker's usual loudness
        loud = f"{round(level - usual[u['speaker']]) + 0:+d} dB" if level is not None else "+0 dB"
        lines.append(f"| {i} | {u['start_s']:.2f} | {u['end_s']:.2f} | {SPEAKER[u['speaker']]} | {u['text']} | "
                     f"{rate:.0f} | {loud} | {'; '.join(notes)} |")
        latest_end = max(latest_end, u["end_s"])
    for s in SPEAKER:
        mine = [u for u in utts if u["speaker"] == s]
        talk = sum(u["end_s"] - u["start_s"] for u in mine)
        if talk:
            lines.append(f"\n{SPEAKER[s]}: {sum(chars(u['text']) for u in mine)} characters in {talk:.1f} s of speech, "
                         f"{sum(chars(u['text']) for u in mine) / talk * 60:.0f} chars/min")
    return "\n".join(lines) + "\n"


README = """# Sample calls to label (callqa issue 37: a second truth)

Twelve short customer-service calls, written out line by line in `call01.md` … `call12.md`,
and the service standard they are checked against in `standard/` (five Chinese documents:
000 professional service process, 001 after-sales training manual, 002 duties and
satisfaction, 003 the customer-service department's system with its rulebook and scorecard
in §三 and §四, 004 delivery after-sales). Read the standard first, then each call.

Each call page gives what a listener of the recording would know: who says what and when,
silences of 1.5 s or more where nobody speaks, lines spoken over the other speaker,
how loud a line is against that speaker's other lines, and how fast each line is spoken
(characters per minute, punctuation not counted). The direction says who called whom.

## What to label

For every call, every place where the agent does not do what the standard asks, or does
what it forbids. One row per breach in `labels.csv`:

    call,lines,standard,breach,seriousness,note

- `call`: call01 … call12;
- `lines`: the line number(s) of the breach (`3`, `3-5`), or `all` for something about the
  whole call (e.g. something that should have happened somewhere and never did);
- `standard`: the document and section that asks for it (e.g. `003 §三.3(2)`), quoting a
  few words of the standard's own text;
- `breach`: in your own words, what the agent did or failed to do;
- `seriousness`: minor, major or critical, as you would weigh it from the standard (say in
  the note when the standard itself gives no weight);
- `note`: anything you were unsure about, and where the standard is vague.

Also list, under the table or in `notes.md`, what the agent does well that the standard asks
for (a proper greeting, a hold announced and thanked for …): a call with no breach gets a
line saying so. If a breach repeats (the same forbidden phrase twice), give each occurrence.
A silence is a hold only if you judge it one from the lines around it.

Work from these pages and the standard alone: do not read callqa's code, rule packs,
tests or its other documents, and do not look at how the calls were made.
"""


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    for n, path in enumerate(truth_paths(SAMPLES), 1):
        truth = json.loads(path.read_text(encoding="utf-8"))
        meta = path.with_name(path.stem + ".meta.json")
        direction = json.loads(meta.read_text(encoding="utf-8")).get("direction", "inbound") if meta.exists() else "inbound"
        (out / f"call{n:02d}.md").write_text(call_page(n, truth, direction), encoding="utf-8")
    (out / "README.md").write_text(README, encoding="utf-8")
    (out / "standard").mkdir(exist_ok=True)
    for doc in sorted(STANDARD.glob("*.txt")):
        shutil.copyfile(doc, out / "standard" / doc.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
