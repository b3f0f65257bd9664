"""Turn run records into plain, stable, redacted data: what the audit log and snapshots print.

Nothing a run produces is reproducible byte for byte: thread ids, interrupt ids (hashes of
checkpoint ids), tool call ids, message ids (uuid4 / uuid7) and checkpoint ids all change between
identical runs. A `Normaliser` replaces each id with a label (`thread-1`, `interrupt-1`,
`call-1`, ...) numbered by first appearance, also where the raw id shows up inside a string (an
error message naming a call), and masks the values of secret-looking keys (`password`, `token`,
...) wherever they sit, together with every later occurrence of such a value in any string.

Every string it emits also goes through `stable_text`, which removes what changes with a
third-party release, a machine or a run but carries no meaning for the test: library versions
(`pydantic 2.14.4`, the `/2.13/` in `https://errors.pydantic.dev/2.13/v/...`), memory addresses
(`at 0x7f3a...`), absolute paths of this machine (site-packages, the standard library, the
virtualenv, the working directory, pytest's numbered `tmp_path`; not `/tmp` or a home folder,
which a tool's arguments name as data), and
wall-clock durations with a fraction (`in 0.23s`). Durations on the frozen clock (`after 300 s`)
are whole numbers and stay.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import sys
import sysconfig
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from types import EllipsisType
from typing import Any, Literal

IdKind = Literal["thread", "interrupt", "call", "message", "checkpoint", "id"]

DEFAULT_REDACTED: frozenset[str] = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "token",
        "api_key",
        "apikey",
        "secret",
        "authorization",
        "auth",
        "credential",
        "credentials",
        "private_key",
        "cookie",
        "bearer",
    }
)
"""Keys whose values are masked by default. A key matches when its words (split at `_`, `-`,
`.`, spaces and camelCase, compared case-insensitively) contain the entry's words in a row:
`token` matches `access_token` and `refreshToken` but not `max_tokens`, `api_key` matches
`X-Api-Key`. Words run together count at the end of a word: `accesstoken`, `dbpassword`,
`privatekey` match; `author` does not match `auth`. The entry `bearer` masks the credential
of `Bearer <token>` in any string."""
MASK = "***"

_UNKNOWN_ID = re.compile(
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b[0-9a-f]{32}\b"
)
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+\b")
_VERSIONED_URL = re.compile(r"(https?://[^\s'\"<>]*?/)v?\d+(?:\.\d+)+(?=/)")
_LIBRARIES = (
    r"python|cpython|pypy|pydantic(?:[-_]core)?|pydantic[-_]settings|typing[-_]extensions"
    r"|lang(?:chain|graph|smith)(?:[-_][a-z]+)*|deepagents|hitl[-_]sim|pytest(?:[-_][a-z]+)*"
    r"|hypothesis|syrupy|freezegun|time[-_]machine|pyyaml|psycopg\d?|httpx|openai|anthropic"
)
_LIBRARY_VERSION = re.compile(
    rf"(?i)\b({_LIBRARIES})(\s*(?:==|>=|<=|~=|/|-|\s|\s?v)\s*)"
    r"\d+(?:\.\d+)+(?:(?:a|b|rc|\.post|\.dev)\d+)?(?:\+[\w.]+)?\b"
)
_DURATION = re.compile(
    r"\b\d+\.\d{2,}\s?(?:s|ms|µs|us|ns|sec|secs|seconds|milliseconds)\b", re.IGNORECASE
)
_TEMP = {tempfile.gettempdir(), os.path.realpath(tempfile.gettempdir())}
_PYTEST_TMP = re.compile(
    rf"(?:{'|'.join(map(re.escape, sorted(_TEMP)))})/pytest-of-[^/\s]+/pytest-\d+/(?:popen-gw\d+/)?"
)
"""pytest's numbered `tmp_path` root (and xdist worker folder), which changes with every run."""
_MIN_SECRET = 4
"""Shorter secret values are masked under their key but not hunted for inside other strings."""
_LOOKS_GENERATED = re.compile(r"^(?=.*\d).{6,}$")
"""A raw id is replaced inside strings only if it looks generated (6+ characters, a digit), so a
thread named `main` does not rename every `main` in the messages."""


