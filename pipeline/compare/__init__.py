"""`stance compare`: is a new model version really better than the old one?

Two or more evaluated versions of the model (model folders, git revisions or
DVC experiments) are compared on the same gold paragraphs through their
out-of-fold predictions. `versions` finds and reads each version (the one
place that reads another revision's files), `cards` lists what changed in
the model cards, `stats` holds the pure statistics
(metrics, paired bootstrap, McNemar, per-source index, flips), `comparison`
pairs the baseline with each other version (`Comparison`), `formats` renders
table/markdown/json and `stage` is the shell the CLI calls.
"""

# Table and markdown list at most this many flipped paragraphs; json lists them all.
DEFAULT_MAX_FLIPS = 20
