"""Subtitles written while the session runs: each final becomes SRT or WebVTT cues as it arrives.

Every block is complete on its own (numbered in order, never overlapping the one before), so the output is a valid
subtitle file after every cue, even if the process is killed the next moment. Line breaking is `subtitles.build_cues`'.
"""

from __future__ import annotations

from gladia_cli.live.events import Transcript
from gladia_cli.output import subtitles
from gladia_cli.output.output_format import OutputFormat

VTT_HEADER = "WEBVTT\n"


def _clock(ms: int, separator: str) -> str:
    seconds, millis = divmod(max(ms, 0), 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


class LiveCaptions:
    """Turns finals into cue blocks, one call per final; `header()` is what goes before the first cue."""

    def __init__(
        self, fmt: OutputFormat | str, *, multichannel: bool = False, channel_names: list[str] | None = None
    ) -> None:
        if not OutputFormat(fmt).subtitles:
            raise ValueError(f"subtitles are srt or vtt, not {fmt!r}")
        self.fmt = OutputFormat(fmt)
        self.multichannel = multichannel
        self.channel_names = channel_names  # `--channel-names`: `[me] ` in SRT, `<v me>` in WebVTT, as `gladia result`
        self.count = 0  # cues written
        self._previous_end = 0  # ms: a cue never starts before the previous one ended

    def header(self) -> str | None:
        return VTT_HEADER if self.fmt is OutputFormat.vtt else None

    def blocks(self, final: Transcript) -> list[str]:
        """The cue blocks of one final (each ends with the blank line that separates cues)."""
        if not final.is_final or not final.text:
            return []
        utterance = dict(final.utterance or {})
        utterance.setdefault("text", final.text)
        utterance.setdefault("channel", final.channel)
        if final.start is not None:
            utterance.setdefault("start", final.start)
        if final.end is not None:
            utterance.setdefault("end", final.end)
        job = {"result": {"transcription": {"utterances": [utterance]}}}
        out = []
        for cue in subtitles.build_cues(job, self.fmt.value, channel_names=self.channel_names):
            start = max(cue.start_ms, self._previous_end)
            end = max(cue.end_ms, start + 1)
            self._previous_end = end
            lines = list(cue.lines)
            named = self.channel_names is not None and final.channel < len(self.channel_names)
            if self.multichannel and not named:
                lines[0] = f"[ch{final.channel}] {lines[0]}"
            self.count += 1
            if self.fmt is OutputFormat.srt:
                times = f"{_clock(start, ',')} --> {_clock(end, ',')}"
                out.append(f"{self.count}\n{times}\n" + "\n".join(lines) + "\n")
            else:
                lines = [line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for line in lines]
                if cue.voice:
                    voice = cue.voice.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                    lines[0] = f"<v {voice}>{lines[0]}"
                times = f"{_clock(start, '.')} --> {_clock(end, '.')}"
                out.append(f"{times}\n" + "\n".join(lines) + "\n")
        return out
