"""The answer without a language model: the parts of the best passages that answer the question, quoted.

Units are scored by the cosine of their embedding with the question's, so the quote is the part of a passage that
speaks to the question, not its first lines. The same scores feed the abstention decision. Content keeps its
structure here: an FAQ's answer is scored together with the question it answers (so a paraphrase of that question
finds it), and a table is scored row by row, each row with its header and its heading, and quoted as a table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from kernel.ports import Passage
from kernel.text import tokenize

Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> L2-normalised rows

_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9€£$])")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_STEP = re.compile(r"^\s*\d+[.)]\s+")
_ROW = re.compile(r"^\s*\|.*\|\s*$")
_RULE_ROW = re.compile(r"^\s*\|(?:\s*:?-{3,}:?\s*\|)+\s*$")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
# "Q5. What is ...?", "Q: ...?", "Vraag 3: ...?" : a question the content asks and answers itself; "A." / "Antwoord:"
# opens its answer
_ASKED = re.compile(r"^\s*(?:(?:Q|Vraag|Question)\s*\d*\s*[.:)]\s*)?(.+\?)\s*$", re.IGNORECASE)
_ANSWER_MARK = re.compile(r"^\s*(?:A|Antwoord|Answer)\s*\d*\s*[.:)]\s+", re.IGNORECASE)
_TITLE_LINE = re.compile(r"^[^\W\d_][^.!?:;]{2,80}$")
MIN_CHARS, MAX_CHARS = 25, 400
MAX_EMBEDDED = 10  # the embedding cost grows with the words embedded: 10 units cut to SCORED_CHARS each
SCORED_CHARS = 240
RANK_PRIOR = 0.15
LONG_TABLE = 6  # rows: a longer table is quoted as its header and the rows that match the question
TABLE_CHARS = 1200  # a quoted table's Markdown at most


@dataclass(frozen=True)
class Table:
    """A Markdown table of a passage: its header cells and its rows' cells."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def markdown(self, rows: Sequence[int] | None = None) -> str:
        shown = [self.rows[i] for i in (range(len(self.rows)) if rows is None else rows)]
        lines = [_row_line(self.header), "| " + " | ".join("---" for _ in self.header) + " |",
                 *(_row_line(r) for r in shown)]
        return "\n".join(lines)


@dataclass(frozen=True)
class Unit:
    """A quotable part of a passage: a sentence, a run of steps, an FAQ's answer, or one row of a table."""

    text: str  # what is quoted (a table row: the row as "Header: cell; ..." for checks; quoted as its table)
    scored: str  # what is embedded against the question: the text with the FAQ question or the table's heading
    table: Table | None = None
    row: int = -1


@dataclass(frozen=True)
class Sentence:
    text: str
    passage: int  # index into the passages given
    score: float  # cosine with the question
    rank: float  # the cosine plus a little of the passage's own retrieval score: the order sentences are quoted in
    table: Table | None = None  # a table row: the table it is a row of
    row: int = -1


def units_of(passage: Passage) -> list[Unit]:
    """Quotable units in reading order: sentences, a run of list items (steps, bullets) kept together as one unit,
    and each row of a table. Questions in the content ("Can they use the budget?") are not answers and are left out,
    but they mark what the paragraph after them answers (an FAQ), as a heading or a title that is a question does."""
    units: list[Unit] = []
    items: list[str] = []
    paragraph: list[str] = []
    table: list[str] = []
    headings = passage.locator.get("heading") or []
    heading = headings[-1] if headings else ""
    asked = next((t for t in (heading, passage.title) if t.strip().endswith("?")), "")
    lead = ""  # the text just before a table: its caption or lead-in, when it has no heading of its own

    def add(text: str) -> None:
        nonlocal lead, asked
        if len(text) >= MIN_CHARS and not text.startswith("#") and not text.endswith("?"):
            text = _clip(text)
            units.append(Unit(text, f"{asked} {text}" if asked else text))
            lead = text
            asked = ""  # the answer's first sentence carries its question; the rest are scored on their own

    def flush() -> None:
        nonlocal asked
        if table:
            add_table(table)
            table.clear()
        if items:
            add(_join_items(items))
            items.clear()
        if len(paragraph) == 1 and _TITLE_LINE.match(paragraph[0]) and not units:
            # a short line with no sentence end, standing alone: a title ("How to report phishing") for the
            # paragraph under it, which is scored with it
            asked = asked or paragraph[0]
            paragraph.clear()
        if paragraph:  # lines of a paragraph are joined: PDFs and transcripts wrap mid-sentence
            for part in _SPLIT.split(" ".join(paragraph)):
                add(part.strip())
            paragraph.clear()
            asked = ""  # a question answers the paragraph after it, not the rest of the passage

    def add_table(lines: list[str]) -> None:
        parsed = _table(lines)
        if parsed is None:
            for line in lines:
                add(" ".join(line.replace("|", " ").split()))
            return
        context = heading or lead or passage.title
        for i, row in enumerate(parsed.rows):
            text = "; ".join(f"{h}: {c}" if h else c for h, c in zip(parsed.header, row) if c)
            units.append(Unit(text, f"{context}: {text}", parsed, i))

    for line in passage.text.splitlines():
        text = line.strip()
        if _ROW.match(line):
            if not table:
                flush()
            table.append(line)
            continue
        if table:
            flush()
        if not text:
            flush()
        elif text.startswith("#"):
            flush()
            title = text.lstrip("#").strip()
            heading, asked = title, (title if title.endswith("?") else "")
        elif (question := _ASKED.match(text)) and not items and not paragraph:
            flush()
            asked = question[1].strip()
        elif _BULLET.match(line):
            if paragraph or (items and not _STEP.match(line)):
                flush()  # numbered steps stay together; bullets are separate statements
            items.append(_BULLET.sub("", line).strip())
        elif items and not items[-1].endswith((".", "!", "?", ":")):
            items[-1] = f"{items[-1]} {text}"  # a wrapped list item
        else:
            if items:
                flush()
            paragraph.append(_ANSWER_MARK.sub("", text) if not paragraph else text)
    flush()
    return units


