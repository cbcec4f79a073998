"""Pooled CER of `callqa run` on the real clips: the whole pipeline (decode, speech
detection, diarization of a mono recording, ASR), not the transcription stage alone.

    callqa run ../shared/audio/real --out OUT --no-mask
    python tools/eval_real_run.py OUT

Each clip's utterances (all speakers, in time order) are joined and compared with its
reference in REFERENCES.tsv; the per-clip lines say how many speakers the call was given.
`--no-mask`: a masked number would count as an ASR error. Compare with
`tools/eval_asr.py --whole` (one whisper pass over each whole clip).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pyarrow.dataset as ds

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzers.cer import char_errors  # noqa: E402
from tools.eval_asr import REAL, references  # noqa: E402


def clip_rows(out: Path, real: Path = REAL) -> list[dict]:
    """Per clip with a reference: its path, reference, the run's text (every utterance in
    time order), speakers and speakers_uncertain. Raises ValueError for a clip the run
    did not process."""
    calls = ds.dataset(out / "calls", format="parquet").to_table().to_pylist()
    utts = ds.dataset(out / "utterances", format="parquet").to_table().to_pylist()
    by_source = {Path(c["source"]).resolve(): c for c in calls}
    rows = []
    for path, ref in references(real):
        call = by_source.get(path.resolve())
        if call is None or call["status"] != "ok":
            raise ValueError(f"{path.name}: not processed ({call and call['error']})")
        own = sorted((u for u in utts if u["call_id"] == call["call_id"]), key=lambda u: (u["start_s"], u["end_s"]))
        rows.append({"path": path, "ref": ref, "hyp": "".join(u["text"] for u in own),
                     "speakers": len({u["speaker"] for u in own}), "uncertain": call.get("speakers_uncertain")})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--real", type=Path, default=REAL)
    args = ap.parse_args(argv)
    try:
        rows = clip_rows(args.out, args.real)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    errs = total = 0
    for row in rows:
        e, n = char_errors(row["hyp"], row["ref"])
        errs, total = errs + e, total + n
        path = row["path"]
        print(f"{path.parent.name}/{path.name}\tCER {e / n:.3f}\tspeakers {row['speakers']}"
              f"\tuncertain {row['uncertain']}\t{row['hyp']}\t| {row['ref']}")
    print(f"pooled CER {errs / total:.4f} ({errs}/{total}) over {len(rows)} clips")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
