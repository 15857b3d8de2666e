"""The record loader refuses what is unsafe and the writer round-trips losslessly."""
from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmctl.core import yamlio
from crmctl.core.errors import LoadError
from tests.yaml11 import YAML_1_1_EXAMPLES, assert_text_stays_text, texts_that_look_like_something, yaml_1_1_special


def load(text: str) -> dict:
    return yamlio.loads(text, "r.yaml")[0]


def refused(text: str | bytes) -> str:
    with pytest.raises(LoadError) as info:
        if isinstance(text, bytes):
            yamlio.loads(yamlio.decode(text, "r.yaml"), "r.yaml")
        else:
            yamlio.loads(text, "r.yaml")
    return str(info.value)


def test_yaml_12_scalars_stay_strings() -> None:
    data = load("a: no\nb: 0777\nc: 22:30\nd: 12.50\ne: 2026-01-02\nf: yes\ng: true\nh: 0o17\n")
    assert data == {"a": "no", "b": "0777", "c": "22:30", "d": "12.50", "e": "2026-01-02", "f": "yes", "g": True, "h": "0o17"}  # 0o17: text, never 15; 0777: text (a leading zero is kept)


def test_key_lines_are_reported() -> None:
    _, lines = yamlio.loads("# comment\nname: x\n\ntier: A\n", "r.yaml")
    assert lines == {"name": 2, "tier": 4}


@pytest.mark.parametrize("text, message", [
    ("a: !!python/object/apply:os.system [echo hi]\n", "r.yaml:1: YAML tags"),
    ("a: &x 1\nb: *x\n", "anchors"),
    ("a: 1\nb: 2\na: 3\n", "r.yaml:3: invalid YAML: duplicate key 'a'"),
    ("- 1\n- 2\n", "not a mapping"),
    ("", "empty file"),
    ("a: [1, 2\n", "invalid YAML"),
    ("a: !custom x\n", "YAML tags"),
])
def test_unsafe_or_broken_documents_are_refused(text: str, message: str) -> None:
    assert message in refused(text)


def test_billion_laughs_is_refused_before_expansion() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i-1}"] * 9) + "]" for i in range(1, 10)]
    assert "anchors" in refused("\n".join(lines) + "\n")


def test_deep_nesting_is_refused() -> None:
    assert "nesting" in refused("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nesting" in refused("".join(" " * (2 * i) + f"k{i}:\n" for i in range(200)) + " " * 400 + "v: 1\n")


def test_bytes_that_are_not_utf8_nul_and_oversized_are_refused() -> None:
    assert "r.yaml:2: bytes that are not UTF-8" in refused(b"a: 1\nb: \xff\xfe\n")
    assert "r.yaml:2: NUL byte" in refused(b"a: 1\nb: x\x00y\n")
    assert "limited to" in refused(b"a: " + b"x" * (yamlio.MAX_FILE_BYTES + 10))


def test_bom_is_accepted() -> None:
    assert yamlio.loads(yamlio.decode("\ufeffname: 测试\n".encode(), "r.yaml"), "r.yaml")[0] == {"name": "测试"}


def test_rewrite_keeps_comments_and_order() -> None:
    original = "# top comment\ntier: B   # keep me\nname: ACME\nhistory:\n- at: '2026-01-01'\n"
    out = yamlio.dumps({"tier": "A", "name": "ACME", "history": [{"at": "2026-01-01"}, {"at": "2026-02-01"}], "city": "上海"}, original)
    assert out.startswith("# top comment\ntier: A   # keep me\nname: ACME\n")
    assert load(out) == {"tier": "A", "name": "ACME", "history": [{"at": "2026-01-01"}, {"at": "2026-02-01"}], "city": "上海"}


@pytest.mark.parametrize("value", ["no", "yes", "off", "0777", "22:30", "+86 21 1234", "0086", "12.50", "1e3", "null", "~",
                                   "true", "2026-01-02", "- x", "a: b", "#x", "", " lead", "trail ", "@x", "%x", "*x", "&x", "!x"])
def test_ambiguous_strings_are_written_quoted(value: str) -> None:
    for dump in (yamlio.dumps, yamlio.dumps_fast):
        text = dump({"v": value})
        assert load(text) == {"v": value}
        import yaml  # a YAML 1.1 reader must see the same string
        assert yaml.safe_load(text) == {"v": value}, text


scalars = st.one_of(
    st.text(alphabet=string.printable + "中文测试，。ＡＢＣ＃　", max_size=30),
    st.integers(min_value=-10**12, max_value=10**12),
    st.booleans(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
)
keys = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(keys, values, min_size=1, max_size=8))
def test_write_then_read_is_lossless(data: dict) -> None:
    clean = _normalise(data)
    assert load(yamlio.dumps(clean)) == clean
    assert load(yamlio.dumps_fast(clean)) == clean


def _normalise(value):  # the store never keeps \r or lone surrogates; YAML folds \r\n
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, str):
        return value.replace("\r", "").replace("\x0b", "").replace("\x0c", "")
    return value


