"""Reading and writing record YAML safely.

Reads use PyYAML's C parser with a YAML 1.2 resolver of our own, so a hand
edit of ``no`` or ``0777`` means the same here as in ruamel's round-trip
writer. Everything read becomes plain JSON-compatible data: floats keep their
exact text (money is never a binary float) and dates become ISO strings, so a
record looks the same whether it came from the file or from the index cache.

Writes use ruamel.yaml's round-trip mode so that a hand-edited file keeps its
comments and key order; strings that a YAML 1.1 reader would take for
something else (``no``, ``0777``, ``22:30``, phone numbers, money) are quoted.
"""
from __future__ import annotations

import datetime as _dt
import errno
import functools
import io
import json
import os
import re
import stat
from contextlib import contextmanager
from typing import Any, Iterator

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.resolver import BaseResolver, Resolver

from crmctl.core.errors import LoadError, Problem

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 64
_SUSPECT = re.compile(r"[!&*]")

# the C parser is what makes cold reads fast; setup.cfg requires PyYAML with libyaml
from yaml.cyaml import CParser as _Parser


class _Resolver12(BaseResolver):
    """The YAML 1.2 core schema: no yes/no booleans, no octal 0777, no 22:30."""


_Resolver12.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver12.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_Resolver12.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)
_Resolver12.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Resolver12.add_implicit_resolver(
    "tag:yaml.org,2002:timestamp",
    re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?\s*(?:Z|[-+][0-9]{1,2}(?::?[0-9]{2})?)?)?$"),
    list("0123456789"),
)


