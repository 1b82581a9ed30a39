"""The `evaluate` stage: leave-one-source-out cross-validation over the gold paragraphs."""
