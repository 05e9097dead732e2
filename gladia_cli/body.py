"""Rules both request bodies share (POST /v2/live and POST /v2/pre-recorded): lists as typed, the `--config` JSON
file, and the checks of languages, vocabulary, ranges, enums and metadata. Each body module builds its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gladia_cli import languages
from gladia_cli.errors import UsageError

LANGUAGES = languages.TRANSCRIPTION
TRANSLATION_LANGUAGES = languages.TRANSLATION
SUMMARY_TYPES = ("general", "bullet_points", "concise")
# Known models, an open list (another is sent with a warning: Gladia is the judge, and a new model needs no release).
# The live `model` is an open string in the SDK's types (`Literal["solaria-1"] | str`).
LIVE_MODELS = ("solaria-1",)
FILE_MODELS = ("solaria-1", "solaria-3", "solaria-fusion")
# Chapters left Gladia's API (the SDK's "fitting new openapi", 2026-03-24): refused for files, "ignored" live.
CHAPTERS_GONE = "Gladia no longer makes chapters (its API dropped them in 2026)"
TRANSLATION_MODELS = ("base", "enhanced", "batch")
MAX_METADATA_CHARS = 2000


def split_list(values: list[str] | None) -> list[str]:
    """`--lang en --lang fr` and `--lang en,fr` mean the same; a repeated item counts once."""
    out: list[str] = []
    for value in values or []:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return list(dict.fromkeys(out))


def language_list(values: list[str] | None) -> list[str]:
    """Language codes as typed (`EN`, `en,FR`): Gladia's codes are lower case."""
    return split_list([value.lower() for value in values or []])


def load_config_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"config file is a directory: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read config file {path}: {exc.__class__.__name__}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"config file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise UsageError(f'config file {path} must hold a JSON object of request fields, like {{"model": "solaria-1"}}')
    return data


def check_language(code: Any, where: str, allowed: tuple[str, ...] | list[str]) -> None:
    if not isinstance(code, str) or code not in allowed:
        raise UsageError(f"unknown language code {code!r} in {where}", hint="run `gladia languages` for the list")


def check_language_config(lang: dict[str, Any]) -> None:
    """`language_config`, the same object in live and pre-recorded bodies."""
    codes = lang.get("languages", [])
    if not isinstance(codes, list):
        raise UsageError("language_config.languages must be a list of language codes")
    for code in codes:
        check_language(code, "`languages`", LANGUAGES)
    if not isinstance(lang.get("code_switching", False), bool):
        raise UsageError("language_config.code_switching must be true or false")