class _Constructor(SafeConstructor):
    """Safe constructor that refuses duplicate keys and keeps exact numbers."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise ConstructorError(None, None, "expected a mapping", node.start_mark)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, bool)) or key is None:
                raise ConstructorError(None, None, f"unsupported key {key!r}", key_node.start_mark)
            if key in result:
                raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            result[key] = self.construct_object(value_node, deep=True)
        return result

    def construct_yaml_map(self, node: Any) -> Any:
        yield self.construct_mapping(node)

    def construct_yaml_float(self, node: Any) -> str:
        # exact decimal text; Decimal(text) later, never float
        return str(self.construct_scalar(node))

    def construct_yaml_int(self, node: Any) -> int | str:
        text = str(self.construct_scalar(node)).replace("_", "")
        if text.startswith(("0o", "0x")):
            return text  # crmctl never writes these: kept as text, so `check` names it rather than reading 0x10 as 16
        digits = text.lstrip("+-")
        if (len(digits) > 1 and digits.startswith("0")) or text.startswith("+"):
            # a hand-typed phone 0571123, postcode 012345, `qty: 007` or `qty: +7`: its text, zeros and sign kept (a
            # text field reads it as typed; a number field gets text that `check` refuses with its line, never
            # 571123 or 7 unseen: crmctl writes 7, as it writes money without a sign)
            return text
        return int(text, 10)

    def construct_yaml_timestamp(self, node: Any) -> str:
        value = SafeConstructor.construct_yaml_timestamp(self, node)
        if isinstance(value, _dt.datetime):
            return value.isoformat()
        return value.isoformat()


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_SCALAR, _SEQUENCE = yaml.ScalarNode, yaml.SequenceNode
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _construct(loader: _Constructor, node: Any) -> Any:
    """The data of a composed ``node``, the same as ``construct_document`` gives, about twice as fast.

    Records are maps, lists and text almost only: those are built here
    directly; any other scalar (numbers, booleans, null, dates) goes through
    the constructor's own methods, so the rules stay in one place. Reading
    the book at a past date parses thousands of blobs; this is most of it.
    """
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag == _MAP:
        if not isinstance(node, yaml.MappingNode):
            raise ConstructorError(None, None, "expected a mapping", node.start_mark)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # text keys and values, nearly all of them, without a call each
            key = key_node.value if key_node.tag == _STR else _construct(loader, key_node)
            if not isinstance(key, (str, int, bool)) or key is None:
                raise ConstructorError(None, None, f"unsupported key {key!r}", key_node.start_mark)
            if key in result:
                raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            result[key] = value_node.value if value_node.tag == _STR else _construct(loader, value_node)
        return result
    if tag == _SEQ and isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item) for item in node.value]
    try:
        if tag == _TIMESTAMP and len(node.value) == 10:  # a day (the resolver allows only YYYY-MM-DD): as the constructor
            return _dt.date.fromisoformat(node.value).isoformat()
        return loader.construct_object(node, deep=True)
    except ValueError as exc:  # 2026-02-30: a date that looks like one and is not (it was an internal error)
        raise ConstructorError(None, None, f"{node.value!r} is not a valid date or time ({exc})", node.start_mark) from None


_Constructor.add_constructor("tag:yaml.org,2002:map", _Constructor.construct_yaml_map)
_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)
_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor.construct_yaml_float)
_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)


_IMPLICIT: dict[str, list[tuple[str, re.Pattern[str]]]] = _Resolver12.yaml_implicit_resolvers
assert None not in _IMPLICIT and not _Resolver12.yaml_path_resolvers  # what _Loader.resolve leaves out


class _Loader(_Parser, _Constructor, _Resolver12):  # type: ignore[misc,valid-type]
    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        _Constructor.__init__(self)
        _Resolver12.__init__(self)

    # The C parser asks these three for every node it composes (660,000 times for 60,000 records). The resolver has
    # no path resolvers and no wildcard implicit ones, so the tag of a node depends on its kind, and a plain
    # scalar's also on the implicit resolvers of its first character: BaseResolver.resolve's rule without the
    # branches that cannot apply (a test compares the two on generated scalars).
    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is _SCALAR:
            if implicit[0]:
                for tag, regexp in _IMPLICIT.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return _STR
        return _SEQ if kind is _SEQUENCE else _MAP

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


def _refuse_tags_and_anchors(text: str, path: str) -> None:
    """Walk the event stream; refuse tags, anchors, aliases and deep nesting."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        line = event.start_mark.line + 1 if event.start_mark else 1
        if isinstance(event, yaml.AliasEvent):
            raise LoadError(Problem(path, line, "YAML aliases (*name) are not allowed in records; write the value out"))
        anchor = getattr(event, "anchor", None)
        if anchor:
            raise LoadError(Problem(path, line, "YAML anchors (&name) are not allowed in records; write the value out"))
        tag = getattr(event, "tag", None)
        if tag and not (isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)) and event.implicit):
            raise LoadError(Problem(path, line, f"YAML tags ({tag}) are not allowed in records; remove the tag"))
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise LoadError(Problem(path, line, f"nesting deeper than {MAX_DEPTH} levels; records are shallow"))
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _deep_suspect(text: str) -> bool:
    # a cheap upper bound on nesting: flow brackets or deep indentation
    return text.count("[") + text.count("{") > MAX_DEPTH or "\n" + " " * (2 * MAX_DEPTH) in text


RECORD = "a record"  # what a file read here is, for its messages ("a mapping file", "crm.yaml", ...)


def too_big(size: int | None, what: str = RECORD) -> str:
    """The message for a file over :data:`MAX_FILE_BYTES`: its real ``size`` when known, else "over 1 MiB"."""
    shown = "over 1 MiB" if size is None else f"{size:,} bytes"
    return f"file is {shown}; {what} is limited to 1 MiB ({MAX_FILE_BYTES:,} bytes)"


