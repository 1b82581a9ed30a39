"""Growing the gold set: `stance annotate` (queue, session, Label Studio, stats, curve)."""