def check_range(value: Any, name: str, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise UsageError(f"{name} must be a number from {lo:g} to {hi:g}, got {value!r}")


def check_enum(value: Any, name: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UsageError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


def nested(body: dict[str, Any], name: str) -> dict[str, Any]:
    """The JSON object at body[name], created if absent; a --config that put something else there is an error."""
    value = body.setdefault(name, {})
    if not isinstance(value, dict):
        raise UsageError(f"{name} in the config must be a JSON object")
    return value


def merge_vocabulary(config: dict[str, Any], words: list[str]) -> None:
    """`--vocabulary` adds to a `--config` vocabulary: its entries keep their settings (intensity, pronunciations,
    language) and its `default_intensity` stays; a word already there is not added twice."""
    entries = config.get("vocabulary")
    current: list[Any] = list(entries) if isinstance(entries, list) else []
    present = {
        item if isinstance(item, str) else item.get("value") for item in current if isinstance(item, (str, dict))
    }
    current += [word for word in words if word not in present]
    config["vocabulary"] = current


def check_vocabulary(config: dict[str, Any], where: str) -> None:
    """`custom_vocabulary_config`, the same object in live and pre-recorded bodies."""
    vocab = config.get("vocabulary")
    if not isinstance(vocab, list) or not vocab:
        raise UsageError("custom vocabulary must list at least one word", hint="use `vocabulary` w1,w2")
    for item in vocab:
        ok = (isinstance(item, str) and item.strip()) or (
            isinstance(item, dict) and isinstance(item.get("value"), str) and item["value"].strip()
        )
        if not ok:
            raise UsageError(f"invalid vocabulary entry {item!r}", hint='use a word or {"value": "word"}')
        if isinstance(item, dict):
            if "intensity" in item:
                check_range(item["intensity"], "vocabulary intensity", 0, 1)
            if "language" in item:
                check_language(item["language"], where, LANGUAGES)
    if "default_intensity" in config:
        check_range(config["default_intensity"], f"{where}.default_intensity", 0, 1)


def metadata_length(metadata: Any) -> int:
    """As Gladia measures it: the characters of its compact JSON (`JSON.stringify`), not Python's spaced,
    ASCII-escaped dump (which counts `é` as 6)."""
    return len(json.dumps(metadata, separators=(",", ":"), ensure_ascii=False))


def check_name(value: Any, name: str) -> None:
    """A value of an open list (a model name): any non-empty string; whether Gladia knows it is `unknown_value`'s."""
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{name} must be a name, got {value!r}")


def unknown_value(value: Any, name: str, known: tuple[str, ...]) -> list[str]:
    """A warning for a value this version does not know: it is sent anyway, since Gladia adds models over time."""
    if value in known:
        return []
    return [f"{name} {value!r} is not one this version knows ({', '.join(known)}); sending it, Gladia decides"]


def is_url(source: str | Path) -> bool:
    """An http(s) URL goes to Gladia as is (it fetches it, YouTube links included); anything else is a file."""
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


def check_object(body: dict[str, Any], name: str, where: str | None = None) -> dict[str, Any] | None:
    """body[name] when it is a JSON object, None when absent; anything else is an error naming `where`."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise UsageError(f"{where or name} must be a JSON object, got {value!r}")
    return value


def check_http_url(value: Any, name: str) -> None:
    if not isinstance(value, str) or not is_url(value):
        raise UsageError(f"{name} must be an http(s) URL, got {value!r}")


def check_spelling(holder: dict[str, Any], where: str) -> None:
    """`custom_spelling_config` in `holder` (top level for files, `realtime_processing` live): the dictionary is
    required, and maps a spelling to what it replaces."""
    spell = check_object(holder, "custom_spelling_config", f"{where}custom_spelling_config")
    if holder.get("custom_spelling") and spell is None:
        raise UsageError(f"custom spelling needs {where}custom_spelling_config.spelling_dictionary")
    if spell is not None:
        dictionary = spell.get("spelling_dictionary")
        if not isinstance(dictionary, dict) or not all(
            isinstance(v, list) and all(isinstance(s, str) for s in v) for v in dictionary.values()
        ):
            raise UsageError(
                f'{where}custom_spelling_config.spelling_dictionary must map words to lists, like {{"SQL": ["sequel"]}}'
            )


CALLBACK_METHODS = ("POST", "PUT")


def check_callback(body: dict[str, Any]) -> None:
    """`callback` needs `callback_config.url`, an http(s) URL; a method, when given, is POST or PUT."""
    callback = check_object(body, "callback_config")
    if body.get("callback") and callback is None:
        raise UsageError("callback needs callback_config.url")
    if callback is not None:
        check_http_url(callback.get("url"), "callback_config.url")
        if "method" in callback:
            check_enum(callback["method"], "callback_config.method", CALLBACK_METHODS)


def check_metadata(body: dict[str, Any]) -> None:
    """`custom_metadata`: a JSON object, at most 2,000 characters as Gladia measures it (compact JSON)."""
    if "custom_metadata" in body:
        if not isinstance(body["custom_metadata"], dict):
            raise UsageError(f"custom_metadata must be a JSON object, got {body['custom_metadata']!r}")
        if metadata_length(body["custom_metadata"]) > MAX_METADATA_CHARS:
            raise UsageError(f"custom_metadata is longer than {MAX_METADATA_CHARS} characters (as compact JSON)")


def parse_pairs(values: list[str] | None, what: str, sample: str) -> dict[str, str]:
    """`KEY=VALUE` items (repeatable, or comma-separated) as a dict; a later key wins."""
    out: dict[str, str] = {}
    for item in split_list(values):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{what} takes KEY=VALUE, got {item!r}", hint=f"e.g. {sample}")
        out[key.strip()] = value.strip()
    return out


def spelling_dictionary(pairs: dict[str, str]) -> dict[str, list[str]]:
    """`FROM=TO` pairs as Gladia's `spelling_dictionary`: each wanted spelling with the words it replaces."""
    out: dict[str, list[str]] = {}
    for heard, wanted in pairs.items():
        if not wanted:
            raise UsageError(f"custom spelling {heard!r} has nothing to write instead", hint="e.g. sequel=SQL")
        out.setdefault(wanted, []).append(heard)
    return out


def merge_spelling(holder: dict[str, Any], dictionary: dict[str, list[str]]) -> None:
    """Turn custom spelling on in `holder` and add `dictionary` to what `--config` had."""
    holder["custom_spelling"] = True
    config = nested(holder, "custom_spelling_config")
    merged = config.setdefault("spelling_dictionary", {})
    if not isinstance(merged, dict):
        raise UsageError("custom_spelling_config.spelling_dictionary in the config must be a JSON object")
    for wanted, heard in dictionary.items():
        merged[wanted] = list(dict.fromkeys([*merged.get(wanted, []), *heard]))


def merge_translation_options(
    config: dict[str, Any], model: str | None, context: str | None, informal: bool | None
) -> None:
    """The translation's model, context (a text that steers it) and register, over what `--config` had."""
    if model is not None:
        check_enum(model, "translation model", TRANSLATION_MODELS)
        config["model"] = model
    if context is not None:
        config["context_adaptation"] = True
        config["context"] = context
    if informal is not None:
        config["informal"] = informal
