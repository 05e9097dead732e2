"""The POST /v2/live body: built from flags and `--config`, validated locally before any network call."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from gladia_cli.audio.format import PcmFormat
from gladia_cli.body import (
    CHAPTERS_GONE,
    FILE_MODELS,
    LIVE_MODELS,
    SUMMARY_TYPES,
    TRANSLATION_LANGUAGES,
    TRANSLATION_MODELS,
    check_callback,
    check_enum,
    check_language,
    check_language_config,
    check_metadata,
    check_name,
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

FILE_ONLY_MODELS = tuple(m for m in FILE_MODELS if m not in LIVE_MODELS)  # known, and refused for a live session


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
    metadata: dict[str, Any] = field(default_factory=dict)  # custom_metadata, over --config's
    spelling: dict[str, list[str]] = field(default_factory=dict)  # wanted spelling -> the words it replaces
    translation_model: str | None = None
    translation_context: str | None = None
    informal: bool | None = None
    max_utterance: float | None = None  # maximum_duration_without_endpointing
    speech_threshold: float | None = None  # pre_processing.speech_threshold
    audio_enhancer: bool | None = None  # pre_processing.audio_enhancer
    base: dict[str, Any] = field(default_factory=dict)  # from --config

    def format_field(self, name: str) -> Any:
        """A format field the --config file set (flags are applied by the caller)."""
        return self.base.get(name)


def unknown_values(body: dict[str, Any]) -> list[str]:
    """Warnings for the live body's open-list values Gladia may know and this version does not."""
    warnings = unknown_value(body["model"], "model", LIVE_MODELS) if "model" in body else []
    rt = body.get("realtime_processing")
    tcfg = rt.get("translation_config") if isinstance(rt, dict) else None
    if isinstance(tcfg, dict) and "model" in tcfg:
        warnings += unknown_value(tcfg["model"], "translation model", TRANSLATION_MODELS)
    post = body.get("post_processing")
    if isinstance(post, dict) and post.get("chapterization"):
        warnings.append(f"post_processing.chapterization is ignored by Gladia: {CHAPTERS_GONE}")
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
    if options.translation_model is not None or options.translation_context is not None or options.informal is not None:
        rt = nested(body, "realtime_processing")
        if not rt.get("translation"):
            raise UsageError("translation options need target languages", hint="add `translate` fr,de")
        config = nested(rt, "translation_config")
        merge_translation_options(config, options.translation_model, options.translation_context, options.informal)
    if options.spelling:
        merge_spelling(nested(body, "realtime_processing"), options.spelling)
    if options.metadata:
        nested(body, "custom_metadata").update(options.metadata)
    if options.max_utterance is not None:
        body["maximum_duration_without_endpointing"] = options.max_utterance
    if options.speech_threshold is not None:
        nested(body, "pre_processing")["speech_threshold"] = options.speech_threshold
    if options.audio_enhancer is not None:
        nested(body, "pre_processing")["audio_enhancer"] = options.audio_enhancer
    if options.vocabulary:
        rt = nested(body, "realtime_processing")
        rt["custom_vocabulary"] = True
        merge_vocabulary(nested(rt, "custom_vocabulary_config"), options.vocabulary)
    if options.ner:
        nested(body, "realtime_processing")["named_entity_recognition"] = True
    if options.sentiment:
        nested(body, "realtime_processing")["sentiment_analysis"] = True
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


# A --config written for files puts these at the top level, where a live session has nothing (Gladia would ignore
# them): say where the live setting is, or that there is none.
FILE_ONLY_KEYS = {
    "audio_url": None,
    "diarization": None,
    "diarization_config": None,
    "subtitles": None,
    "subtitles_config": None,
    "sentences": None,
    "punctuation_enhanced": None,
    "audio_to_llm": None,
    "audio_to_llm_config": None,
    "pii_redaction": None,
    "pii_redaction_config": None,
    "callback_url": "callback_config.url",
    "translation": "realtime_processing.translation",
    "translation_config": "realtime_processing.translation_config",
    "custom_vocabulary": "realtime_processing.custom_vocabulary",
    "custom_vocabulary_config": "realtime_processing.custom_vocabulary_config",
    "custom_spelling": "realtime_processing.custom_spelling",
    "custom_spelling_config": "realtime_processing.custom_spelling_config",
    "named_entity_recognition": "realtime_processing.named_entity_recognition",
    "sentiment_analysis": "realtime_processing.sentiment_analysis",
    "summarization": "post_processing.summarization",
    "summarization_config": "post_processing.summarization_config",
}


def validate_body(body: dict[str, Any]) -> None:
    """Check what Gladia's schema bounds, so a typo costs one line instead of a 422 round trip."""
    for key, instead in FILE_ONLY_KEYS.items():
        if key in body:
            hint = f"for a live session, use {instead}" if instead else "a live session has no such setting"
            raise UsageError(f"{key} is a pre-recorded (file) setting", hint=hint)
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
                f"{body['model']} is a model for files (pre-recorded), not live", hint="use solaria-1, or drop `model`"
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
            raise UsageError("translation needs target languages", hint="use `translate` fr,de")
        if isinstance(tcfg, dict):
            targets = tcfg.get("target_languages")
            if not isinstance(targets, list) or not targets:
                raise UsageError("translation needs at least one target language", hint="use `translate` fr,de")
            for code in targets:
                check_language(code, "`translate`", TRANSLATION_LANGUAGES)
            if "model" in tcfg:
                check_name(tcfg["model"], "translation_config.model")
        vcfg = rt.get("custom_vocabulary_config")
        if rt.get("custom_vocabulary") and vcfg is None:
            raise UsageError("custom vocabulary needs words", hint="use `vocabulary` w1,w2")
        if vcfg is not None:
            if not isinstance(vcfg, dict):
                raise UsageError("realtime_processing.custom_vocabulary_config must be a JSON object")
            check_vocabulary(vcfg, "realtime_processing.custom_vocabulary_config")
    post = body.get("post_processing")
    if isinstance(post, dict) and isinstance(post.get("summarization_config"), dict):
        check_enum(post["summarization_config"].get("type", "general"), "summary type", SUMMARY_TYPES)
    if isinstance(rt, dict):
        check_spelling(rt, "realtime_processing.")
    check_callback(body)
    check_metadata(body)
