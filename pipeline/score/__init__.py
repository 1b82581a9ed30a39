"""`stance score`: new article files scored by a trained model, paragraph by paragraph.

`inputs` reads and segments files exactly as the segment stage does, one
article at a time (`tables` reads parquet/jsonl tables of articles), `core`
batches paragraphs through the model and computes each article's index as the
report does, `formats` writes table/json/jsonl/csv, `folder` the parquet folder,
`model` is the Python API (`StanceModel`) and `stage` the shell the CLI calls.
`stage` hands a `ScoreRequest` (`request`) to one of two sibling engines with the
same signature: `local_engine` scores in this process, `ray_engine` runs the same
functions on a Ray cluster (`--engine ray`; Ray is imported there only).
"""

# Paragraphs per model call. Larger batches let the encoder group windows of
# similar length (less padding). On 2 CPU cores, 512 scored 13-23% faster than 128
# (onnx-int8: 167-171 against 136-151 paragraphs/s; torch: 48-50 against 42), at the
# cost of the first article appearing after 512 paragraphs instead of 128.
DEFAULT_BATCH_SIZE = 512
