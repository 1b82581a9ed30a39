"""What the labelers and the models both read in a paragraph's words: mentions of the
proposition's actors (`entities`) and the cue-pattern rules (`rules`, `prefilter`).

Below both stages: `pipeline.label` votes with these, `pipeline.models` uses them as
features, and this package imports neither.
"""
