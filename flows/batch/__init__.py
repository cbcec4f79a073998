"""Batch: the run's settings and call metadata, the per-call pipeline, and the runners that
take a folder of recordings through it (in process, in worker processes, under Prefect)."""
