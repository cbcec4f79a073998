"""Review: what QA staff read — the HTML report, its templates and the terminal view of a call."""
