"""Storage: the Parquet output contract, the result store, the transcript cache, the output
lock and durable file writes.

Imports nothing from batch or review (.importlinter)."""
