"""`callqa show`: one call as a QA reviewer reads it in a terminal."""

from __future__ import annotations

import pyarrow.compute as pc

from analyzers.phrases import plain_detail
from analyzers.pii import join_masked
from analyzers.timeline import clock
from flows.review.report import SPEAKER_LABELS, heard_note, plain_reason
from flows.storage.store import ResultStore



def render_call(out_dir: str, call_id: str) -> str | None:
    """The transcript with speakers and times, each finding inline where it starts."""
    store = ResultStore(out_dir)

    def rows(name: str) -> list[dict]:
        table = store.read(name)
        return table.filter(pc.equal(table["call_id"], call_id)).to_pylist()

    calls = rows("calls")
    if not calls:
        return None
    call = calls[0]
    if call["status"] != "ok":
        return f"{call_id}: ERROR {call['error']}\n  source: {call['source']}"
    head = (
        f"{call_id}  {call['layout']}  {call['duration_s']:.1f} s  grade {call['grade']} "
        f"(score {call['score']:.0f}){'  FLAGGED for review' if call['flagged'] else ''}\n"
        f"  source: {call['source']}\n"
        f"  agent {call['agent_chars_per_min'] or 0:.0f} chars/min, customer "
        f"{call['customer_chars_per_min'] or 0:.0f} chars/min; talk {call['agent_talk_s']:.0f} s / "
        f"{call['customer_talk_s']:.0f} s; model {call['model_version']}, rules {call['lexicon_version']}"
    )
    for reason in call.get("flag_reasons") or []:
        head += f"\n  why flagged: {plain_reason(reason)}"
    # Utterances sort before findings that start at the same moment: a finding reads
    # as a comment on what was just said.
    events = [(u["start_s"], 0, u) for u in rows("utterances")]
    events += [(f["start_s"], 1, f) for f in rows("findings")]
    lines = [head, ""]
    for _, kind, item in sorted(events, key=lambda e: (e[0], e[1])):
        span = f"[{clock(item['start_s'])}-{clock(item['end_s'])}]"
        if kind == 0:
            lines.append(f"{span} {SPEAKER_LABELS.get(item['speaker'], item['speaker'])}: {join_masked(item['text'])}")
        else:
            # plain words and one-token masks for the output of older runs too (issue 22)
            what = f" \"{join_masked(item['text'])}\"" if item["text"] else ""
            detail = join_masked(plain_detail(item["category"], item["rule_id"], item["detail"] or ""))
            detail = f" - {detail}" if detail else ""
            heard = f" [{heard_note(item)}]" if heard_note(item) else ""
            lines.append(f"    >> {item['category']} ({item['severity']}, {item['rule_id']}){what}{detail}{heard}")
    return "\n".join(lines)