RedactOption = Iterable[str] | EllipsisType | None
"""A `redact=` option: the keys to mask, `...` for the run's own (`simulate(redact=...)`), or
None to mask nothing."""


def run_normaliser(
    run: Any, redact: RedactOption = ..., *, normalise_ids: bool = True
) -> Normaliser:
    """A normaliser for the outputs of `run` that masks `redact` (`...`: the run's keys) and
    already knows every secret the run saw, so that an echo anywhere is masked."""
    keys = getattr(run, "redact", DEFAULT_REDACTED) if redact is ... else redact
    norm = Normaliser(redact=keys, normalise_ids=normalise_ids)
    norm.learn(run)
    return norm


class _Label(str):
    """A label already given; the final string pass leaves it alone."""

    __slots__ = ()


def redaction_keys(keys: Iterable[str] | None) -> frozenset[str]:
    """The normalised set of keys to mask (`None` means none)."""
    if isinstance(keys, str):
        keys = (keys,)
    return frozenset(_key(k) for k in keys or ())


def _key(key: object) -> str:
    return "_".join(_words(key))


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def _words(key: object) -> tuple[str, ...]:
    text = _CAMEL.sub("_", str(key)).lower()
    return tuple(word for word in _NOT_ALNUM.split(text) if word)


_default_redacted: list[frozenset[str]] = [DEFAULT_REDACTED]


def default_redacted() -> frozenset[str]:
    """The keys a run masks when `simulate(redact=...)` is not given: `DEFAULT_REDACTED`, or
    what `redacting(...)` (the pytest ini option `hitl_sim_redact`) set."""
    return _default_redacted[-1]


@contextmanager
def redacting(keys: Iterable[str] | None) -> Iterator[None]:
    """Inside the block, runs mask `keys` by default (the plugin's `hitl_sim_redact`)."""
    _default_redacted.append(frozenset(keys or ()))
    try:
        yield
    finally:
        _default_redacted.pop()


_BEARER = re.compile(r"(?i)\b(bearer|basic|token)(\s+)([A-Za-z0-9\-._~+/]{4,}=*)")
_PAIR = re.compile(
    r"""(?<![A-Za-z])(?P<key>[A-Za-z][\w.-]{0,63})(?P<kq>\\?["']?)"""
    r"""(?P<sep>[ \t]*(?:=>|:=|[:=])[ \t]*)"""
)
"""The head of a pair: `key: `, `key=`, `key = `, `key => `, `key := `, `"key": `, `'key': ` (also
JSON escaped in JSON). A key starts a word and is at most 64 characters, so that a search does
not read a long word once per character."""
_VALUE = re.compile(
    r"""(?P<q>["'])(?P<quoted>(?:\\.|(?!(?P=q))[^\\\n])*)(?P=q)"""
    r"""|(?P<eq>\\["'])(?P<equoted>.*?)(?P=eq)"""
    r"""|(?P<open>\\?["'])?(?P<bare>[^\s"',;&)}\]\\]+)"""
)
"""The value after the head of a pair: a quoted string (escapes honoured), or a bare token that
ends at whitespace, a quote, `,` `;` `&` `)` `}` `]` or a backslash."""
_LINE_END = re.compile(r"[\r\n]|\\[nr]")
"""Where the value of a `key: value` line ends: a line break, or a `\\n` escape in repr'd text."""
_CLOSING = {quote: re.compile(rf"(?<!\\){quote}") for quote in "'\""}
"""The closing quote of a header quoted whole (`-H 'Authorization: ...'`), not an escaped one."""
_SCHEME_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")
"""What an auth scheme looks like (`token`, `Digest`, `AWS4-HMAC-SHA256`): any such word before a
credential starts the value, known or not."""
_PARAM = r"""[\w-]+=(?:"(?:\\.|[^"\\\n])*"|[^\s"',)}\]\\]+)"""
_CREDENTIAL = re.compile(
    rf"[ \t]+(?:(?P<params>{_PARAM}(?:[ \t]*,[ \t]*{_PARAM})+)|(?P<token68>[\w\-.~+/]+=*))"
    r"""(?=[\s"',;&)}\]\\]|$)"""
)
"""The credential after a scheme word in a `key=value` value: auth-params (`Credential=...,
Signature=...`, two or more) or a token68 that looks generated (`ghp_R3al...`)."""
_SCHEMES = frozenset(
    {
        "basic", "bearer", "concealed", "digest", "dpop", "gnap", "hoba", "mutual", "negotiate",
        "ntlm", "oauth", "privatetoken", "scram-sha-1", "scram-sha-256", "vapid", "token",
        "aws4-hmac-sha256",
    }
)  # fmt: skip
"""Schemes whose word stays readable in front of the mask (`Authorization: token ***`). The list
only decides what stays readable: an unknown scheme is masked with its credential."""
_PIECES = re.compile(r"""[\s,;="']+""")
_MAX_PARSE = 1_000_000
"""Longer strings are not parsed as JSON when looking for secrets."""
_MAX_DEPTH = 40


