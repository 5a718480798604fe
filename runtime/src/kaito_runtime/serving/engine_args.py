"""Engine arguments as option/value pairs, so config-file overrides replace (not append to) the command line.

The kinds of options (flag, on/off toggle, value, list) come from the engine's own argparse parser,
which is what tells ``--trust-remote-code --dtype float16`` apart from ``--chat-template x``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from kaito_runtime.errors import UsageError


class OptionKind(Enum):
    """How an option is written on a command line."""

    FLAG = "flag"  # present or absent (store_true / store_false / store_const)
    TOGGLE = "toggle"  # --x / --no-x (BooleanOptionalAction)
    VALUE = "value"  # --x=value
    LIST = "list"  # --x a b c (nargs + or *)
    APPEND = "append"  # --x=a --x=b


@dataclass(frozen=True)
class OptionSpec:
    """One option of an engine parser."""

    dest: str
    kind: OptionKind
    flag: str  # canonical spelling, e.g. --enable-lora
    negative: str | None = None  # --no-enable-lora for toggles


@dataclass(frozen=True)
class EngineArg:
    """One option with its value: bool for flags/toggles, str for values, tuple for lists/appends."""

    key: str  # what overrides match on: the parser dest, or the full dotted name
    spec: OptionSpec | None  # None for dotted sub-keys such as --compilation-config.mode
    name: str  # option as rendered (dotted sub-keys keep their full name)
    value: bool | str | tuple[str, ...]

    def render(self) -> list[str]:
        """Tokens for the engine parser; values always use ``=`` so they may start with ``-``."""
        if self.spec is None:
            return [f"{self.name}={self.value}"]
        kind = self.spec.kind
        if kind is OptionKind.FLAG:
            return [self.spec.flag] if self.value else []
        if kind is OptionKind.TOGGLE:
            if self.value:
                return [self.spec.flag]
            assert self.spec.negative is not None
            return [self.spec.negative]
        if kind is OptionKind.VALUE:
            return [f"{self.spec.flag}={self.value}"]
        values = self.value if isinstance(self.value, tuple) else (str(self.value),)
        if kind is OptionKind.LIST:
            return [self.spec.flag, *values]
        return [f"{self.spec.flag}={value}" for value in values]


def _normalize(option: str) -> str:
    """``--max_model_len`` → ``--max-model-len``; dotted sub-keys after the first ``.`` are left alone."""
    head, dot, tail = option.partition(".")
    return "--" + head.lstrip("-").replace("_", "-") + dot + tail


def _kind(action: argparse.Action) -> OptionKind:
    if isinstance(action, argparse.BooleanOptionalAction):
        return OptionKind.TOGGLE
    if isinstance(action, argparse._AppendAction):
        return OptionKind.APPEND
    if action.nargs == 0:
        return OptionKind.FLAG
    if action.nargs in ("+", "*") or (isinstance(action.nargs, int) and action.nargs > 1):
        return OptionKind.LIST
    return OptionKind.VALUE


class ArgSpec:
    """The option table of an engine's argparse parser."""

    def __init__(self, parser: argparse.ArgumentParser, *, runtime: str, dotted_keys: bool) -> None:
        self.runtime = runtime
        self.dotted_keys = dotted_keys  # vLLM accepts --compilation-config.mode=3
        self._by_option: dict[str, tuple[OptionSpec, bool]] = {}
        for action in parser._actions:
            longs = [s for s in action.option_strings if s.startswith("--")]
            if not longs or isinstance(action, argparse._HelpAction):
                continue
            kind = _kind(action)
            positive = next((s for s in longs if not s.startswith("--no-")), longs[0])
            negative = next((s for s in longs if s.startswith("--no-")), None)
            spec = OptionSpec(action.dest, kind, positive, negative if kind is OptionKind.TOGGLE else None)
            for option in action.option_strings:
                negated = kind is OptionKind.TOGGLE and option == negative
                self._by_option[_normalize(option) if option.startswith("--") else option] = (spec, negated)

    def lookup(self, option: str) -> tuple[OptionSpec, bool] | None:
        """The option's spec and whether this spelling is the ``--no-`` form."""
        return self._by_option.get(_normalize(option) if option.startswith("--") else option)

    def arg(self, option: str, value: bool | str | tuple[str, ...]) -> EngineArg:
        """A pair for an option this parser is known to have (runtime-level options passed through)."""
        found = self.lookup(option)
        if found is None:
            raise self.unknown(option)
        return EngineArg(found[0].dest, found[0], found[0].flag, value)

    def unknown(self, option: str) -> UsageError:
        return UsageError(f"unknown engine argument '{option}' for the {self.runtime} runtime")