wide_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
record_values = st.recursive(st.one_of(wide_text, st.integers(), st.booleans(), st.none()),
                             lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3), max_leaves=10)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys | wide_text, record_values, min_size=1, max_size=6))
def test_fast_writer_reads_back_the_same_in_yaml_1_1_and_1_2(data: dict) -> None:
    import yaml

    text, lines = yamlio.dumps_fast_lines(data)
    assert yaml.load(text, Loader=yaml.SafeLoader) == data  # what any other tool on the team reads
    if "\r" not in str(data) and not any(c in str(data) for c in "\x0b\x0c"):
        loaded, loaded_lines = yamlio.loads(text, "r.yaml")
        assert loaded == data
        if lines is not None:  # the lines the writer reports are the lines a reader finds
            assert lines == loaded_lines


def test_fast_writer_writes_the_file_the_round_trip_writer_writes() -> None:
    # so the first hand edit after a batch does not reformat the whole file
    visit = {"account": "acc00060", "rep": "rep00", "date": "2026-12-01", "created": "2026-11-28T03:24:39+08:00",
             "name": "上海 科技", "n": 5, "done": True, "tags": ["a", "b c"], "e": [], "m": {},
             "steps": [{"id": "x", "done": True, "sub": {"a": "b"}, "l": ["q"]}, {"id": "y"}], "phone": "+86 21 1234"}
    assert yamlio.dumps_fast(visit) == yamlio.dumps(visit)


# ---------------------------------------------------------------- YAML 1.1 readers

@pytest.mark.parametrize("value", YAML_1_1_EXAMPLES)
def test_every_yaml_1_1_special_scalar_is_written_quoted(value: str) -> None:
    assert yaml_1_1_special(value) or value[0].isdigit()  # the list is what it says (1e3 is 1.2's float)
    data = {"v": value, "tags": [value, "x"], "m": {"k": value}}
    for text in (yamlio.dumps(data), yamlio.dumps_fast(data), yamlio.dump_data(data), yamlio.dump_data([data])):
        assert_text_stays_text(text, data if not text.startswith("-") else [data])
    assert yamlio.needs_quotes(value)


@pytest.mark.parametrize("key", ["y", "n", "no", "on", "=", "<<", "0777", "null"])
def test_keys_that_yaml_1_1_reads_as_something_else_are_quoted(key: str) -> None:
    # a custom field named `n` would be the boolean key false to a YAML 1.1 reader
    data = {"name": "x", key: "v", "m": {key: 1}}
    for text in (yamlio.dumps(data), yamlio.dumps_fast(data), yamlio.dump_data(data)):
        assert_text_stays_text(text, data)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, texts_that_look_like_something, min_size=1, max_size=6))
def test_any_text_is_read_back_as_the_same_text_by_a_yaml_1_1_reader(data: dict) -> None:
    data = _normalise(data)
    for text in (yamlio.dumps(data), yamlio.dumps_fast(data), yamlio.dump_data(data)):
        assert_text_stays_text(text, data)


@pytest.mark.parametrize("plain, value", [("y", "y"), ("no", "no"), ("1:20", "1:20"), ("~x", "~x"), ("0777", "0777"),
                                          ("1_000", "1_000"), ("0o17", "0o17")])
def test_a_rewrite_quotes_what_a_hand_edit_left_plain(plain: str, value) -> None:
    # a hand-edited `note: no` is text to us; the next write makes it text to every reader
    original = f"# mine\nname: ACME\nnote: {plain}   # keep\ntags: [{plain}, b]\n"
    data = load(original)
    assert data["note"] == value
    out = yamlio.dumps({**data, "name": "ACME Ltd"}, original)
    assert out.startswith("# mine\nname: ACME Ltd\n") and "# keep" in out
    assert_text_stays_text(out, {**data, "name": "ACME Ltd"})