@dataclasses.dataclass(frozen=True)
class _Found:
    """A secret value in a text: `text[start:end]` (`value`) is shown as `shown`."""

    start: int
    end: int
    value: str
    shown: str


def _shown(value: str) -> str:
    """The mask of a value: a known scheme word stays in front (`token ***`), all else goes."""
    words = value.split(None, 1)
    if len(words) == 2 and words[0].lower() in _SCHEMES:
        return f"{words[0]} {MASK}"
    return MASK


def _secret_parts(value: str) -> set[str]:
    """What to remember of a secret value found in text, to mask its echoes: the value (without a
    known scheme word), its first word, and every generated-looking piece (`Signature=<hex>`)."""
    value = value.strip()
    words = value.split(None, 1)
    scheme = len(words) == 2 and words[0].lower() in _SCHEMES
    credential = words[1] if scheme else value
    parts = {credential} if scheme else {value, *words[:1]}
    if len(words) == 2:
        pieces = _PIECES.split(credential)
        parts.update(piece for piece in pieces if _LOOKS_GENERATED.search(piece))
    return {
        part
        for part in parts
        if len(part) >= _MIN_SECRET and MASK not in part and part.lower() not in _WORDS_KEPT
    }


def _escaped_forms(secret: str) -> set[str]:
    """The secret as it appears in text: as is, and escaped the way JSON (a tool result
    LangChain serialised, a JSON line) and Python's repr (the timeline) write a string holding
    quotes, backslashes or control characters."""
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    forms.add(repr(secret)[1:-1])
    # repr quotes with ' unless the text holds ' and not "; inside a longer repr'd string (a
    # message's content) the secret may sit between ' quotes all the same, its ' escaped:
    forms.add(repr(secret + "'")[1:-1].removesuffix("\\'"))
    return {form for form in forms if form}


