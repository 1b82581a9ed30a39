"""`stance score` with a cascade model says how much of the corpus its slow model scored."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import run_cli
from tests.score.conftest import ARTICLE


def test_stance_score_reports_the_share_a_cascade_escalated(
    tiny_cascade: Path, tmp_path: Path
) -> None:
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    code, _, stderr = run_cli("score", str(article), "--model", str(tiny_cascade), "-f", "csv")
    assert code == 0
    lines = [line for line in stderr.splitlines() if "cascade:" in line]
    assert len(lines) == 1
    # The article's paragraphs only (the paragraph that loads the model is not counted).
    assert re.search(r"cascade: \d+ of 3 paragraphs \(\d+\.\d%\) .* threshold 0\.60", lines[0])
