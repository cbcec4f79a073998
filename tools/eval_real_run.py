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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--real", type=Path, default=REAL)
    args = ap.parse_args(argv)
    calls = ds.dataset(args.out / "calls", format="parquet").to_table().to_pylist()
    utts = ds.dataset(args.out / "utterances", format="parquet").to_table().to_pylist()
    by_source = {Path(c["source"]).resolve(): c for c in calls}
    errs = total = 0
    for path, ref in references(args.real):
        call = by_source.get(path.resolve())
        if call is None or call["status"] != "ok":
            print(f"{path.name}: not processed ({call and call['error']})", file=sys.stderr)
            return 1
        own = sorted((u for u in utts if u["call_id"] == call["call_id"]), key=lambda u: (u["start_s"], u["end_s"]))
        hyp = "".join(u["text"] for u in own)
        e, n = char_errors(hyp, ref)
        errs, total = errs + e, total + n
        speakers = len({u["speaker"] for u in own})
        print(f"{path.parent.name}/{path.name}\tCER {e / n:.3f}\tspeakers {speakers}"
              f"\tuncertain {call.get('speakers_uncertain')}\t{hyp}\t| {ref}")
    print(f"pooled CER {errs / total:.4f} ({errs}/{total}) over {len(references(args.real))} clips")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