def sentences_of(passage: Passage) -> list[str]:
    """The passage's quotable units as plain text (a table row as "Header: cell; ..."): what a written answer's
    sentences are checked against."""
    return [unit.text for unit in units_of(passage)]


def _table(lines: list[str]) -> Table | None:
    """A GFM table (header row, rule row, body rows); None when the lines are not one."""
    if len(lines) < 3 or not _RULE_ROW.match(lines[1]):
        return None
    header = _cells(lines[0])
    rows = tuple(row + ("",) * (len(header) - len(row)) for row in (_cells(line)[:len(header)] for line in lines[2:])
                 if any(row))
    return Table(header, rows) if rows else None


def _cells(line: str) -> tuple[str, ...]:
    inner = line.strip()[1:-1]
    return tuple(" ".join(cell.replace("\\|", "|").split()) for cell in _CELL_SPLIT.split(inner))


def _row_line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _join_items(items: list[str]) -> str:
    joined = ""
    for item in items:
        if joined and len(joined) + len(item) + 2 > MAX_CHARS:
            break
        joined = f"{joined}; {item}" if joined else item
    return joined


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"


def score_sentences(question: str, passages: Sequence[Passage], embed: Embed, limit: int = MAX_EMBEDDED,
                    query_vector: np.ndarray | None = None) -> list[Sentence]:
    """The passages' units, best first. Embedding them is most of an extractive answer's time, so only `limit`
    are embedded, those sharing the most words with the question (then the earlier passages'), each cut to
    SCORED_CHARS for scoring (the quote keeps the whole unit). `query_vector`: the question as retrieval
    embedded it (then it is not embedded again)."""
    candidates = [(i, u) for i, p in enumerate(passages) for u in units_of(p)]
    if not candidates:
        return []
    if len(candidates) > limit:
        asked = set(tokenize(question))
        candidates = sorted(candidates, key=lambda c: (-len(asked & set(tokenize(c[1].scored))), c[0]))[:limit]
    texts = [u.scored[:SCORED_CHARS] for _, u in candidates]
    if query_vector is None:
        vectors = embed([question, *texts])
        query_vector, vectors = vectors[0], vectors[1:]
    else:
        vectors = embed(texts)
    scores = vectors @ query_vector
    # a unit from a better-ranked passage wins a near tie: the passage's other evidence counts too
    ranked = [Sentence(u.text, i, float(score), float(score) + RANK_PRIOR * passages[i].score, u.table, u.row)
              for (i, u), score in zip(candidates, scores)]
    return sorted(ranked, key=lambda s: (-s.rank, s.passage))


def choose(sentences: Sequence[Sentence], *, limit: int = 3, within: float = 0.12, max_chars: int = 600,
           per_passage: int = 2) -> list[Sentence]:
    """The best unit and those nearly as good (within `within` of it). A sentence seen twice (chunks overlap)
    is quoted once, in its longer form; rows of one table count as one unit (they are quoted as one table)."""
    if not sentences:
        return []
    best = sentences[0].rank
    chosen: list[Sentence] = []
    for sentence in sentences:
        if sentence.rank < best - within:
            break
        if sentence.table is not None and any(c.table == sentence.table and c.passage == sentence.passage
                                              for c in chosen):
            chosen.append(sentence)  # another row of a table already quoted
            continue
        units = [c for c in chosen if c.table is None or c is _first_row(chosen, c)]
        if len(units) == limit:
            break
        if sum(c.passage == sentence.passage for c in units) == per_passage:
            continue  # another passage nearly as good is quoted too: the FAQ's answer and the policy's table

        twin = next((c for c in chosen if c.table is None and _same(c.text, sentence.text)), None)
        if twin is not None:
            if len(sentence.text) > len(twin.text):
                chosen[chosen.index(twin)] = replace(sentence, rank=twin.rank)
            continue
        if chosen and sentence.table is None and sum(len(c.text) for c in chosen if c.table is None) \
                + len(sentence.text) > max_chars:
            break
        chosen.append(sentence)
    return chosen


def _first_row(chosen: Sequence[Sentence], sentence: Sentence) -> Sentence:
    return next(c for c in chosen if c.table == sentence.table and c.passage == sentence.passage)


def quoted_table(rows: Sequence[Sentence], question: str) -> str:
    """A table quoted as a table: whole when it is short, else its header and the rows that match the question
    (those naming a word of the question that the header does not, else the chosen rows)."""
    table = rows[0].table
    assert table is not None
    if len(table.rows) <= LONG_TABLE:
        shown = list(range(len(table.rows)))
    else:
        asked = set(tokenize(question)) - set(tokenize(" ".join(table.header)))
        named = {i for i, row in enumerate(table.rows) if asked & set(tokenize(" ".join(row)))}
        shown = sorted(named or {r.row for r in rows})
    markdown = table.markdown(shown)
    while len(markdown) > TABLE_CHARS and len(shown) > 1:
        shown = shown[:-1]
        markdown = table.markdown(shown)
    return markdown


def _same(a: str, b: str) -> bool:
    """One is the other cut short (a chunk boundary fell inside it)."""
    a, b = (" ".join(t.lower().rstrip("….").split()) for t in (a, b))
    return a.startswith(b) or b.startswith(a)
