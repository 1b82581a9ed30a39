"""The `train` stage: fit the chosen classifier on all training rows and save it with a card."""
