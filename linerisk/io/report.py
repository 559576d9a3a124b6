"""What an import did: counts, rows it could not take, and notes, in both languages."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from linerisk.convert import as_tuple

__all__ = ["KIND_ZH", "ImportReport", "Message", "Reject", "jsonable"]


def jsonable(value: Any) -> Any:
    """A cell value as JSON can hold it (dates as ISO text, NaN and infinities
    as null).

    >>> jsonable(float("inf")), jsonable(2.5)
    (None, 2.5)
    """
    kind = type(value)
    if kind is str or kind is int or value is None:  # most cells, checked first
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return jsonable(value.item())
    return str(value)


@attrs.frozen
class Message:
    """A note for the user, in English and Chinese."""

    en: str
    zh: str

    def text(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en

    def __str__(self) -> str:
        return self.en


@attrs.frozen
class Reject:
    """A row or feature that was not imported: where it is, why, and what it held.

    ``row`` is what the user finds the row by: the spreadsheet row number, the
    CSV line number, or the feature id. ``problem`` is one English sentence;
    :meth:`problem_text` gives it in Chinese.
    """

    row: Any
    problem: str
    record: Mapping[str, Any] = attrs.field(factory=dict)

    def problem_text(self, lang: str = "en") -> str:
        from linerisk.errors_zh import translate_error

        return translate_error(self.problem, lang)


@attrs.frozen
class ImportReport:
    """The outcome of :func:`linerisk.io.importing.import_layer`.

    ``read`` rows or features were read; ``added``, ``updated`` and ``removed``
    are what was (or, with ``dry_run``, would be) written; ``unchanged`` rows
    matched what the register holds. ``rejected`` lists what was not imported
    and why, ``repaired`` the geometries fixed with ``repair=True``.
    """

    kind: str
    path: str
    mode: str
    dry_run: bool
    read: int
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    rejected: tuple[Reject, ...] = attrs.field(default=(), converter=as_tuple)
    repaired: tuple[Message, ...] = attrs.field(default=(), converter=as_tuple)
    messages: tuple[Message, ...] = attrs.field(default=(), converter=as_tuple)
    #: field → column of the file, as matched
    columns: Mapping[str, str] = attrs.field(factory=dict)
    #: ids of the risks added (none on a dry run)
    ids: tuple[int, ...] = attrs.field(default=(), converter=as_tuple)

    def summary(self, lang: str = "en") -> str:
        """One line: what was (or would be) written and what was rejected."""
        if lang == "zh":
            head = "试导入（未写入）" if self.dry_run else "导入完成"
            text = (
                f"{head}：{KIND_ZH.get(self.kind, self.kind)}，读取 {self.read} 条，"
                f"新增 {self.added}，更新 {self.updated}，未变 {self.unchanged}，"
                f"删除 {self.removed}，拒绝 {len(self.rejected)}"
            )
            if self.repaired:
                text += f"，修复几何 {len(self.repaired)}"
            return text
        head = "dry run, nothing written" if self.dry_run else "imported"
        text = (
            f"{head}: {self.kind}, {self.read} read, {self.added} added, {self.updated} "
            f"updated, {self.unchanged} unchanged, {self.removed} removed, "
            f"{len(self.rejected)} rejected"
        )
        if self.repaired:
            text += f", {len(self.repaired)} geometries repaired"
        return text

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.path,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "read": self.read,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "rejected": [
                {"row": jsonable(r.row), "problem": r.problem_text(lang)} for r in self.rejected
            ],
            "repaired": [m.text(lang) for m in self.repaired],
            "messages": [m.text(lang) for m in self.messages],
            "columns": dict(self.columns),
            "ids": list(self.ids),
        }

    def to_json(self, lang: str = "en") -> str:
        return json.dumps(self.to_dict(lang), ensure_ascii=False, indent=2)

    def write_rejects(self, path: str | Path, lang: str = "en") -> Path:
        """Write the rejected rows as CSV (UTF-8 with BOM, so Excel reads the Chinese):
        the row number, the problem, then the row's own columns as in the file."""
        return write_rejects(self.rejected, path, lang)


def write_rejects(rejects: Sequence[Reject], path: str | Path, lang: str = "en") -> Path:
    path = Path(path)
    columns: list[str] = []
    for r in rejects:
        for c in r.record:
            if c not in columns:
                columns.append(str(c))
    head = ["行号", "问题"] if lang == "zh" else ["row", "problem"]
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*head, *columns])
        for r in rejects:
            cells = [_cell(r.record.get(c)) for c in columns]
            writer.writerow([r.row, r.problem_text(lang), *cells])
    tmp.replace(path)
    return path


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.time() == dt.time() and value.tzinfo is None:
        value = value.date()  # a date cell of the workbook
    value = jsonable(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


#: the layer kinds in Chinese, for reports
KIND_ZH = {
    "lines": "线路",
    "kmposts": "公里标",
    "chain_breaks": "断链",
    "segments": "区段",
    "police_areas": "派出所辖区",
    "neighbourhoods": "社区/村",
    "fences": "护网",
    "risks": "隐患",
}