class Redactor:
    """Finds secrets and masks them, for every output channel of a run.

    A secret is a value under a secret-looking key (see `DEFAULT_REDACTED`) at any depth,
    including keys inside JSON-encoded strings (a tool result LangChain turned into JSON) and
    pairs in text, masked to the end of the value (`_pair_value`: a quoted value whole, the rest
    of the line after `key:` / `key = ` / `key => `, one token after `key=`, and the credential
    after any scheme word: `Authorization: token ghp_...`), or the credential of a `Bearer`
    header anywhere.
    `learn(value)` collects the secrets of any data (a `Run`, messages, dicts, exceptions);
    `text(s)` masks, in `s`, every secret pair and every value learnt (strings and the string
    form of numbers of at least four characters), wherever it is echoed.
    """

    def __init__(self, keys: Iterable[str] | None = DEFAULT_REDACTED) -> None:
        self.keys = redaction_keys(keys)
        self._phrases = tuple(tuple(key.split("_")) for key in self.keys if key)
        self.bearer = "bearer" in self.keys
        self.secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._pattern_of: frozenset[str] = frozenset()
        self._secret_keys: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self.keys)

    def is_secret(self, key: object) -> bool:
        """Whether values under `key` are masked."""
        if not self._phrases:
            return False
        if isinstance(key, str) and key in self._secret_keys:
            return self._secret_keys[key]
        words = _words(key)
        # A phrase's words in a row (`access_token`), or its words run together at the end of
        # one word (`accesstoken`, `dbpassword`, `privatekey`): not at the start, where
        # `auth` would take `author`.
        secret = any(
            words[i : i + len(phrase)] == phrase
            for phrase in self._phrases
            for i in range(len(words) - len(phrase) + 1)
        ) or any(word.endswith("".join(phrase)) for phrase in self._phrases for word in words)
        if isinstance(key, str) and len(self._secret_keys) < 10_000:
            self._secret_keys[key] = secret
        return secret

    def remember(self, value: Any, depth: int = 0) -> None:
        """Add `value` (a secret, or a structure holding secrets) to what `text` masks."""
        if depth > _MAX_DEPTH or isinstance(value, bool) or value is None:
            return
        if isinstance(value, int | float | str):
            text = value if isinstance(value, str) else str(value)
            if len(text) >= _MIN_SECRET:
                self.secrets.update(_escaped_forms(text))
            if isinstance(value, str):
                self.learn(value, depth + 1)
        elif isinstance(value, Mapping):
            for item in value.values():
                self.remember(item, depth + 1)
        elif isinstance(value, list | tuple | set | frozenset):
            for item in value:
                self.remember(item, depth + 1)

    def learn(self, value: Any, depth: int = 0, _seen: set[int] | None = None) -> None:
        """Collect the secrets held anywhere in `value` (a `Run` and its records too)."""
        if not self.keys or depth > _MAX_DEPTH or value is None:
            return
        if isinstance(value, str):
            self._learn_text(value, depth)
            return
        if isinstance(value, bool | int | float | bytes):
            return
        seen = set() if _seen is None else _seen
        if id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, Mapping):
            for key, item in list(value.items()):
                if self.is_secret(key):
                    self.remember(item, depth + 1)
                else:
                    self.learn(item, depth + 1, seen)
        elif isinstance(value, list | tuple | set | frozenset):
            for item in list(value):
                self.learn(item, depth + 1, seen)
        elif isinstance(value, BaseException):
            self.learn(value.args, depth + 1, seen)
            self._learn_text(str(value), depth + 1)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for f in dataclasses.fields(value):  # a record's field named like a secret is one
                item = getattr(value, f.name, None)
                if self.is_secret(f.name):
                    self.remember(item, depth + 1)
                else:
                    self.learn(item, depth + 1, seen)
        elif hasattr(type(value), "model_fields") and hasattr(value, "__dict__"):  # pydantic
            self.learn(dict(vars(value)), depth + 1, seen)

    def _learn_text(self, text: str, depth: int) -> None:
        stripped = text.strip()
        if stripped[:1] in ("{", "[") and len(stripped) <= _MAX_PARSE:
            try:
                parsed = json.loads(stripped)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict | list):
                self.learn(parsed, depth + 1)
        if self.bearer:
            for match in _BEARER.finditer(text):
                if match.group(1).lower() in ("bearer", "basic"):
                    self.secrets.add(match.group(3))
        for found in self._secret_values(text):
            self.secrets.update(_secret_parts(found.value))

    def text(self, text: str) -> str:
        """`text` with every secret pair, `Bearer` credential and learnt secret masked."""
        text = self.mask_pairs(text)
        pattern = self.pattern()
        return text if pattern is None or not text else pattern.sub(MASK, text)

    def mask_pairs(self, text: str) -> str:
        """`text` with the values of secret `key=value` pairs and `Bearer` credentials masked."""
        if not self.keys or not text:
            return text
        if self.bearer and ("earer" in text or "asic" in text):
            text = _BEARER.sub(
                lambda m: (
                    m.group(1) + m.group(2) + MASK
                    if m.group(1).lower() in ("bearer", "basic")
                    else m.group(0)
                ),
                text,
            )
        parts: list[str] = []
        last = 0
        for found in self._secret_values(text):
            parts += (text[last : found.start], found.shown)
            last = found.end
        return "".join(parts) + text[last:] if parts else text

    def _secret_values(self, text: str, offset: int = 0) -> Iterator[_Found]:
        """The values of the secret pairs of `text`, in order (positions shifted by `offset`).

        A pair under a key that is not secret is looked into: its quoted value (`content='...
        client_secret=...'`) as a text of its own, anything else as the text that follows
        (`url=https://host/?token=...`, `note: password=...`)."""
        pos = 0
        while pos < len(text) and (head := _PAIR.search(text, pos)) is not None:
            if self.is_secret(head["key"]):
                found = _pair_value(text, head, _VALUE.match(text, head.end()))
                if found is not None:
                    yield dataclasses.replace(
                        found, start=found.start + offset, end=found.end + offset
                    )
                pos = max(head.end(), found.end if found else 0)
                continue
            pos = head.end()
            if text[pos : pos + 1] in ("'", '"', "\\"):  # `content='...'`: a text of its own
                value = _VALUE.match(text, pos)
                quoted = _quoted(value)
                if value is not None and quoted is not None:
                    inner = value[quoted]
                    if ":" in inner or "=" in inner:
                        yield from self._secret_values(inner, offset + value.start(quoted))
                    pos = value.end()

    def pattern(self) -> re.Pattern[str] | None:
        """The pattern of every learnt secret (longest first, not inside a longer word)."""
        if not self.secrets:
            return None
        if self._pattern is None or self._pattern_of != self.secrets:
            self._pattern_of = frozenset(self.secrets)
            alternatives = "|".join(re.escape(s) for s in sorted(self.secrets, key=len)[::-1])
            self._pattern = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")
        return self._pattern

    def data(self, value: Any) -> Any:
        """A copy of plain data (dicts, lists, strings) with secrets masked."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: MASK if self.is_secret(k) else self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return (
                type(value)(self.data(v) for v in value)
                if isinstance(value, list)
                else tuple(self.data(v) for v in value)
            )
        return value


_WORDS_KEPT = frozenset(
    {"true", "false", "none", "null", "required", "optional", "str", "int", "bearer", "basic"}
)
"""Bare words after a secret key that are not secrets (`token: str`, `password=None`, the
scheme of `Authorization: Bearer ...`)."""


_NOT_SCHEMES = _WORDS_KEPT - _SCHEMES
_ANNOTATION_END = frozenset(",;)]}")


def _quoted(value: re.Match[str] | None) -> str | None:
    """The group of a quoted `_VALUE` (plain or escaped quotes), None for a bare one."""
    if value is None:
        return None
    return "quoted" if value["q"] else "equoted" if value["eq"] else None


def _pair_value(text: str, head: re.Match[str], value: re.Match[str] | None) -> _Found | None:
    """The value of the secret pair `head` (and `value`, what `_VALUE` matched after it) in
    `text`, and its mask; None if nothing is to be masked.

    A quoted value is masked whole, inside its quotes. The value of an unquoted key after a
    colon or a spaced separator (YAML, headers, INI: `password: two words`, `Authorization:
    token ghp_...`, `api_key => ...`) runs to the end of the line, or to the closing quote of a
    header quoted whole (`-H 'Authorization: ...'`). A bare value right after `=` (logfmt, a
    query string: `api_key=...&`) is one token, together with the credential that follows when
    that token is a scheme-like word (`auth=token ghp_...`)."""
    quoted = _quoted(value)
    if value is not None and quoted is not None:
        if value[quoted] == MASK:
            return None
        return _Found(value.start(quoted), value.end(quoted), value[quoted], MASK)
    bare = value["bare"] if value is not None else None
    start = value.start("bare") if value is not None else head.end()
    sep = head["sep"]
    if not head["kq"] and (sep.strip() == ":" or sep != sep.strip()):  # to the end of the line
        line_end = _LINE_END.search(text, start)
        end = line_end.start() if line_end else len(text)
        opening = text[head.start() - 1 : head.start()]
        if opening in ("'", '"'):  # `-H 'Authorization: token ...'`: up to the closing quote
            closing = _CLOSING[opening].search(text, start, end)
            end = closing.start() if closing else end
        line = text[start:end].rstrip()
        first = bare or ""
        rest = line[len(first) :].lstrip()
        kept = first.lower() in _NOT_SCHEMES and (not rest or rest[0] in _ANNOTATION_END)
        if not line or kept or line.lower() in _WORDS_KEPT or _shown(line) == line:
            return None
        return _Found(start, start + len(line), line, _shown(line))
    if value is None or bare is None:
        return None
    end = value.end()
    if _SCHEME_WORD.fullmatch(bare) and bare.lower() not in _NOT_SCHEMES:
        credential = _CREDENTIAL.match(text, end)
        if credential is not None and (
            credential["params"] or _LOOKS_GENERATED.search(credential["token68"])
        ):
            end = credential.end()
    if end == value.end() and (bare == MASK or bare.lower() in _WORDS_KEPT):
        return None
    shown = _shown(text[start:end])
    return None if shown == text[start:end] else _Found(start, end, text[start:end], shown)


class Normaliser:
    """Labels ids, masks secrets and turns any value into JSON-ready data, deterministically.

    Use one normaliser per run, so an id gets the same label in the audit log and in the state.
    Call `plain()` for each piece, then `finish()` on the assembled result: that pass replaces
    raw ids and secret values that remain inside strings.
    """

    def __init__(
        self, *, redact: Iterable[str] | None = DEFAULT_REDACTED, normalise_ids: bool = True
    ) -> None:
        self.redactor = Redactor(redact)
        self.redact = self.redactor.keys
        self.normalise_ids = normalise_ids
        self.labels: dict[tuple[str, Any], str] = {}
        self._counts: dict[str, int] = {}
        self._replacements: dict[str, str] = {}

    def label(self, kind: IdKind, raw: Any) -> str | None:
        """The stable label of id `raw` of `kind` (a new one on first sight); None stays None."""
        if raw is None:
            return None
        if not self.normalise_ids:
            return _Label(raw)
        found = self.labels.get((kind, raw))
        if found is None:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            found = self.labels[(kind, raw)] = _Label(f"{kind}-{self._counts[kind]}")
        return found

    def label_of(self, raw: str) -> str | None:
        """The label given to raw id `raw`, of any kind, if it was seen."""
        return next((label for (_, r), label in self.labels.items() if r == raw), None)

    def is_secret(self, key: object) -> bool:
        return self.redactor.is_secret(key)

    def learn(self, value: Any) -> None:
        """Collect the secrets of `value` (e.g. the whole `Run`) so that `finish()` masks them
        wherever they are echoed."""
        self.redactor.learn(value)

    def plain(self, value: Any) -> Any:
        """`value` as JSON-ready data (dicts with str keys, lists, scalars), secrets masked."""
        if isinstance(value, str):
            self.redactor.learn(value)
            return value
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, datetime):
            return timestamp(value)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, timedelta):
            return seconds(value)
        if isinstance(value, Mapping):
            return self.mapping(value)
        if isinstance(value, list | tuple):
            return [self.plain(item) for item in value]
        if isinstance(value, set | frozenset):
            return sorted((self.plain(item) for item in value), key=repr)
        if isinstance(value, BaseException):
            return f"{type(value).__name__}: {value}"
        message = self.message(value)
        if message is not None:
            return message
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return self.mapping(fields)
        dump = getattr(value, "model_dump", None)
        if callable(dump):
            return self.plain(dump(mode="json"))
        return stable_text(repr(value))

    def mapping(self, value: Mapping[Any, Any]) -> dict[str, Any]:
        """A mapping with sorted string keys, values under secret keys masked."""
        out: dict[str, Any] = {}
        for key in sorted(value, key=str):
            item = value[key]
            if self.is_secret(key):
                self.redactor.remember(item)
                out[str(key)] = MASK
            else:
                out[str(key)] = self.plain(item)
        return out

    def message(self, value: Any) -> dict[str, Any] | None:
        """A LangChain message as `{type, name, content, tool_calls, tool_call_id, status}`."""
        kind = getattr(value, "type", None)
        if not isinstance(kind, str) or not hasattr(value, "content"):
            return None
        out: dict[str, Any] = {"type": kind}
        if getattr(value, "name", None):
            out["name"] = value.name
        out["content"] = self.plain(value.content)
        calls = getattr(value, "tool_calls", None)
        if calls:
            out["tool_calls"] = [
                {
                    "name": call.get("name"),
                    "args": self.plain(call.get("args") or {}),
                    "id": self.label("call", call.get("id")),
                }
                for call in calls
            ]
        if kind == "tool":
            out["tool_call_id"] = self.label("call", getattr(value, "tool_call_id", None))
            out["status"] = getattr(value, "status", None)
        return {k: v for k, v in out.items() if v is not None}

    def finish(self, data: Any) -> Any:
        """Replace raw ids and secret values left inside strings; labels become plain str."""
        pattern = self._leftovers()
        return self._finish(data, pattern)

    def _leftovers(self) -> re.Pattern[str] | None:
        self._replacements = dict.fromkeys(self.redactor.secrets, MASK)
        if self.normalise_ids:
            for (_, raw), label in self.labels.items():
                if isinstance(raw, str) and _LOOKS_GENERATED.search(raw):
                    self._replacements.setdefault(raw, label)
        if not self._replacements:
            return None
        alternatives = "|".join(re.escape(s) for s in sorted(self._replacements, key=len)[::-1])
        return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")

    def _finish(self, data: Any, pattern: re.Pattern[str] | None) -> Any:
        if isinstance(data, _Label):
            return str(data)
        if isinstance(data, str):
            return self.text(data, pattern)
        if isinstance(data, dict):
            out = {
                self._key_text(key, pattern): self._finish(v, pattern) for key, v in data.items()
            }
            renamed = any(new != old for new, old in zip(out, data, strict=True))
            return dict(sorted(out.items())) if renamed else out
        if isinstance(data, list):
            return [self._finish(item, pattern) for item in data]
        return data

    def _key_text(self, key: Any, pattern: re.Pattern[str] | None) -> Any:
        return self.text(key, pattern) if isinstance(key, str) else key

    def text(self, value: str, pattern: re.Pattern[str] | None) -> str:
        value = self.redactor.mask_pairs(stable_text(value))
        if pattern is not None:
            value = pattern.sub(lambda m: self._replacements[m.group(0)], value)
        if self.normalise_ids:
            value = _UNKNOWN_ID.sub(lambda m: str(self.label("id", m.group(0))), value)
        return value


def message_text(message: Any) -> str:
    """The text of a message (or of its `content`): a string as is; a list of content blocks as
    their text parts (strings, and the `text` of text blocks), joined by newlines; tool-call,
    image and other blocks carry no text and are left out."""
    content = getattr(message, "content", message)
    if isinstance(content, list):
        parts = [part.get("text") if isinstance(part, Mapping) else part for part in content]
        return "\n".join(part for part in parts if isinstance(part, str))
    return content if isinstance(content, str) else str(content)


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z` (a naive time is taken as UTC, as freezegun gives it)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat() + "Z"


def seconds(delta: timedelta) -> int | float:
    """A duration in seconds, as an int when whole."""
    total = delta.total_seconds()
    return int(total) if total.is_integer() else total


def stable_text(text: str) -> str:
    """`text` without what varies by library version, machine or run (see the module docstring).

    `stable_text("For further information visit https://errors.pydantic.dev/2.14/v/missing")`
    gives `"... https://errors.pydantic.dev/<version>/v/missing"`; a path under this machine's
    site-packages becomes `<site-packages>/...`, an address `0x…`.
    """
    text = _VERSIONED_URL.sub(r"\1<version>", text)
    text = _LIBRARY_VERSION.sub(r"\1\2<version>", text)
    if "/" in text or "\\" in text:
        folders, names = _machine_folders(os.getcwd())
        text = folders.sub(lambda m: names[m.group(0)], text)
    if "/pytest-of-" in text:
        text = _PYTEST_TMP.sub("<tmp>/", text)
    text = _ADDRESS.sub(" at 0x…", text)
    return _DURATION.sub("<duration>", text)


@functools.lru_cache(maxsize=8)
def _machine_folders(cwd: str) -> tuple[re.Pattern[str], dict[str, str]]:
    """A pattern matching this machine's folders (longest first, whole path segments only),
    and the placeholder that replaces each."""
    paths = sysconfig.get_paths()
    found: dict[str, str] = {}
    for key, name in (
        ("purelib", "<site-packages>"),
        ("platlib", "<site-packages>"),
        ("stdlib", "<stdlib>"),
        ("platstdlib", "<stdlib>"),
    ):
        if paths.get(key):
            found.setdefault(paths[key], name)
    found.setdefault(cwd, "<cwd>")
    if sys.prefix != sys.base_prefix:  # a virtualenv (a system prefix like /usr is data too)
        found.setdefault(sys.prefix, "<prefix>")
    found = {prefix: name for prefix, name in found.items() if len(prefix) > 1}
    longest_first = sorted(found, key=len, reverse=True)
    alternatives = "|".join(re.escape(prefix) for prefix in longest_first)
    return re.compile(rf"(?<![\w.-])(?:{alternatives})(?![\w.-])"), found
