"""The `segment` stage: articles in, clean paragraphs with stable ids out."""

from pipeline.segment.core import Paragraph, Segmentation, segment_text

__all__ = ["Paragraph", "Segmentation", "segment_text"]
