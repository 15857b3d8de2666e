"""Text normalisation for matching people and companies across data entry habits (查重).

Full-width and half-width forms (ＡＢＣ１２３ / ABC123, （ / ( ), case, spacing,
punctuation, legal forms (Ltd./Limited, Corp./Corporation, AG/Aktiengesellschaft,
JSC/Joint Stock Company, 有限公司), German umlauts (Müller/Mueller), Chinese
place prefixes and bracketed places (深圳市华为技术/华为技术, 联创电子(上海)/
上海联创电子) and phone formats differ from one typist to the next; ``whois``,
duplicate checks and import dedupe all compare through here.

Phone numbers go through ``phonenumbers`` (the book's region is the default
for numbers without ``+``), tax ids through ``python-stdnum`` (China's unified
social credit code, EU VAT numbers). Both are imported inside the functions.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

_SPACE = re.compile(r"[\s\u3000]+")
_PUNCT = re.compile(r"[\s.,;:!?'\"()\[\]{}\-_/\\&+|·・，。；：、（）【】《》“”‘’!？]+")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "œ": "oe", "å": "aa"})

# Legal forms, as the words that end a name (after punctuation is gone); several may stack
# ("Corp., Ltd."). Measured against cleanco 2.3 on tests/mcr/test_dupes.py's pairs: see docs/DESIGN.md.
LEGAL_FORMS: tuple[tuple[str, ...], ...] = tuple(tuple(form.split()) for form in (
    "joint stock company", "public joint stock company", "open joint stock company", "closed joint stock company",
    "company limited", "co limited", "co ltd", "limited liability company", "limited partnership",
    "public limited company", "private limited", "pvt ltd", "pte ltd", "pty ltd", "sdn bhd", "gmbh co kg", "ag co kg",
    "aktiengesellschaft", "gesellschaft mit beschränkter haftung", "gesellschaft mit beschraenkter haftung",
    "kommanditgesellschaft", "societe anonyme", "société anonyme", "sociedad anonima", "sociedad anónima",
    "besloten vennootschap", "naamloze vennootschap", "kabushiki kaisha",
    "limited", "ltd", "ltda", "llc", "llp", "lp", "plc", "inc", "incorporated", "corp", "corporation", "co", "company",
    "gmbh", "mbh", "ag", "kg", "ohg", "ug", "se", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "oy", "oyj", "ab",
    "as", "asa", "aps", "kk", "jsc", "pjsc", "ojsc", "cjsc", "oao", "zao", "ooo", "pao", "sp zoo", "zoo", "bhd",
    "pte", "pty", "pvt", "sl", "sae", "spzoo",
))
_LEGAL_BY_LENGTH = sorted(LEGAL_FORMS, key=len, reverse=True)
# Chinese legal forms and the words around them, stripped from the end of a name again and again, so
# 股份有限公司 = 股份公司 = 有限公司 = 有限责任公司 = 公司 and 集团(股份)有限公司 = 集团: each is one company's form,
# never what tells two companies apart (a branch, 分公司, is kept: it is another record)
_CN_LEGAL = ("股份有限公司", "有限责任公司", "有限公司", "股份公司", "责任公司", "集团公司", "总公司", "公司", "集团", "股份", "有限")
# provinces, municipalities and the larger cities: a name starting with one (with or without 省/市) or
# carrying one in brackets names the place, not the company
CN_PLACES = frozenset("""
北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 海南 四川 贵州 云南 陕西
甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门 深圳 广州 杭州 南京 苏州 无锡 常州 宁波 温州 厦门 福州 青岛 济南 烟台
大连 沈阳 长春 哈尔滨 石家庄 太原 郑州 武汉 长沙 南昌 合肥 成都 西安 兰州 西宁 昆明 贵阳 南宁 海口 三亚 拉萨 银川 乌鲁木齐
呼和浩特 东莞 佛山 珠海 中山 惠州 汕头 泉州 嘉兴 绍兴 金华 台州 湖州 南通 扬州 徐州 镇江 盐城 泰州 芜湖 洛阳 唐山 保定 廊坊
潍坊 淄博 威海 临沂 宜昌 襄阳 株洲 岳阳 绵阳 柳州 桂林 包头 鄂尔多斯 大庆 昆山 义乌 江阴 张家港 常熟 慈溪 晋江 中国
""".split())
_PLACE_SUFFIX = ("特别行政区", "自治区", "省", "市", "区", "县")
_BRACKETED = re.compile(r"[(（\[【]([^()（）\[\]【】]{1,10})[)）\]】]")
_INITIALS = re.compile(r"(?<![a-z])(?:[a-z]\.){2,}")
_CN_PLACE_PREFIX = re.compile(r"^([\u4e00-\u9fff]{2,3})(?:省|市)")


_A_BEFORE = ("use", "usu", "uni", "ure", "uti", "eu", "one", "once")   # vowel letters sounding "yoo"/"w": a user
_AN_BEFORE = ("hour", "honest", "honor", "honour", "heir")             # a silent h: an hour


def a_an(word: Any) -> str:
    """``word`` with its English indefinite article, by sound: "an accepted", "a user", "an admin", "a director"."""
    text = str(word)
    low = text.lower()
    vowel = (low[:1] in ("a", "e", "i", "o", "u") and not low.startswith(_A_BEFORE)) or low.startswith(_AN_BEFORE)
    return f"{'an' if vowel else 'a'} {text}"


def fold(text: str | None) -> str:
    """NFKC (full-width → half-width), casefold, single spaces."""
    if not text:
        return ""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", str(text)).casefold()).strip()


def _latin_plain(text: str) -> str:
    """Umlauts spelled out (ü → ue), other accents dropped (é → e); other scripts untouched."""
    text = text.translate(_UMLAUTS)
    out = []
    for ch in text:
        if ord(ch) < 0x250:
            out.append("".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)))
        else:
            out.append(ch)
    return "".join(out)


def _place(word: str) -> str:
    """The place a word names (上海市 → 上海), or "" when it is not one."""
    for suffix in _PLACE_SUFFIX:
        if word.endswith(suffix) and len(word) > len(suffix):
            stem = word[: -len(suffix)]
            if stem in CN_PLACES or (suffix in ("省", "市") and 2 <= len(stem) <= 3):
                return stem
    return word if word in CN_PLACES else ""


def _strip_cn_places(text: str) -> tuple[str, str]:
    """(text without place prefixes and bracketed places, the innermost place named), Chinese names only."""
    places: list[str] = []

    def bracket(m: re.Match[str]) -> str:
        place = _place(m.group(1).strip())
        if place or m.group(1).strip() in ("集团",):
            places.append(place)
            return ""
        return m.group(0)

    text = _BRACKETED.sub(bracket, text)
    changed = True
    while changed:
        changed = False
        for length in (5, 4, 3, 2):
            head = text[:length]
            for suffix in ("特别行政区", "自治区", "省", "市", ""):
                if suffix and not head.endswith(suffix):
                    continue
                stem = head[: len(head) - len(suffix)] if suffix else head
                if (stem in CN_PLACES or (suffix in ("省", "市") and _CN_PLACE_PREFIX.match(head))) and len(text) - length >= 2:
                    places.append(stem)
                    text = text[length:]
                    changed = True
                    break
            if changed:
                break
    return text, next((p for p in reversed(places) if p and p != "中国"), "")


def _strip_cn_legal(text: str) -> str:
    """``text`` without the Chinese legal forms that end it (see ``_CN_LEGAL``), keeping at least two characters."""
    stripped = True
    while stripped:
        stripped = False
        bare = text.rstrip(" .,;:()（）")
        for suffix in _CN_LEGAL:
            if bare.endswith(suffix) and len(bare) >= len(suffix) + 2:
                text, stripped = bare[: -len(suffix)], True
                break
    return text


def is_cjk(text: str) -> bool:
    """Whether ``text`` has Chinese, Japanese or Korean characters (names there are short: 华为 is a whole brand)."""
    return any("\u4e00" <= ch <= "\u9fff" or "\u3040" <= ch <= "\u30ff" or "\uac00" <= ch <= "\ud7af"
               or "\u3400" <= ch <= "\u4dbf" for ch in text)


def name_parts(text: str | None) -> tuple[str, str]:
    """(comparison key, place): no punctuation, legal form or place; the place the name carried, if any.

    ``深圳市华为技术有限公司`` → (``华为技术``, ``深圳``); ``SAIC Motor Corp., Ltd.`` → (``saicmotor``, "").
    """
    folded = _latin_plain(fold(text))
    if not folded:
        return "", ""
    folded = _INITIALS.sub(lambda m: m.group(0).replace(".", ""), folded)  # l.l.c. -> llc, s.p.a. -> spa
    place = ""
    if any("\u4e00" <= ch <= "\u9fff" for ch in folded):
        folded = _strip_cn_legal(folded)
        folded, place = _strip_cn_places(folded)
        folded = _strip_cn_legal(folded)  # 有限公司 after a bracketed place: 联创电子(上海)有限公司
    words = [w for w in _PUNCT.split(folded) if w]
    stripped = True
    while stripped and len(words) > 1:
        stripped = False
        for form in _LEGAL_BY_LENGTH:
            if len(words) > len(form) and tuple(words[-len(form):]) == form:
                words = words[: -len(form)]
                stripped = True
                break
    return "".join(words), place


def name_key(text: str | None) -> str:
    """A comparison key for a person's or company's name (see :func:`name_parts`)."""
    return name_parts(text)[0]


def default_region(settings: Any) -> str:
    """The region phone numbers without ``+`` are read in: ``duplicates.default_region``, else the locale's (zh_CN → CN)."""
    region = str(settings.get("duplicates.default_region", "") or "").strip().upper() if settings is not None else ""
    if region:
        return region
    locale = str(settings.get("locale", "") or "") if settings is not None else ""
    _, _, territory = locale.replace("-", "_").partition("_")
    return territory.upper()[:2] if territory else ""


