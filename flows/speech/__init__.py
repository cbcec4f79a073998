"""Speech: audio in, speech spans, speakers and words out (decode, VAD, diarization, ASR engines).

Imports nothing from batch or review (.importlinter)."""
