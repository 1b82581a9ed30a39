"""stance: where news outlets stand on a proposition, paragraph by paragraph."""

__version__ = "0.1.0"
