"""User-visible text in Chinese and English.

Messages are looked up by key; ``zh`` is the default language of a register.
"""

from __future__ import annotations

__all__ = ["LANGS", "MESSAGES", "tr"]

LANGS = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    "police": ("公安", "police"),
    "railway": ("铁路", "railway"),
    "local": ("地方", "local government"),
    "not_covered": ("未覆盖", "not covered"),
    "line_heading": ("{name}（{id}）{start}—{end}", "{name} ({id}) {start} to {end}"),
    "stretches_heading": ("三纵责任分段", "Responsibility along the line (three verticals)"),
    "summary_heading": ("隐患统计（截至 {on}）", "Risks as of {on}"),
    "summary_row": (
        "{vertical} {party}：在办 {open}，超期 {overdue}，已销号 {cleared}",
        "{vertical} {party}: {open} open, {overdue} overdue, {cleared} cleared",
    ),
    "summary_total": (
        "合计：在办 {open}，超期 {overdue}，已销号 {cleared}",
        "Total: {open} open, {overdue} overdue, {cleared} cleared",
    ),
    "register_written": ("台账已写入 {path}", "Register written to {path}"),
    "error": ("错误：{message}", "Error: {message}"),
    "risk_heading": ("隐患 {id}", "Risk {id}"),
    "where": ("位置", "where"),
    "zone": ("距离带", "zone"),
    "zone_detail": (
        "保护区宽 {width:g} 米，距路基边缘 {distance:.0f} 米",
        "zone {width:g} m wide, {distance:.0f} m from the formation edge",
    ),
    "lead": ("牵头", "lead"),
    "deadline": ("整改期限", "deadline"),
    "description": ("描述", "description"),
    "note": ("备注", "note"),
}


def tr(key: str, lang: str = "zh", /, **values: object) -> str:
    """The message ``key`` in ``lang``, formatted with ``values``.

    >>> tr("not_covered", "en")
    'not covered'
    """
    zh, en = MESSAGES[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text