def decode(raw: bytes, path: str, what: str = RECORD, size: int | None = None) -> str:
    """Bytes to text, refusing what is not UTF-8 (with a line number); ``what`` the file is (a record, a
    mapping file) words the messages. ``raw`` may be cut at ``MAX_FILE_BYTES + 1`` (:func:`read_bytes`):
    ``size`` is then the file's real size when the caller knows it."""
    if len(raw) > MAX_FILE_BYTES:
        whole = len(raw) > MAX_FILE_BYTES + 1  # more than read_bytes gives: all of it
        raise LoadError(Problem(path, 1, too_big(size if size is not None else len(raw) if whole else None, what)))
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise LoadError(Problem(path, line, f"NUL byte in file; {what} is UTF-8 text"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LoadError(Problem(path, line, "bytes that are not UTF-8; save the file as UTF-8")) from None
    return text[1:] if text.startswith("\ufeff") else text


def _refuse_unsafe(text: str, path: str) -> None:
    """Refuse tags, anchors, aliases and deep nesting before the loader sees them (a cheap scan first)."""
    if _SUSPECT.search(text) or _deep_suspect(text):
        try:
            _refuse_tags_and_anchors(text, path)
        except yaml.YAMLError as exc:
            raise LoadError(_problem_from(exc, path)) from None


def loads(text: str, path: str = "<string>", what: str = RECORD) -> tuple[dict[str, Any], dict[str, int]]:
    """Parse one record document (or another mapping file: ``what`` it is words the messages); return its
    mapping and each top-level key's line."""
    _refuse_unsafe(text, path)
    loader = _Loader(text)
    with _reading(loader, path):
        node = loader.get_single_node()
        if node is None:
            raise LoadError(Problem(path, 1, f"empty file; {what} is a YAML mapping"))
        if not isinstance(node, yaml.MappingNode):
            raise LoadError(Problem(path, node.start_mark.line + 1, "the document is not a mapping of field: value"))
        lines: dict[str, int] = {}
        for key_node, _ in node.value:
            lines[str(key_node.value)] = key_node.start_mark.line + 1
        data = _construct(loader, node)
    return data, lines


@contextmanager
def _reading(loader: _Loader, path: str) -> Iterator[None]:
    """Parse errors of ``loader`` as :class:`LoadError` with their line; the loader is disposed of either way."""
    try:
        yield
    except yaml.YAMLError as exc:
        raise LoadError(_problem_from(exc, path)) from None
    except RecursionError:
        raise LoadError(Problem(path, 1, "nesting too deep")) from None
    finally:
        loader.dispose()


def line_of(text: str, keys: tuple[str | int, ...], at_key: bool = False) -> int | None:
    """The 1-based line of the value at ``keys`` (mapping keys and list indexes: ``("lines", 0, "qty")``) in a
    record's ``text`` already loaded by :func:`loads`, or None when it is not there (``at_key``: the line of the
    last key itself, where a block value starts below it). For messages only: it composes the document again, so
    callers use it on the way to an error, never per record."""
    try:
        node = _Loader(text).get_single_node()
    except yaml.YAMLError:
        return None
    for n, key in enumerate(keys, 1):
        if isinstance(node, yaml.MappingNode) and isinstance(key, str):
            pair = next(((k, v) for k, v in node.value if str(k.value) == key), None)
            if pair is not None and at_key and n == len(keys):
                return pair[0].start_mark.line + 1
            node = pair[1] if pair is not None else None
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            node = node.value[key]
        else:
            return None
        if node is None:
            return None
    return node.start_mark.line + 1


def loads_value(text: str, path: str = "<string>") -> Any:
    """One YAML document of any shape (an export's list of records) read by the records' rules:
    YAML 1.2 scalars, no tags, anchors or aliases, shallow nesting; values built by the same :func:`_construct` as
    records, so an impossible date (2026-02-30) is refused here too. Errors are :class:`LoadError`."""
    _refuse_unsafe(text, path)
    loader = _Loader(text)
    with _reading(loader, path):
        node = loader.get_single_node()
        return None if node is None else _construct(loader, node)


def read_bytes(path: str, size: int | None = None, plain: bool = True) -> bytes:
    """The bytes of the file at ``path``, at most ``MAX_FILE_BYTES + 1`` (so :func:`decode` can name a bigger one).

    ``size`` is the file's size as a stat just found it (the caller's listing), else one ``fstat`` finds it;
    ``os.read`` allocates what it is asked for, so it is asked for that and one more byte, never the limit, and a
    file that grew since is read on to its end (or the limit). Plain descriptors: a cold read opens 60,000
    files, and a buffered file object for each cost 6 µs.

    ``plain``: a book's own file (a record, crm.yaml) must be a plain file — a folder or a named pipe there is
    refused at once (opening a pipe waited for a writer forever); when a ``size`` is given, the caller's stat
    has said so already. A file the user names (``--mapping <(curl ...)``) may be a pipe: ``plain=False`` reads
    whatever it is to its end. Errors are ``OSError``.
    """
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | (os.O_NONBLOCK if plain else 0)
    fd = os.open(path, flags)
    try:
        if size is None:
            st = os.fstat(fd)
            if plain and not stat.S_ISREG(st.st_mode):
                raise OSError(errno.EINVAL, "not a plain file")
            size = st.st_size if stat.S_ISREG(st.st_mode) else 0
        limit = MAX_FILE_BYTES + 1
        chunks = [os.read(fd, min(size + 1, limit))]
        got = len(chunks[0])
        while size < got < limit:  # larger than it was (or a stream): read on to its end
            more = os.read(fd, min(limit - got, 1 << 16))
            if not more:
                break
            chunks.append(more)
            got += len(more)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


def load_path(path: str, display: str | None = None, size: int | None = None,
              plain: bool = True, what: str = RECORD) -> tuple[dict[str, Any], dict[str, int]]:
    """Read and parse one file (``size``, ``plain``: see :func:`read_bytes`; ``what`` it is: see :func:`decode`);
    every failure is a :class:`LoadError` with a line."""
    shown = display or path
    return load_raw(read_path(path, shown, size, plain), shown, what, path)


def read_path(path: str, shown: str, size: int | None = None, plain: bool = True) -> bytes:
    """:func:`read_bytes`, its failure a :class:`LoadError` naming ``shown``."""
    try:
        return read_bytes(path, size, plain)
    except OSError as exc:
        raise LoadError(Problem(shown, 1, f"cannot read: {exc.strerror}")) from None


def load_raw(raw: bytes, shown: str, what: str = RECORD, path: str | None = None) -> tuple[dict[str, Any], dict[str, int]]:
    """Parse the bytes of one file (read by :func:`read_path`, or from stdin); ``path``, when there is one, gives the
    real size of a file too big (:func:`decode`)."""
    size = _real_size(path) if path is not None and len(raw) > MAX_FILE_BYTES else None
    return loads(decode(raw, shown, what, size), shown, what)


def _real_size(path: str) -> int | None:
    """A plain file's size as it is now (None for a pipe or a device, whose size nothing says): only for the
    message of one that is too big (:func:`read_bytes` reads no further than the limit)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) and st.st_size > MAX_FILE_BYTES else None


def _problem_from(exc: yaml.YAMLError, path: str) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return Problem(path, line, f"invalid YAML: {reason}")


# ---------------------------------------------------------------- writing

# what a YAML reader refuses raw or takes for a line break (\x85, \u2028): written escaped in double quotes
_UNPRINTABLE = re.compile("[^\t\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]")
_NEEDS_QUOTES = re.compile(r"^[\s0-9+\-.:(#]|[:#]\s|\s$|^$|^[\[\]{}&*!|>'\"%@`,?]")

# The plain scalars that are not strings to a YAML 1.1 reader, as the YAML 1.1 type
# repository (yaml.org/type) defines them. PyYAML's resolver leaves out y/Y/n/N;
# other readers (Go's yaml.v2, SnakeYAML, libyaml-based tools) take those for booleans.
YAML11_IMPLICIT: dict[str, re.Pattern[str]] = {
    "bool": re.compile(r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"),
    "int": re.compile(r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
                      r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"),
    "float": re.compile(r"[-+]?(?:[0-9][0-9_]*)?\.[0-9.]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*"
                        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"),
    "null": re.compile(r"~|null|Null|NULL|"),
    "timestamp": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
                            r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}"
                            r"(?:\.[0-9]*)?(?:[ \t]*Z|[ \t]*[-+][0-9]{1,2}(?::[0-9]{2})?)?"),
    "merge": re.compile(r"<<"),
    "value": re.compile(r"="),
}
_YAML11_READERS = (Resolver(), _Resolver12())  # PyYAML's YAML 1.1 resolver, and the YAML 1.2 one we read with


@functools.lru_cache(maxsize=8192)  # a batch writes the same statuses, owners and types thousands of times
def needs_quotes(value: str) -> bool:
    """True when a YAML 1.1 or 1.2 reader could take ``value`` for a non-string.

    Such a string is written double-quoted by every writer here, so ``y``,
    ``no``, ``0777``, ``1:20``, ``~``, ``.inf``, ``2001-12-14``, ``=`` and ``<<``
    stay text in any tool that reads the file.
    """
    if (_NEEDS_QUOTES.search(value) or _UNPRINTABLE.search(value)
            or any(p.fullmatch(value) for p in YAML11_IMPLICIT.values())):
        return True
    return any(r.resolve(yaml.ScalarNode, value, (True, False)) != "tag:yaml.org,2002:str" for r in _YAML11_READERS)


def _rt_yaml() -> Any:
    from ruamel.yaml import YAML

    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.allow_unicode = True
    rt.width = 4096
    rt.indent(mapping=2, sequence=2, offset=0)  # the same layout PyYAML's fast dumper writes
    return rt


def _literal_ok(value: str) -> bool:
    """Multi-line text as a ``|`` block, unless a line starts with a tab (which a block cannot hold)
    or it holds a character a block cannot (a control character, or a line break other than ``\n``)."""
    return "\n" in value and not _TAB_LINE.search(value) and not _UNPRINTABLE.search(value.replace("\n", ""))


_TAB_LINE = re.compile(r"(?:^|\n)\t")


def _to_ruamel(value: Any) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

    if isinstance(value, dict):
        out = CommentedMap()
        for key, item in value.items():
            out[_ruamel_key(key)] = _to_ruamel(item)
        return out
    if isinstance(value, (list, tuple)):
        return CommentedSeq(_to_ruamel(item) for item in value)
    if isinstance(value, str):
        if _literal_ok(value):
            return LiteralScalarString(value if value.endswith("\n") else value)
        if needs_quotes(value):
            return DoubleQuotedScalarString(value)
        return value
    return value


def _plain(value: Any) -> Any:
    """ruamel's round-trip objects back to plain data, to compare old and new."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return str(value)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return str(value)


def _misread(node: Any) -> bool:
    """True when a hand-edited node holds a scalar a YAML 1.1 reader takes for something else.

    A plain ``no``, ``y`` or ``1:20`` is text to us but a boolean or a number
    to YAML 1.1; a plain ``0777`` or ``1_000`` is 777 and 1000 to us but 511
    and 1000 to it. Rewriting such a node writes it the one unambiguous way.
    """
    if isinstance(node, dict):
        return any(_misread(v) for v in node.values())
    if isinstance(node, list):
        return any(_misread(v) for v in node)
    if type(node) is str:
        return needs_quotes(node)
    return isinstance(node, int) and not isinstance(node, bool) and type(node) is not int  # ruamel's 0777, 0o17, 1_000


def _merge_into(target: Any, new: dict[str, Any]) -> None:
    """Update a round-trip mapping in place, keeping untouched nodes (and their comments)."""
    for key in list(target.keys()):
        if key not in new:
            del target[key]
    for key, value in new.items():
        if key in target:
            old = target[key]
            if _plain(old) == value and not _misread(old):
                continue
            if isinstance(old, dict) and isinstance(value, dict):
                _merge_into(old, value)
                continue
            if (isinstance(old, list) and isinstance(value, list) and _plain(list(old)) == value[: len(old)]
                    and not _misread(old)):
                for item in value[len(old):]:
                    old.append(_to_ruamel(item))
                continue
        target[key if key in target else _ruamel_key(key)] = _to_ruamel(value)


def _ruamel_key(key: Any) -> Any:
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    return DoubleQuotedScalarString(key) if isinstance(key, str) and needs_quotes(key) else key


def dumps(data: dict[str, Any], original: str | None = None) -> str:
    """Serialise ``data``; when ``original`` text is given, keep its comments and order."""
    rt = _rt_yaml()
    if original is not None:
        doc = rt.load(original)
        _merge_into(doc, data)
    else:
        doc = _to_ruamel(data)
    buf = io.StringIO()
    rt.dump(doc, buf)
    return buf.getvalue()


def dumps_fast(data: dict[str, Any]) -> str:
    """Serialise a new record quickly (batch imports and plans); same quoting rules as :func:`dumps`."""
    return dumps_fast_lines(data)[0]


def dumps_fast_lines(data: dict[str, Any]) -> tuple[str, dict[str, int] | None]:
    """:func:`dumps_fast`, with the line of each top-level key when it is known for free.

    Most records are flat mappings of short strings and numbers; writing those
    directly takes a tenth of the time of a YAML emitter, which matters when a
    plan or an import writes ten thousand files. Anything unusual (multi-line
    or unprintable text, floats, nested lists) goes through PyYAML instead.
    """
    try:
        out: list[str] = []  # one line per item
        lines: dict[str, int] = {}
        for key, value in data.items():
            lines[key] = len(out) + 1
            _emit_value(f"{_key(key)}:", value, "", out)
        return "".join(out), lines
    except _Unusual:
        return dump_data(data), None


def dump_data(data: Any) -> str:
    """Any JSON-like data (a record, a list of rows) as block YAML, strings quoted as in record files.

    For ``--format yaml`` output and the unusual records :func:`dumps_fast` cannot write itself.
    """
    return yaml.dump(data, Dumper=_FastDumper, allow_unicode=True, sort_keys=False, width=4096, default_flow_style=False)


class _Unusual(Exception):
    """A value :func:`dumps_fast` leaves to PyYAML."""


# plain only when it is words and a little punctuation: nothing a YAML reader treats as syntax
_PLAIN_SAFE = re.compile(r"[\w\-.@/+]+(?: [\w\-.@/+]+)*")


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        if _PLAIN_SAFE.fullmatch(value) and not needs_quotes(value):
            return value  # type: ignore[no-any-return]
        if len(value) < 1000 and value.isprintable():
            # a JSON string is a valid YAML double-quoted scalar, escapes included
            return json.dumps(value, ensure_ascii=False)
    elif kind is bool:
        return "true" if value else "false"
    elif kind is int:
        return str(value)
    elif value is None:
        return "null"
    raise _Unusual


def _key(key: Any) -> str:
    if type(key) is not str or not _PLAIN_SAFE.fullmatch(key):
        raise _Unusual
    return json.dumps(key) if needs_quotes(key) else key  # a key `n` or `no` is a boolean to YAML 1.1


def _emit_mapping(data: dict[str, Any], indent: str, out: list[str]) -> None:
    for key, value in data.items():
        _emit_value(f"{indent}{_key(key)}:", value, indent, out)


def _emit_value(head: str, value: Any, indent: str, out: list[str]) -> None:
    """``head`` is ``key:``; a block value goes on the lines below it (lists at the key's own indent, as PyYAML writes them)."""
    if isinstance(value, dict):
        if not value:
            out.append(f"{head} {{}}\n")
            return
        out.append(f"{head}\n")
        _emit_mapping(value, indent + "  ", out)
    elif isinstance(value, list):
        if not value:
            out.append(f"{head} []\n")
            return
        out.append(f"{head}\n")
        for item in value:
            if isinstance(item, dict) and item:
                first = True
                for key, sub in item.items():
                    _emit_value(f"{indent}{'- ' if first else '  '}{_key(key)}:", sub, indent + "  ", out)
                    first = False
            elif isinstance(item, (dict, list)):
                raise _Unusual
            else:
                out.append(f"{indent}- {_scalar(item)}\n")
    else:
        out.append(f"{head} {_scalar(value)}\n")


_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _FastDumper(_BaseDumper):  # type: ignore[misc,valid-type]
    """PyYAML's C dumper with our string quoting."""


def _represent_str(dumper: Any, value: str) -> Any:
    if _literal_ok(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    style = '"' if needs_quotes(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_FastDumper.add_representer(str, _represent_str)
