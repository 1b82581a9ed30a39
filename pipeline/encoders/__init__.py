"""Sentence encoders: paragraphs in, L2-normalised float32 vectors out.

`base` holds what every backend shares (the protocols `TextEncoder` and
`SentenceModel`, weight hashing, the bundled weights, `EncodingOptions`). One
module per backend: `torch_encoder` (sentence-transformers on PyTorch),
`onnx_encoder` (ONNX Runtime, fp32 or int8, exported once into the cache folder)
and `static_encoder` (the distilled model2vec table of the static tier). `store`
is the on-disk vector cache shared by every process of a machine, `cache` the
wrappers that use it and the in-memory cache of pooled paragraphs, and `factory`
the one place an encoder is built from its options (`make_encoder`).

Options are passed explicitly: stages build `EncodingOptions.from_params`, `stance
score` adds its flags, and a classifier receives them as its `encoding` argument,
outside the settings it saves and that name its model id.
"""
