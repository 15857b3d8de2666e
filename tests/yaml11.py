"""The YAML 1.1 implicit types, for tests that check a file means the same to every YAML reader.

Written out here from the YAML 1.1 type repository (yaml.org/type/*.html) on their own, so the
tests do not trust the writer's copy (crmctl.core.yamlio.YAML11_IMPLICIT). PyYAML's default
loader knows all of them but y/Y/n/N; other YAML 1.1 tools (Go's yaml.v2, SnakeYAML) know those too.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

import yaml
from hypothesis import strategies as st

from crmctl.core import yamlio

YAML_1_1_TYPES = {
    "bool": r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF",
    "int": r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+",
    "float": r"[-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*"
             r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)",
    "null": r"~|null|Null|NULL|",
    "timestamp": r"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
                 r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?([Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9]"
                 r"(\.[0-9]*)?(([ \t]*)Z|[-+][0-9][0-9]?(:[0-9][0-9])?)?",
    "merge": r"<<",
    "value": r"=",
}
YAML_1_1_EXAMPLES = [
    "y", "Y", "n", "N", "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
    "true", "True", "TRUE", "false", "False", "FALSE",
    "0777", "0o17", "0x1F", "0b101", "-0b1_0", "1_000", "+685_230", "1:20", "190:20:30", "1:20.5", "-1:20",
    "~", "null", "Null", "NULL", "", ".inf", "-.Inf", "+.INF", ".NaN", ".nan", "1e3", "1.5e+3", "6.8523015e+5", "1.",
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2001-12-15T02:59:43.1Z",
    "2002-1-5 1:02:03", "=", "<<",
]


def yaml_1_1_special(text: str) -> bool:
    return any(re.fullmatch(f"(?:{pattern})", text) for pattern in YAML_1_1_TYPES.values())


yaml_1_1_scalars = st.one_of(*(st.from_regex(f"\\A(?:{p})\\Z") for p in YAML_1_1_TYPES.values()))
# what people type into a CRM: words, numbers, codes, times, with specials among them
texts_that_look_like_something = st.one_of(
    yaml_1_1_scalars,
    st.sampled_from(YAML_1_1_EXAMPLES),
    st.text(alphabet="0123456789:._-+eExobYNyn~ ", max_size=12),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
)


def plain_scalars(text: str) -> list[str]:
    """The scalars (keys and values) a YAML document writes plain, that is without quotes."""
    return [e.value for e in yaml.parse(text) if isinstance(e, yaml.ScalarEvent) and e.style is None]


def assert_text_stays_text(text: str, data: dict[str, Any] | list[Any]) -> None:
    """``text`` reads back as ``data`` in YAML 1.1 and in crmctl, and no string in it is a plain YAML 1.1 special."""
    assert yaml.safe_load(text) == data, text  # PyYAML's default loader is YAML 1.1
    if isinstance(data, dict):  # crmctl's own reader reads records, which are mappings
        assert yamlio.loads(text)[0] == data, text
    strings = set(_strings(data))
    for value in plain_scalars(text):
        if value in strings:
            assert not yaml_1_1_special(value), f"{value!r} is written plain in:\n{text}"


def _strings(value: Any) -> Iterator[str]:
    """Every string in ``value``, keys included."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value