@pytest.mark.parametrize("value", ["\x1f\nline", "x\x85y", "a\u2028b\nc", "tab\x07bell\n"])
def test_control_characters_and_odd_line_breaks_are_written_escaped(value: str) -> None:
    # a `|` block cannot hold \x1f (readers refuse the file) and NEL or U+2028 would read back as a new line
    data = {"notes": value}
    for text in (yamlio.dumps(data), yamlio.dumps_fast(data), yamlio.dump_data(data)):
        assert_text_stays_text(text, data)


# ---------------------------------------------------------------- the fast constructor
class _ReferenceLoader(yamlio._Parser, yamlio._Constructor, yamlio._Resolver12):  # type: ignore[misc,valid-type]
    """crmctl's parser, constructor and resolver rules with PyYAML's own resolve/descend/ascend (no fast path)."""

    def __init__(self, stream: str) -> None:
        yamlio._Parser.__init__(self, stream)
        yamlio._Constructor.__init__(self)
        yamlio._Resolver12.__init__(self)


def _slow(text: str):
    """What PyYAML's own construct_document gives with crmctl's constructor and PyYAML's resolve (the reference for
    yamlio._construct and _Loader.resolve)."""
    loader = _ReferenceLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


_scalars = st.one_of(st.text(max_size=12), st.integers(), st.booleans(), st.none(),
                     st.sampled_from(["12.50", "0777", "0o17", "0x1F", "no", "2026-01-02", "2026-01-02T09:00:00+08:00",
                                      "22:30", "~", "null", "1e3", ".inf", "-0", "TRUE", "007", "-007", "+0", "0"]))
_docs = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                     max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8), _docs, min_size=1, max_size=5), st.booleans())
def test_fast_constructor_gives_what_pyyaml_gives(data: dict, flow: bool) -> None:
    """yamlio.loads builds maps, lists and text itself (speed for --as-of); the result equals the constructor's."""
    import yaml

    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    for shown in (text, text.replace("'", "")):  # quoted and plain scalars
        try:
            expected = _slow(shown)
        except yaml.YAMLError:
            with pytest.raises(LoadError):
                yamlio.loads(shown, "r.yaml")
            continue
        if not isinstance(expected, dict) or not expected:
            continue
        assert yamlio.loads(shown, "r.yaml")[0] == expected


def test_fast_constructor_refuses_duplicates_and_odd_keys_with_their_line() -> None:
    assert refused("a: 1\nb:\n  c: 1\n  c: 2\n").startswith("r.yaml:4: invalid YAML")
    assert "unsupported key" in refused("a: 1\n? [x]\n: 2\n")
    assert "unsupported key" in refused("a: 1\n~: 2\n")


def test_an_impossible_date_is_refused_with_its_line() -> None:
    # before: ValueError escaped the loader (an internal error for a hand-typed 2026-02-30)
    assert refused("a: 1\nclose_date: 2026-02-30\n").startswith("r.yaml:2: invalid YAML: '2026-02-30' is not a valid date")
    assert refused("at: 2026-02-30T10:00:00+08:00\n").startswith("r.yaml:1: invalid YAML: '2026-02-30T10:00:00+08:00'")


def test_an_export_with_an_impossible_date_is_refused_like_a_record() -> None:
    # loads_value (imports of exported lists) read 2026-02-30 as an internal ValueError; records named file and line
    import pytest

    from crmctl.core.errors import LoadError
    from crmctl.core.yamlio import loads, loads_value

    with pytest.raises(LoadError, match=r"x\.yaml:2: .*'2026-02-30' is not a valid date"):
        loads_value("- a: 1\n  day: 2026-02-30\n", "x.yaml")
    with pytest.raises(LoadError, match=r"y\.yaml:2: .*'2026-02-30' is not a valid date"):
        loads("a: 1\nday: 2026-02-30\n", "y.yaml")


_plain_scalars = st.one_of(
    st.text(max_size=14),
    st.text(alphabet="0123456789-+.:eExoTtFfNnul_ ~Z", max_size=14),
    st.sampled_from(["", "~", "null", "Null", "NULL", "true", "False", "0o17", "0x1F", "-.inf", ".NaN", "1e3", "1.",
                     "2026-01-02", "2026-01-02 09:00:00", "2026-01-02T09:00:00+08:00", "+12", "-0", "nul", "trueish"]))


@settings(max_examples=500, deadline=None)
@given(_plain_scalars, st.tuples(st.booleans(), st.booleans()),
       st.sampled_from(["ScalarNode", "SequenceNode", "MappingNode"]))
