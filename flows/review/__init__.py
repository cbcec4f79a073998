"""Review: what QA staff read and record — the HTML report, its templates, the terminal view
of a call, and the review workspace (webapp/)."""
