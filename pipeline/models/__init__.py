"""The model zoo: stance classifiers behind one small interface (`base.StanceClassifier`).

`registry.MODELS` maps the names used in `train.model` to classes and their typed
settings (`settings`); `persist` saves and loads any of them as a folder with safe
formats and a model card.
"""
