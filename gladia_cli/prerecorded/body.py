"""The POST /v2/pre-recorded body: built from flags and `--config`, validated locally before any upload (§5.2).

The pre-recorded twin of `session_config` (the live body); `prerecorded` sends it.
"""

from __future__ import annotations

import json
from typing import Any

from gladia_cli.body import (
    CHAPTERS_GONE,
    FILE_MODELS,
    SUMMARY_TYPES,
    TRANSLATION_LANGUAGES,
    TRANSLATION_MODELS,
    check_callback,
    check_enum,
    check_http_url,
    check_language,
    check_language_config,
    check_metadata,
    check_name,
    check_object,
    check_range,
    check_spelling,
    check_vocabulary,
    merge_spelling,
    merge_translation_options,
    merge_vocabulary,
    nested,
    unknown_value,
)
from gladia_cli.errors import UsageError

SUBTITLE_FORMATS = ("srt", "vtt")
SUBTITLE_STYLES = ("default", "compliance")
PII_TEXT_TYPES = ("MARKER", "MASK")

BOOLEAN_FIELDS = (
    "diarization",
    "subtitles",
    "translation",
    "summarization",
    "named_entity_recognition",
    "sentiment_analysis",
    "custom_vocabulary",
    "custom_spelling",
    "audio_to_llm",
    "pii_redaction",
    "sentences",
    "punctuation_enhanced",
    "callback",
)
# A --config written for `gladia listen` puts these in sections pre-recorded does not have: say so, not ignore them.
LIVE_ONLY_SECTIONS = ("realtime_processing", "post_processing", "messages_config", "pre_processing")
# Legacy or unofficial keys the API silently ignores (§8 items 14 and 18): the user meant something else.
LEGACY_KEYS = {
    "detect_language": "language_config.languages",
    "enable_code_switching": "language_config.code_switching",
    "num_of_speakers": "diarization_config.number_of_speakers",
}
# Removed from the pre-recorded request by Gladia's 2026 schema (the SDK's "fitting new openapi", 645f7df): Gladia's
# validation refuses them, so they are refused here first.
REMOVED_KEYS = (
    "chapterization",
    "chapterization_config",
    "name_consistency",
    "display_mode",
    "moderation",
    "structured_data_extraction",
    "structured_data_extraction_config",
    "context_prompt",
)


