"""The reliability suite's small project, for the development-set tests."""

from tests.reliability.conftest import (  # noqa: F401
    built,
    built_template,
    mini,
    mini_template,
    tiny_model,
)