def phone_key(text: str | None, region: str = "") -> str:
    """Digits to compare phone numbers by: country code and number (``x`` and the extension, if any).

    With a ``region`` (``CN``, ``US``, ``DE``), ``phonenumbers`` reads national
    forms in that region: ``(713) 555-0147`` in US and ``+1 713-555-0147`` are
    both ``17135550147``. What it cannot read, and every number when no region is
    known, falls back to digits without a leading 86/0086 or trunk 0.
    """
    raw = fold(text)
    if not raw:
        return ""
    if region:
        key = _e164_key(raw, region)
        if key:
            return key
    digits = re.sub(r"\D", "", raw)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) >= 8:
            digits = digits[len(prefix):]
            break
    return digits.lstrip("0")


def _e164_key(raw: str, region: str) -> str:
    import phonenumbers

    text = re.sub(r"\s*(?:转|分机)\s*", " ext ", raw)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
    return f"{e164}x{number.extension}" if number.extension else e164


def email_key(text: str | None) -> str:
    return fold(text).replace(" ", "")


def tax_key(text: str | None) -> str:
    """A company tax id to compare by: ``uscc:…`` (统一社会信用代码), ``vat:…`` (EU VAT), else its letters and digits."""
    raw = re.sub(r"[^0-9A-Za-z]", "", unicodedata.normalize("NFKC", str(text or ""))).upper()
    if not raw:
        return ""
    from stdnum.cn import uscc
    from stdnum.eu import vat

    if uscc.is_valid(raw):
        return f"uscc:{uscc.compact(raw)}"
    if vat.is_valid(raw):
        return f"vat:{vat.compact(raw)}"
    return f"id:{raw}"


