"""The POST /v2/live body: built from flags and `--config`, validated locally before any network call."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from gladia_cli import languages
from gladia_cli.audio.format import PcmFormat
from gladia_cli.errors import UsageError

LANGUAGES = languages.TRANSCRIPTION
TRANSLATION_LANGUAGES = languages.TRANSLATION
# Known values of open or growing lists: anything else is sent with a warning (Gladia is the judge), so a new model
# needs no new release. The live `model` is an open string in the SDK's types (`Literal["solaria-1"] | str`).
MODELS = ("solaria-1",)
FILE_ONLY_MODELS = ("solaria-3", "solaria-fusion")  # pre-recorded models: known, and refused for a live session
SUMMARY_TYPES = ("general", "bullet_points", "concise")
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


@dataclass(frozen=True)
class BodyFlags:
    """The flags that shape the request body, the same on `listen` and `transcribe` (either mode): built once from
    a command's flags, so the request constructors do not each re-list them."""

    lang: list[str] | None
    code_switching: bool | None
    model: str | None
    endpointing: float | None
    partials: bool | None
    translate: list[str] | None
    vocabulary: list[str] | None
    summarize: bool
    summary_type: str | None
    ner: bool
    sentiment: bool
    chapterize: bool
    config: Path | None

    @classmethod
    def split(cls, flags: dict[str, Any]) -> tuple[BodyFlags, dict[str, Any]]:
        """A command's flags as (the body's, the rest): every field must be there (no default hides a missing one)."""
        names = {f.name for f in fields(cls)}
        body = cls(**{name: value for name, value in flags.items() if name in names})
        return body, {name: value for name, value in flags.items() if name not in names}


@dataclass
class LiveOptions:
    """Everything the user asked of the session, before the audio source decides its format."""

    languages: list[str] = field(default_factory=list)
    code_switching: bool | None = None
    model: str | None = None
    endpointing: float | None = None
    partials: bool | None = None  # the flag, when given: it wins over --config
    partials_default: bool = True  # otherwise (on at a terminal), unless --config says
    translate: list[str] = field(default_factory=list)
    vocabulary: list[str] = field(default_factory=list)
    summarize: bool = False
    summary_type: str | None = None
    ner: bool = False  # named entities of each final, live
    sentiment: bool = False  # sentiment and emotion of each final, live
    chapterize: bool = False  # chapters after the session
    base: dict[str, Any] = field(default_factory=dict)  # from --config

    def format_field(self, name: str) -> Any:
        """A format field the --config file set (flags are applied by the caller)."""
        return self.base.get(name)


def check_language(code: Any, where: str, allowed: tuple[str, ...] | list[str]) -> None:
    if not isinstance(code, str) or code not in allowed:
        raise UsageError(f"unknown language code {code!r} in {where}", hint="run `gladia languages` for the list")


def check_language_config(lang: dict[str, Any]) -> None:
    """`language_config`, the same object in live and pre-recorded bodies."""
    codes = lang.get("languages", [])
    if not isinstance(codes, list):
        raise UsageError("language_config.languages must be a list of language codes")
    for code in codes:
        check_language(code, "--lang", LANGUAGES)
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
        raise UsageError("custom vocabulary must list at least one word", hint="use --vocabulary w1,w2")
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


def unknown_values(body: dict[str, Any]) -> list[str]:
    """Warnings for the live body's open-list values Gladia may know and this version does not."""
    warnings = unknown_value(body["model"], "model", MODELS) if "model" in body else []
    rt = body.get("realtime_processing")
    tcfg = rt.get("translation_config") if isinstance(rt, dict) else None
    if isinstance(tcfg, dict) and "model" in tcfg:
        warnings += unknown_value(tcfg["model"], "translation model", TRANSLATION_MODELS)
    return warnings


