"""The `label` stage: gold annotations and weak supervision become one label per paragraph.

Each labeler (`gold`, `rules`, `prototypes`, `nli`) votes a label or abstains, with a
score; `aggregate` combines the votes; `stage` reads and writes the files.
"""