_TAX_TEXT = re.compile(r"^[0-9A-Za-z][0-9A-Za-z .\-/]*$")
# python-stdnum modules that hold a country's company tax ids, tried in this order (stdnum.<cc>.<name>)
_TAX_MODULES = ("vat", "uscc", "tin", "ein", "stnr", "siren", "siret", "utr", "gstin", "pan", "abn", "acn", "cnpj", "uen",
                "brn", "inn", "businessid", "ruc", "rfc", "nit", "nif", "cif", "cuit")


def tax_id_problem(text: str | None, country: str | None = None) -> str | None:
    """Why ``text`` is not a company tax id, or None when it may be one.

    Three rules, the strictest that applies: a value shaped like a unified social credit code (18
    characters, a digit first) or carrying an EU country prefix must pass that scheme's check digits
    (python-stdnum); with a ``country`` (an ISO code or a name, ``CN``, ``Germany``, ``中国``) whose tax ids
    python-stdnum knows, it must be valid there (VAT number, USCC, EIN...); otherwise it must at least look
    like an id: letters and digits (with spaces, ``-``, ``.``, ``/``), 5 to 30 of them, at least 4 digits --
    so ``0x1F``, ``~`` and ``1e3`` are refused everywhere a tax id enters.
    """
    if text is None or str(text).strip() == "":
        return None
    shown = str(text)
    plain = unicodedata.normalize("NFKC", shown).strip()
    raw = re.sub(r"[^0-9A-Za-z]", "", plain).upper()
    if not _TAX_TEXT.match(plain) or not 5 <= len(raw) <= 30 or sum(ch.isdigit() for ch in raw) < 4:
        return (f"tax_id {shown!r} is not a tax id: give the registered number, letters and digits such as "
                "91310000132200821H (统一社会信用代码) or DE136695976")
    from stdnum.cn import uscc
    from stdnum.eu import vat

    if len(raw) == 18 and raw[:1].isdigit():
        try:
            uscc.validate(raw)
        except Exception as exc:  # noqa: BLE001 - stdnum's ValidationError family
            return f"tax_id {shown!r} is not a valid unified social credit code (统一社会信用代码): {exc}"
        return None
    if raw[:2].lower() in vat.MEMBER_STATES or raw[:2] == "EL":
        try:
            vat.validate(raw)
        except Exception as exc:  # noqa: BLE001 - stdnum's ValidationError family
            return f"tax_id {shown!r} is not a valid EU VAT number: {exc}"
        return None
    code = country_code(country)
    if not code:
        return None
    from stdnum.util import get_cc_module

    modules = [(name, m) for name in _TAX_MODULES if (m := get_cc_module(code.lower(), name))]
    if not modules or any(m.is_valid(raw) or m.is_valid(code + raw) for _, m in modules):
        return None
    kinds = " or ".join(dict.fromkeys(str(getattr(m, "__doc__", "") or name).split("\n")[0].split(" (")[0].strip()
                                      for name, m in modules))
    return f"tax_id {shown!r} is not a valid tax id for country {country} ({kinds}, checked by python-stdnum)"


def country_code(country: str | None) -> str:
    """The ISO 3166 alpha-2 code of a country given as a code (``cn``) or a name in English, Chinese or German
    (``China``, ``中国``, ``Deutschland``), through babel's territory names; "" when unknown."""
    text = str(country or "").strip()
    if not text:
        return ""
    if len(text) == 2 and text.isascii() and text.isalpha():
        return text.upper()
    return _country_names().get(fold(text), "")


def _country_names() -> dict[str, str]:
    global _COUNTRIES
    if _COUNTRIES is None:
        from babel import Locale

        names: dict[str, str] = {}
        for locale in ("en", "zh", "de", "fr", "es", "ja"):
            for code, name in Locale.parse(locale).territories.items():
                if len(code) == 2 and code.isalpha():
                    names.setdefault(fold(name), code)
        names.update({"usa": "US", "uk": "GB", "中国大陆": "CN", "mainland china": "CN"})
        _COUNTRIES = names
    return _COUNTRIES


_COUNTRIES: dict[str, str] | None = None
