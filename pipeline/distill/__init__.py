"""The `distill` stage: the static tier's token table, distilled from the sentence encoder."""
