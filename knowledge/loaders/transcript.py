"""Video transcripts (WebVTT, SRT): cues grouped into passages of about a minute, each citing its time span.

Times come from `in_milliseconds()`: webvtt-py's `*_in_seconds` truncate, which would cite the wrong moment.
Speakers from `<v Name>` voice spans are kept ("Name: text") because "who said it" matters in a recording.
"""

from __future__ import annotations

import html
import io
import re

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from knowledge.documents import CorruptFile, ParsedDocument, Section
from knowledge.loaders.base import decode_text, file_parts, title_from_name
from knowledge.loaders.limits import Limits

SECTION_MS = 60_000
SECTION_CHARS = 1_200
_VOICE = re.compile(r"^<v(?:\.[\w-]+)*\s+([^>]+)>")
_TAG = re.compile(r"<[^>]*>")


def load(data: bytes, name: str, limits: Limits) -> ParsedDocument:
    text = decode_text(data, "Transcript")
    is_srt = file_parts(name).suffix.lower() == ".srt"
    try:
        captions = webvtt.from_buffer(io.StringIO(text), format="srt") if is_srt else webvtt.from_string(text)
    except (MalformedFileError, MalformedCaptionError) as exc:
        kind = "SRT" if is_srt else "WebVTT"
        raise CorruptFile(f"{kind} transcript cannot be read ({exc}): check its timestamps and cue layout") from exc
    title = "" if is_srt else _vtt_title(captions)
    return ParsedDocument(
        title=title or title_from_name(name),
        doc_type="transcript",
        sections=_group_cues(_cue_lines(caption) for caption in captions),
        metadata={"format": "srt" if is_srt else "vtt", "cues": len(captions.captions)},
    )


def _vtt_title(captions: webvtt.WebVTT) -> str:
    """A title from the first NOTE before the cues ("NOTE Title: ..."), else from the "WEBVTT - ..." line."""
    for comment in captions.header_comments:
        first = comment.strip().split("\n", 1)[0].strip()
        if first:
            return re.sub(r"^title\s*:\s*", "", first, flags=re.IGNORECASE)
    return (captions.header_text or "").strip().lstrip("-–:").strip()


def _cue_lines(caption: webvtt.Caption) -> tuple[int, int, list[tuple[str | None, str]]]:
    """A cue's start and end in ms and its lines as (speaker, text); a voice lasts until the next one."""
    lines = []
    speaker = None
    for raw in caption.raw_text.split("\n"):
        voice = _VOICE.match(raw)
        speaker = voice.group(1).strip() if voice else speaker
        text = " ".join(html.unescape(_TAG.sub("", raw)).split())
        if text:
            lines.append((speaker, text))
    return caption.start_time.in_milliseconds(), caption.end_time.in_milliseconds(), lines


def _group_cues(cues) -> list[Section]:
    """Consecutive cues until a passage spans SECTION_MS or reaches SECTION_CHARS.

    Lines by the same speaker run on into one line, so a passage reads as a conversation, not as subtitles.
    """
    sections: list[Section] = []
    lines: list[str] = []
    speaker: str | None = None
    start = end = 0
    for cue_start, cue_end, cue_lines in cues:
        if not cue_lines:
            continue
        if not lines:
            start, end, speaker = cue_start, cue_end, None
        end = max(end, cue_end)
        for who, text in cue_lines:
            if lines and who == speaker:
                lines[-1] += " " + text
            else:
                lines.append(f"{who}: {text}" if who else text)
                speaker = who
        if end - start >= SECTION_MS or sum(map(len, lines)) >= SECTION_CHARS:
            sections.append(Section("\n".join(lines), {"start_ms": start, "end_ms": end}))
            lines = []
    if lines:
        sections.append(Section("\n".join(lines), {"start_ms": start, "end_ms": end}))
    return sections