def build_body(options: LiveOptions, fmt: PcmFormat) -> dict[str, Any]:
    """Merge --config, flags and the audio format (which always wins: it is what we send) into a valid body."""
    body: dict[str, Any] = json.loads(json.dumps(options.base))  # deep copy
    body.update(fmt.as_config())
    if options.model is not None:
        body["model"] = options.model
    if options.endpointing is not None:
        body["endpointing"] = options.endpointing
    if options.languages or options.code_switching is not None:
        lang = nested(body, "language_config")
        if options.languages:
            lang["languages"] = options.languages
        if options.code_switching is not None:
            lang["code_switching"] = options.code_switching
    if options.translate:
        rt = nested(body, "realtime_processing")
        rt["translation"] = True
        cfg = rt.setdefault("translation_config", {})
        if not isinstance(cfg, dict):
            raise UsageError("realtime_processing.translation_config in the config must be a JSON object")
        cfg["target_languages"] = options.translate
    if options.vocabulary:
        rt = nested(body, "realtime_processing")
        rt["custom_vocabulary"] = True
        merge_vocabulary(nested(rt, "custom_vocabulary_config"), options.vocabulary)
    if options.ner:
        nested(body, "realtime_processing")["named_entity_recognition"] = True
    if options.sentiment:
        nested(body, "realtime_processing")["sentiment_analysis"] = True
    if options.chapterize:
        nested(body, "post_processing")["chapterization"] = True
    if options.summarize or options.summary_type is not None:
        post = nested(body, "post_processing")
        post["summarization"] = True
        if options.summary_type is not None:  # "" too: validated below, never silently "general"
            post["summarization_config"] = {"type": options.summary_type}
    messages = nested(body, "messages_config")
    if options.partials is not None:
        messages["receive_partial_transcripts"] = options.partials
    else:
        messages.setdefault("receive_partial_transcripts", options.partials_default)
    messages.setdefault("receive_final_transcripts", True)
    messages.setdefault("receive_speech_events", True)  # the live view shows whether Gladia hears someone speak
    # The live session needs acks to know what the server has; the renderer hides them unless asked for.
    messages["receive_acknowledgments"] = True
    validate_body(body)
    return body


def validate_body(body: dict[str, Any]) -> None:
    """Check what Gladia's schema bounds, so a typo costs one line instead of a 422 round trip."""
    fmt = PcmFormat(
        sample_rate=body.get("sample_rate", 16000),
        channels=body.get("channels", 1),
        bit_depth=body.get("bit_depth", 16),
        encoding=body.get("encoding", "wav/pcm"),
    )
    fmt.validate()
    if "model" in body:
        check_name(body["model"], "model")
        if body["model"] in FILE_ONLY_MODELS:
            raise UsageError(
                f"{body['model']} is a model for files (pre-recorded), not live", hint="use solaria-1, or drop --model"
            )
    if "endpointing" in body:
        check_range(body["endpointing"], "endpointing", 0.01, 10)
    if "maximum_duration_without_endpointing" in body:
        check_range(body["maximum_duration_without_endpointing"], "maximum_duration_without_endpointing", 5, 60)
    lang = body.get("language_config")
    if isinstance(lang, dict):
        check_language_config(lang)
    pre = body.get("pre_processing")
    if isinstance(pre, dict) and "speech_threshold" in pre:
        check_range(pre["speech_threshold"], "pre_processing.speech_threshold", 0, 1)
    rt = body.get("realtime_processing")
    if isinstance(rt, dict):
        tcfg = rt.get("translation_config")
        if rt.get("translation") and not isinstance(tcfg, dict):
            raise UsageError("translation needs target languages", hint="use --translate fr,de")
        if isinstance(tcfg, dict):
            targets = tcfg.get("target_languages")
            if not isinstance(targets, list) or not targets:
                raise UsageError("translation needs at least one target language", hint="use --translate fr,de")
            for code in targets:
                check_language(code, "--translate", TRANSLATION_LANGUAGES)
            if "model" in tcfg:
                check_name(tcfg["model"], "translation_config.model")
        vcfg = rt.get("custom_vocabulary_config")
        if rt.get("custom_vocabulary") and vcfg is None:
            raise UsageError("custom vocabulary needs words", hint="use --vocabulary w1,w2")
        if vcfg is not None:
            if not isinstance(vcfg, dict):
                raise UsageError("realtime_processing.custom_vocabulary_config must be a JSON object")
            check_vocabulary(vcfg, "realtime_processing.custom_vocabulary_config")
    post = body.get("post_processing")
    if isinstance(post, dict) and isinstance(post.get("summarization_config"), dict):
        check_enum(post["summarization_config"].get("type", "general"), "summary type", SUMMARY_TYPES)
    if "custom_metadata" in body and metadata_length(body["custom_metadata"]) > MAX_METADATA_CHARS:
        raise UsageError(f"custom_metadata is longer than {MAX_METADATA_CHARS} characters (as compact JSON)")