def test_fast_resolve_tags_as_pyyaml_resolves(value: str, implicit: tuple[bool, bool], kind: str) -> None:
    """_Loader.resolve (asked for every node of a cold read) gives the tag BaseResolver.resolve gives."""
    import yaml
    from yaml.resolver import BaseResolver

    node = getattr(yaml, kind)
    loader = yamlio._Loader("a: 1\n")
    try:
        assert loader.resolve(node, value, implicit) == BaseResolver.resolve(loader, node, value, implicit)
    finally:
        loader.dispose()


def test_read_bytes_follows_the_file_not_the_size_it_was_given(tmp_path) -> None:
    # the size comes from a stat made before the read: the file may have grown or shrunk since
    path = tmp_path / "r.yaml"
    path.write_bytes(b"name: grown since the stat\n")
    assert yamlio.read_bytes(str(path), 4) == b"name: grown since the stat\n"
    assert yamlio.read_bytes(str(path), 4096) == b"name: grown since the stat\n"
    assert yamlio.read_bytes(str(path)) == b"name: grown since the stat\n"
    path.write_bytes(b"")
    assert yamlio.read_bytes(str(path), 10) == b""
    # beyond the limit: one byte more than it, so decode names the file as too big, whatever size was given
    path.write_bytes(b"a" * (yamlio.MAX_FILE_BYTES + 100))
    for size in (None, 3, yamlio.MAX_FILE_BYTES + 100):
        assert len(yamlio.read_bytes(str(path), size)) == yamlio.MAX_FILE_BYTES + 1
    # attack 7, F8: the message said "file is 1048577 bytes" (what was read) for any bigger file; the real size now
    with pytest.raises(LoadError, match=r"r\.yaml:1: file is 1,048,676 bytes; a record is limited to 1 MiB "
                                        r"\(1,048,576 bytes\)$"):
        yamlio.load_path(str(path), "r.yaml", 3)


def test_a_named_pipe_is_refused_as_a_book_file_and_read_whole_when_the_user_names_it(tmp_path) -> None:
    # a book's own file that is a pipe: opening it waited for a writer forever; a --mapping <(...) is a pipe
    import os

    from tests.conftest import fed_pipe

    pipe = tmp_path / "p.yaml"
    os.mkfifo(pipe)
    with pytest.raises(OSError, match="not a plain file"):
        yamlio.read_bytes(str(pipe))
    with pytest.raises(LoadError, match=r"crm\.yaml:1: cannot read: not a plain file"):
        yamlio.load_path(str(pipe), "crm.yaml")
    text = b"columns:\n  Name: name\n" + b"# padding\n" * 10_000  # more than one pipe buffer
    with fed_pipe(tmp_path / "fed.yaml", text) as fed:
        assert yamlio.read_bytes(str(fed), plain=False) == text


def test_messages_say_what_the_file_is_and_its_real_size_or_over_1_mib(tmp_path) -> None:
    # attack 7, F8: a 3 MB record was "1048577 bytes"; a mapping file's messages talked about records
    big = tmp_path / "big.yaml"
    big.write_bytes(b"notes: " + b"a" * 3_000_000 + b"\n")   # 7 + 3,000,000 + 1 = 3,000,008 bytes
    with pytest.raises(LoadError, match=r"big\.yaml:1: file is 3,000,008 bytes; a record is limited to 1 MiB"):
        yamlio.load_path(str(big), "big.yaml")
    with pytest.raises(LoadError, match=r"m:1: file is 3,000,008 bytes; a mapping file is limited to 1 MiB"):
        yamlio.load_path(str(big), "m", plain=False, what="a mapping file")
    with pytest.raises(LoadError, match=r"/dev/zero:1: file is over 1 MiB; a mapping file is limited to 1 MiB"):
        yamlio.load_path("/dev/zero", plain=False, what="a mapping file")  # a device: nothing says its size
    with pytest.raises(LoadError, match=r"m:1: empty file; a mapping file is a YAML mapping$"):
        yamlio.loads("", "m", "a mapping file")
    with pytest.raises(LoadError, match=r"m:2: NUL byte in file; a mapping file is UTF-8 text$"):
        yamlio.decode(b"a: 1\nb: \x00\n", "m", "a mapping file")
    # bytes from elsewhere (a git blob) are all of the file; read_bytes' limit + 1 may be cut: "over"
    with pytest.raises(LoadError, match=r"r:1: file is 1,048,578 bytes; a record is limited"):
        yamlio.decode(b"a" * (yamlio.MAX_FILE_BYTES + 2), "r")
    with pytest.raises(LoadError, match=r"r:1: file is over 1 MiB; a record is limited"):
        yamlio.decode(b"a" * (yamlio.MAX_FILE_BYTES + 1), "r")
