"""Article files found on disk, each paired with its manifest row.

The corpus of the segment stage (`discover_documents`: the manifest must agree
with the folder) and the PATHs of `stance score` (`documents_at`: a folder's
manifest rows where they exist) are found here, with the same file search
(`find_files`) and the same derived row for a file the manifest does not list,
so a file gets the same doc_id (and paragraph ids) either way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputDataError
from pipeline.io import display_path, find_files, os_reason, outside_folder
from pipeline.segment.manifest import ManifestRow, read_manifest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Document:
    """One article to segment: where it is and what the manifest says about it."""

    path: Path
    meta: ManifestRow

    @property
    def source(self) -> str:
        """The outlet; an unattributed document is its own group, never pooled with others."""
        return self.meta.source or f"unknown:{self.meta.doc_id}"


def discover_documents(
    corpus_dir: Path, manifest: Path, extensions: tuple[str, ...]
) -> list[Document]:
    """Pair every article file in `corpus_dir` with its manifest row, in doc_id order."""
    if not corpus_dir.is_dir():
        raise InputDataError(f"{display_path(corpus_dir)}: corpus folder not found")
    found = find_files(corpus_dir, extensions)  # links out of the corpus are refused
    for message in found.refused.values():
        log.warning("%s; skipped", message)
    files = {path.relative_to(corpus_dir).as_posix(): path for path in found.files}
    if manifest.is_file():
        rows = read_manifest(manifest)
    else:
        log.warning("%s: no manifest; sources and titles are unknown", display_path(manifest))
        rows = []
    documents = []
    for row in rows:
        path = corpus_dir / row.file
        if path in found.refused:
            continue  # warned about above
        if not path.is_file():
            raise InputDataError(
                f"{display_path(manifest)}: lists {row.file!r}, which is not in "
                f"{display_path(corpus_dir)}"
            )
        outside = outside_folder(path, corpus_dir)
        if outside is not None:
            log.warning("%s; skipped", outside)
            continue
        files.pop(row.file, None)
        documents.append(Document(path, row))
    listed = {document.meta.doc_id for document in documents}
    for relative, path in files.items():
        doc_id = doc_id_from_path(relative)
        if doc_id in listed:
            raise InputDataError(
                f"{display_path(path)}: has no manifest row and its derived doc_id {doc_id!r} "
                "clashes with a listed document"
            )
        log.warning("%s: no row in %s; source unknown", display_path(path), display_path(manifest))
        documents.append(Document(path, unlisted_row(relative)))
        listed.add(doc_id)
    if not documents:
        raise InputDataError(
            f"{display_path(corpus_dir)}: no article files ({', '.join(extensions)})"
        )
    return sorted(documents, key=lambda document: document.meta.doc_id)


def doc_id_from_path(relative: str) -> str:
    """The doc_id of a file without a manifest row: its relative path, made id-safe."""
    stem = relative.rsplit(".", 1)[0]
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-") or "doc"


def unlisted_row(relative: str, *, source: str = "") -> ManifestRow:
    """The row of a file the manifest does not list: its doc_id derived from its path."""
    return ManifestRow(doc_id=doc_id_from_path(relative), file=relative, source=source)


def documents_at(
    path: Path, *, extensions: Sequence[str], manifest_name: str, source: str
) -> tuple[list[Document], list[str]]:
    """The article files a PATH names, each with its manifest row or a derived one, and a
    message for each path in a folder that was passed over.

    A folder is searched recursively for the segment extensions as the segment stage
    searches the corpus (`find_files`: hidden files skipped; a link that leads out of the
    folder, or a subfolder that cannot be listed, passed over); a file is taken whatever
    its extension and wherever it links (a table's rows bring their own metadata; its
    manifest row goes unused).
    """
    name = display_path(path)
    try:
        is_folder, is_file = path.is_dir(), path.is_file()
    except OSError as error:  # a path under a folder that cannot be entered
        raise InputDataError(f"{name}: {os_reason(error)}") from None
    refused: list[str] = []
    if is_folder:
        found = find_files(path, extensions)
        folder, files, refused = path, found.files, list(found.refused.values())
        if not files and not refused:
            raise InputDataError(f"{name}: no article files ({', '.join(extensions)})")
    elif is_file:
        folder, files = path.parent, [path]
    else:
        raise InputDataError(f"{name}: no such file or folder")
    rows = _manifest_rows(folder / manifest_name) if files else {}
    documents = []
    for file in files:
        relative = file.relative_to(folder).as_posix()
        row = rows.get(relative) or unlisted_row(relative, source=source)
        documents.append(Document(file, row))
    return documents, refused


def _manifest_rows(manifest: Path) -> dict[str, ManifestRow]:
    """Rows of the folder's manifest by file, or none when the folder has no manifest."""
    try:
        if not manifest.is_file():
            return {}
        return {row.file: row for row in read_manifest(manifest)}
    except OSError as error:  # without its manifest, the folder's sources would be wrong
        raise InputDataError(f"{display_path(manifest)}: {os_reason(error)}") from None