def build_prerecorded_body(
    audio_url: str | None = None,
    *,
    languages: list[str] | None = None,
    code_switching: bool | None = None,
    diarize: bool = False,
    speakers: int | None = None,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
    translate: list[str] | None = None,
    summarize: str | None = None,
    vocabulary: list[str] | None = None,
    subtitles: list[str] | None = None,
    model: str | None = None,
    ner: bool = False,
    sentiment: bool = False,
    metadata: dict[str, Any] | None = None,
    spelling: dict[str, list[str]] | None = None,
    translation_model: str | None = None,
    translation_context: str | None = None,
    informal: bool | None = None,
    prompts: list[str] | None = None,
    redact_pii: list[str] | None = None,
    pii_style: str | None = None,
    callback_url: str | None = None,
    callback_method: str | None = None,
    base: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge --config (`base`) and flags (which win) into a body checked against §5.2 before any network call.

    `audio_url` may be left out when the source is a file still to upload: `JobClient.transcribe` fills it.
    Any speaker count turns diarization on; `summarize` is the summary type; `subtitles` lists formats.
    """
    body: dict[str, Any] = json.loads(json.dumps(base or {}))  # deep copy, and proof it is plain JSON
    if audio_url is not None:
        body["audio_url"] = audio_url
    if languages or code_switching is not None:
        lang = nested(body, "language_config")
        if languages:
            lang["languages"] = list(languages)
        if code_switching is not None:
            lang["code_switching"] = code_switching
    counts = {"number_of_speakers": speakers, "min_speakers": min_speakers, "max_speakers": max_speakers}
    if diarize or any(v is not None for v in counts.values()):
        body["diarization"] = True
        given = {k: v for k, v in counts.items() if v is not None}
        if given:
            nested(body, "diarization_config").update(given)
    if translate:
        body["translation"] = True
        nested(body, "translation_config")["target_languages"] = list(dict.fromkeys(translate))
    if translation_model is not None or translation_context is not None or informal is not None:
        if not body.get("translation"):
            raise UsageError("translation options need target languages", hint="add `translate` fr,de")
        merge_translation_options(nested(body, "translation_config"), translation_model, translation_context, informal)
    if spelling:
        merge_spelling(body, spelling)
    if metadata:
        nested(body, "custom_metadata").update(metadata)
    if prompts:
        body["audio_to_llm"] = True
        llm = nested(body, "audio_to_llm_config")
        llm["prompts"] = [*(llm.get("prompts") or []), *prompts]
    if redact_pii or pii_style is not None:
        body["pii_redaction"] = True
        pii = nested(body, "pii_redaction_config")
        if redact_pii:
            pii["entity_types"] = list(dict.fromkeys(code.upper() for code in redact_pii))
        if pii_style is not None:
            pii["processed_text_type"] = pii_style.upper()
    if callback_url is not None or callback_method is not None:
        body["callback"] = True
        callback = nested(body, "callback_config")
        if callback_url is not None:
            callback["url"] = callback_url
        if callback_method is not None:
            callback["method"] = callback_method.upper()
    if summarize is not None:
        body["summarization"] = True
        nested(body, "summarization_config")["type"] = summarize
    if vocabulary:
        body["custom_vocabulary"] = True
        merge_vocabulary(nested(body, "custom_vocabulary_config"), list(vocabulary))
    if model is not None:
        body["model"] = model
    for name, wanted in (
        ("named_entity_recognition", ner),
        ("sentiment_analysis", sentiment),
    ):
        if wanted:
            body[name] = True
    if subtitles:
        body["subtitles"] = True
        nested(body, "subtitles_config")["formats"] = list(dict.fromkeys(subtitles))
    validate_prerecorded_body(body)
    return body


def _check_int(value: Any, name: str, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise UsageError(f"{name} must be a whole number {bound}, got {value!r}")


SOLARIA_3_LANGUAGES = ("en", "fr", "de", "es", "it")


def _check_model(body: dict[str, Any]) -> None:
    """`model` is not in the published schema, but Gladia's official CLI sends it (solaria-3 for a few languages)."""
    check_name(body["model"], "model")
    if body["model"] != "solaria-3":
        return
    config = body.get("language_config")
    lang: dict[str, Any] = config if isinstance(config, dict) else {}
    languages = lang.get("languages") or []
    if len(languages) > 1 or any(code not in SOLARIA_3_LANGUAGES for code in languages):
        raise UsageError(
            "solaria-3 takes at most one language, among en, fr, de, es, it", hint="use `model` solaria-1 otherwise"
        )
    if lang.get("code_switching"):
        raise UsageError("solaria-3 does not do code switching", hint="use `model` solaria-1 for mixed languages")


def validate_prerecorded_body(body: dict[str, Any]) -> None:
    """Check what Gladia's schema bounds (§5.2), so a typo costs one line instead of a 400 round trip."""
    for section in LIVE_ONLY_SECTIONS:
        if section in body:
            raise UsageError(
                f"{section} is a live-only setting",
                hint="for a file, put its keys (translation, custom_vocabulary, summarization...) at the top level",
            )
    for key, instead in LEGACY_KEYS.items():
        if key in body:
            raise UsageError(f"{key} is not a Gladia v2 option", hint=f"use {instead}")
    for key in REMOVED_KEYS:
        if key in body:
            why = CHAPTERS_GONE if key.startswith("chapterization") else "its 2026 API removed it"
            raise UsageError(f"{key} is no longer a Gladia option: {why}", hint=f"remove {key}")
    if "audio_url" in body:
        check_http_url(body["audio_url"], "audio_url")
    if "model" in body:
        _check_model(body)
    for name in BOOLEAN_FIELDS:
        if name in body and not isinstance(body[name], bool):
            hint = "put the words in custom_vocabulary_config.vocabulary" if name == "custom_vocabulary" else None
            raise UsageError(f"{name} must be true or false, got {body[name]!r}", hint=hint)

    lang = check_object(body, "language_config")
    if lang is not None:
        check_language_config(lang)

    dia = check_object(body, "diarization_config")
    if dia is not None:
        if "number_of_speakers" in dia:
            _check_int(dia["number_of_speakers"], "number of speakers", 1)
        for key in ("min_speakers", "max_speakers"):
            if key in dia:
                _check_int(dia[key], key.replace("_", " "), 0)
        low, high, exact = dia.get("min_speakers"), dia.get("max_speakers"), dia.get("number_of_speakers")
        if low is not None and high is not None and low > high:
            raise UsageError(f"min speakers ({low}) is more than max speakers ({high})")
        if exact is not None and ((low is not None and exact < low) or (high is not None and exact > high)):
            bound = (
                f"less than min speakers ({low})"
                if low is not None and exact < low
                else f"more than max speakers ({high})"
            )
            raise UsageError(f"number of speakers ({exact}) is {bound}")

    sub = check_object(body, "subtitles_config")
    if sub is not None:
        formats = sub.get("formats", ["srt"])
        if not isinstance(formats, list) or not formats:
            raise UsageError("subtitles need at least one format", hint="use srt or vtt")
        for fmt in formats:
            check_enum(fmt, "subtitle format", SUBTITLE_FORMATS)
        minimum = sub.get("minimum_duration", 0)
        if isinstance(minimum, bool) or not isinstance(minimum, (int, float)) or minimum < 0:
            raise UsageError(f"subtitles_config.minimum_duration must be a number of at least 0, got {minimum!r}")
        if "maximum_duration" in sub:
            check_range(sub["maximum_duration"], "subtitles_config.maximum_duration", 1, 30)
        if "maximum_characters_per_row" in sub:
            _check_int(sub["maximum_characters_per_row"], "subtitles_config.maximum_characters_per_row", 1)
        if "maximum_rows_per_caption" in sub:
            _check_int(sub["maximum_rows_per_caption"], "subtitles_config.maximum_rows_per_caption", 1, 5)
        if "style" in sub:
            check_enum(sub["style"], "subtitles_config.style", SUBTITLE_STYLES)

    tcfg = check_object(body, "translation_config")
    if body.get("translation") and tcfg is None:
        raise UsageError("translation needs target languages", hint="use `translate` fr,de")
    if tcfg is not None:
        targets = tcfg.get("target_languages")
        if not isinstance(targets, list) or not targets:
            raise UsageError("translation needs at least one target language", hint="use `translate` fr,de")
        for code in targets:
            check_language(code, "`translate`", TRANSLATION_LANGUAGES)
        if "model" in tcfg:
            check_name(tcfg["model"], "translation_config.model")

    scfg = check_object(body, "summarization_config")
    if scfg is not None:
        check_enum(scfg.get("type", "general"), "summary type", SUMMARY_TYPES)

    vcfg = check_object(body, "custom_vocabulary_config")
    if body.get("custom_vocabulary") and vcfg is None:
        raise UsageError("custom vocabulary needs words", hint="use `vocabulary` w1,w2")
    if vcfg is not None:
        check_vocabulary(vcfg, "custom_vocabulary_config")

    check_spelling(body, "")

    llm = check_object(body, "audio_to_llm_config")
    if llm is not None:
        prompts = llm.get("prompts")
        if not isinstance(prompts, list) or not prompts:
            raise UsageError("audio_to_llm_config.prompts must list at least one prompt")

    pii = check_object(body, "pii_redaction_config")
    if pii is not None and "processed_text_type" in pii:
        check_enum(pii["processed_text_type"], "pii_redaction_config.processed_text_type", PII_TEXT_TYPES)

    check_callback(body)

    check_metadata(body)


def unknown_prerecorded_values(body: dict[str, Any]) -> list[str]:
    """Warnings for the pre-recorded body's open-list values Gladia may know and this version does not."""
    warnings = unknown_value(body["model"], "model", FILE_MODELS) if "model" in body else []
    tcfg = body.get("translation_config")
    if isinstance(tcfg, dict) and "model" in tcfg:
        warnings += unknown_value(tcfg["model"], "translation model", TRANSLATION_MODELS)
    return warnings
