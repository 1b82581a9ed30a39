"""The I/O shell of `stance compare`: versions named on the command line in, a report out.

The first version is the baseline A; every other version B is compared with it
on the same gold paragraphs (refused otherwise). params.yaml is optional: it
supplies the bootstrap settings (`report.bootstrap_samples`, `report.confidence`,
`report.seed`) and the ECE bins (`evaluate.calibration_bins`); labels come from
the versions' cards. Output written with `output` appears whole or not at all.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.compare import DEFAULT_MAX_FLIPS
from pipeline.compare.comparison import compare_versions
from pipeline.compare.formats import CompareFormat, choose_format, render
from pipeline.compare.record import report_record
from pipeline.compare.stats import CompareSettings
from pipeline.compare.versions import check_same_gold, common_gold, load_version
from pipeline.config import EvaluateParams, Params, ReportParams, optional_params, params_read
from pipeline.errors import ConfigError
from pipeline.io import atomic_output, display_path, refuse_overwriting_inputs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompareRun:
    """What one `stance compare` wrote."""

    record: dict[str, Any]
    output_format: CompareFormat


def compare_settings(
    labels: Sequence[str],
    params: Params | None,
    *,
    bootstrap_samples: int | None = None,
    seed: int | None = None,
) -> CompareSettings:
    """Settings from the command line, else params, else the params defaults."""
    report = params.report if params is not None else ReportParams()
    evaluate = params.evaluate if params is not None else EvaluateParams()
    return CompareSettings(
        labels=tuple(labels),
        bootstrap_samples=(
            report.bootstrap_samples if bootstrap_samples is None else bootstrap_samples
        ),
        confidence=report.confidence,
        seed=report.seed if seed is None else seed,
        calibration_bins=evaluate.calibration_bins,
    )


def run_compare(
    arguments: Sequence[str],
    *,
    params_file: Path | None = None,
    output_format: CompareFormat | None = None,
    output: Path | None = None,
    bootstrap_samples: int | None = None,
    seed: int | None = None,
    max_flips: int = DEFAULT_MAX_FLIPS,
    common: bool = False,
) -> CompareRun:
    """The command: read every version, compare each with the first, write the report."""
    if len(arguments) < 2:
        raise ConfigError(
            "compare needs at least two versions: the baseline first, then one or more to "
            "compare with it"
        )
    folders = [Path(argument) for argument in arguments if Path(argument).is_dir()]
    refuse_overwriting_inputs(output, [*folders, *params_read(params_file)])
    params = optional_params(params_file)
    versions = [load_version(argument) for argument in arguments]
    if common:
        for version in versions[1:]:
            if version.labels != versions[0].labels:
                check_same_gold(versions[0], version)  # its one-line refusal of other labels
        versions, notes = common_gold(versions)
        log.info(
            "compare: on the %d gold paragraphs every version was evaluated on%s",
            len(versions[0].predictions),
            f" ({'; '.join(notes)})" if notes else "",
        )
    settings = compare_settings(
        versions[0].labels, params, bootstrap_samples=bootstrap_samples, seed=seed
    )
    record = report_record(versions, compare_versions(versions, settings), settings)
    terminal = output is None and sys.stdout.isatty()
    chosen = choose_format(output_format, output, stdout_is_terminal=terminal)
    width = shutil.get_terminal_size().columns if terminal else 120
    text = render(record, chosen, max_flips=max_flips, width=width, color=terminal)
    _write(text, output)
    if output is not None:
        log.info("compare: %d versions -> %s", len(versions), display_path(output))
    return CompareRun(record, chosen)


def _write(text: str, output: Path | None) -> None:
    """Write to the file atomically, or to standard output (a closed pipe is not an error)."""
    if output is not None:
        with atomic_output(output) as stream:
            stream.write(text.encode("utf-8"))
        return
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `stance compare ... | head`: the reader has seen enough
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
