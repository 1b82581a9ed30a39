"""`stance score`: new article files scored by a trained model, paragraph by paragraph.

`inputs` reads and segments files exactly as the segment stage does, one
article at a time (`tables` reads parquet/jsonl tables of articles), `core`
batches paragraphs through the model and computes each article's index as the
report does, `formats` writes table/json/jsonl/csv, `model` is the Python API
(`StanceModel`) and `stage` the shell the CLI calls.
"""

# Paragraphs per model call. Larger batches let the encoder group windows of
# similar length (less padding): 128 scored 16% faster than 64 on 2 CPU cores
# (benchmarks/results/score_throughput.json); 256 was no faster in a smaller sweep.
DEFAULT_BATCH_SIZE = 128
