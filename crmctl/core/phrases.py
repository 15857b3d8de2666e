"""Sentences crmctl writes into reports, in every language a document can have, keyed by what they mean.

A report that explains itself (the SFE report's "why" and "suggested action")
builds its sentences here, never by formatting English in place: a Chinese
book's PDF gets Chinese sentences, an English one English, and the terminal
output keeps the English text (with the command to run) that scripts and the
README show. Add a key to every language at once; :func:`say` refuses a key or
language that is missing so a half-translated sentence cannot reach a page.
"""
from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "zh-CN")

PHRASES: dict[str, dict[str, str]] = {
    # a past report from before the book's git history (--as-of, source "records")
    "replayed_from_records": {
        "en": "Before the book's first commit: stages and payments are replayed from the records' own histories; "
              "amounts, close dates and every other field are as they are today.",
        "zh-CN": "早于账本的首次提交：阶段与回款按记录自身的历史还原；金额、预计成交日等其他字段均为今日的值。",
    },
    # why a rep is behind
    "rep_behind": {
        "en": "completion {completion}%, {missed} missed, {overdue} overdue follow-ups",
        "zh-CN": "完成率 {completion}%，未完成 {missed} 次，逾期跟进 {overdue} 项",
    },
    # what the rep should do about it
    "reschedule_missed": {
        "en": "reschedule {moves} of {missed} missed visit(s)",
        "zh-CN": "{first}至{last}重新安排 {missed} 次未完成拜访中的 {moves} 次",
    },
    "missed_none_to_move": {
        "en": "{missed} missed visit(s), none to move {first}..{last} (the accounts' next visits are planned)",
        "zh-CN": "{missed} 次未完成拜访，{first}至{last}无需改期（这些客户的下次拜访已安排）",
    },
    "missed_no_working_day": {
        "en": "{missed} missed visit(s), none to move: no working day {first}..{last} to plan on "
              "(working_days, calendar and days_off in crm.yaml)",
        "zh-CN": "{missed} 次未完成拜访，无法改期：{first}至{last}没有可安排的工作日（见 crm.yaml 的 working_days、calendar 与 days_off）",
    },
    "close_followups": {
        "en": "close {overdue} overdue follow-up(s)",
        "zh-CN": "完成 {overdue} 项逾期跟进",
    },
    "coach": {
        "en": "coach: plan an accompanied visit with {manager}",
        "zh-CN": "辅导：安排{manager}陪同拜访",
    },
    # why an account is behind its cadence, and what to do
    "account_behind": {
        "en": "tier {tier} every {cadence}d; {last} ({owner})",
        "zh-CN": "{tier}级客户，每 {cadence} 天拜访一次；{last}（{owner}）",
    },
    "last_visit": {"en": "last visit {day}", "zh-CN": "上次拜访于 {day}"},
    "never_visited": {"en": "last visit never", "zh-CN": "从未拜访"},
    "make_planned_happen": {
        "en": "make sure the visit planned for {day} happens",
        "zh-CN": "确保 {day} 的计划拜访如期进行",
    },
    "plan_visit": {
        "en": "plan a visit on {day}",
        "zh-CN": "安排 {day} 拜访",
    },
    "sentence_separator": {"en": "; ", "zh-CN": "；"},
}


def say(key: str, lang: str, **values: Any) -> str:
    """The sentence ``key`` in ``lang`` (``en`` or ``zh-CN``) with ``values`` filled in.

    Raises KeyError for a key or language the table does not have (a programming
    error: every key has every language, which a test checks).
    """
    return PHRASES[key][lang].format(**values)


def join(parts: list[str], lang: str) -> str:
    """Sentences joined the way ``lang`` writes a list of them."""
    return say("sentence_separator", lang).join(parts)
