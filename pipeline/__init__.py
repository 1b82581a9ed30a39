"""stance: where news outlets stand on a proposition, paragraph by paragraph."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.kernels import pin_kernels

# Before NumPy or PyTorch loads: the same floating-point kernels on every CPU type.
pin_kernels()

if TYPE_CHECKING:
    from pipeline.score.model import StanceModel

__version__ = "0.1.0"
__all__ = ["StanceModel", "__version__"]


def __getattr__(name: str) -> Any:
    # `StanceModel` pulls in pandas and scikit-learn; `import pipeline` (the CLI) stays light.
    if name == "StanceModel":
        from pipeline.score.model import StanceModel

        return StanceModel
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