def _bool_text(text: str, where: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise UsageError(f"{where}: expected true or false, got {text!r}")


class _Tokens:
    """A cursor over command-line tokens."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self._items = list(tokens)
        self._index = 0

    def __bool__(self) -> bool:
        return self._index < len(self._items)

    def next(self) -> str:
        self._index += 1
        return self._items[self._index - 1]

    def peek_value(self) -> str | None:
        """The next token when it is a value rather than an option."""
        if self and not self._items[self._index].startswith("--"):
            return self._items[self._index]
        return None


def parse_engine_tokens(tokens: Iterable[str], spec: ArgSpec) -> list[EngineArg]:
    """Parse command-line engine arguments (``--k=v``, ``--k v``, bare flags) into pairs; last one wins."""
    stream = _Tokens(tokens)
    parsed: dict[str, EngineArg] = {}
    while stream:
        token = stream.next()
        if not token.startswith("-"):
            raise UsageError(f"unexpected engine argument {token!r}: values must follow an option")
        option, equals, inline = token.partition("=")

        def value_of(option: str = option, equals: str = equals, inline: str = inline) -> str:
            if equals:
                return inline
            if stream.peek_value() is None:
                raise UsageError(f"engine argument {option} needs a value")
            return stream.next()

        name = _normalize(option) if option.startswith("--") else option
        if "." in name and option.startswith("--"):
            base = spec.lookup(name.partition(".")[0])
            if not spec.dotted_keys or base is None or base[0].kind is not OptionKind.VALUE:
                raise spec.unknown(option)
            parsed.pop(name, None)
            parsed[name] = EngineArg(name, None, name, value_of())
            continue
        found = spec.lookup(option)
        if found is None:
            raise spec.unknown(option)
        option_spec, negated = found
        value: bool | str | tuple[str, ...]
        if option_spec.kind in (OptionKind.FLAG, OptionKind.TOGGLE):
            value = _bool_text(inline, f"engine argument {option}") if equals else True
            value = value != negated
        elif option_spec.kind is OptionKind.LIST:
            values = [inline] if equals else []
            while not equals and stream.peek_value() is not None:
                values.append(stream.next())
            if not values:
                raise UsageError(f"engine argument {option} needs at least one value")
            value = tuple(values)
        elif option_spec.kind is OptionKind.APPEND:
            earlier = parsed.get(option_spec.dest)
            value = (
                *(earlier.value if earlier is not None and isinstance(earlier.value, tuple) else ()),
                value_of(),
            )
        else:
            value = value_of()
        parsed.pop(option_spec.dest, None)
        parsed[option_spec.dest] = EngineArg(option_spec.dest, option_spec, option_spec.flag, value)
    return list(parsed.values())


def _scalar_text(value: Any) -> str:
    """YAML scalars and structures as the engine parser reads them (JSON for bools, maps and lists)."""
    if isinstance(value, bool | dict | list):
        return json.dumps(value)
    return str(value)


def config_section_args(section: Mapping[str, Any], spec: ArgSpec, where: str) -> list[EngineArg | str]:
    """Config-file entries as pairs; a key whose value is null comes back as a bare key to remove."""
    parsed: list[EngineArg | str] = []
    for raw_key, value in section.items():
        option = "--" + raw_key.lstrip("-")
        name = _normalize(option)
        field = f"{where}.{raw_key}"
        if "." in name:
            base = spec.lookup(name.partition(".")[0])
            if not spec.dotted_keys or base is None or base[0].kind is not OptionKind.VALUE:
                raise UsageError(f"{field}: unknown {spec.runtime} option")
            parsed.append(name if value is None else EngineArg(name, None, name, _scalar_text(value)))
            continue
        found = spec.lookup(name)
        if found is None:
            raise UsageError(f"{field}: unknown {spec.runtime} option")
        option_spec, negated = found
        if value is None:
            parsed.append(option_spec.dest)
            continue
        converted: bool | str | tuple[str, ...]
        if option_spec.kind in (OptionKind.FLAG, OptionKind.TOGGLE):
            converted = value if isinstance(value, bool) else _bool_text(str(value), field)
            if negated:
                converted = not converted
        elif option_spec.kind in (OptionKind.LIST, OptionKind.APPEND):
            items = value if isinstance(value, list) else [value]
            converted = tuple(_scalar_text(item) for item in items)
        else:
            converted = _scalar_text(value)
        parsed.append(EngineArg(option_spec.dest, option_spec, option_spec.flag, converted))
    return parsed


def merge_engine_args(base: list[EngineArg], overrides: list[EngineArg | str]) -> list[EngineArg]:
    """``base`` with every option named in ``overrides`` replaced (the override wins) or removed."""
    override_keys = {item if isinstance(item, str) else item.key for item in overrides}
    merged = [arg for arg in base if arg.key not in override_keys]
    merged.extend(item for item in overrides if isinstance(item, EngineArg))
    return merged


def render_engine_args(args: Iterable[EngineArg]) -> list[str]:
    """Command-line tokens for the engine parser."""
    return [token for arg in args for token in arg.render()]
