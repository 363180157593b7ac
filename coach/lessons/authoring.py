"""Micro-lessons authored by L&D as Markdown files: YAML front matter for the quiz, the lesson itself as the body.

L&D writes lessons in any editor and keeps them in version control next to their content; this module turns such a
file into a `LessonSpec` or says precisely what to fix, so a typo never reaches a learner as a broken quiz. The
format (also in examples/lessons/README.md):

    ---
    id: report-phishing            # optional; default: the file name without .md, slugified
    title: Report a phishing e-mail in one minute
    competency: [information-security]   # a string or a list; `competencies:` accepted too
    audience: [everyone]           # optional; default everyone (e.g. [managers])
    minutes: 2                     # optional, 1 to 15; default: estimated from the words (200 a minute)
    question: You clicked a link in a suspicious e-mail. What do you do first?
    options:                       # 3 to 6 choices, no two alike
      - text: Call the IT service desk on extension 4357 and say you clicked
        feedback: Reporting quickly is what counts.   # shown after the learner picks this option
      - text: Delete it and move on
        feedback: IT can only limit the harm if they know.
      - Wait and see               # an option may also be a plain string (no feedback)
    answer: 1                      # the right option: its 1-based number, or its exact text
    explanation: Why the right answer is right.
    sources: [security/information-security-basics.docx]   # knowledge-base source keys (or their path
                                   # endings, as `coach sources` lists them) or links
    ---
    The lesson in Markdown: one idea, about 1,000 characters (at most 2,000).

Required: title, question, options, answer, explanation and a non-empty body. Any other field name is refused, so
`opitons` is caught rather than ignored. YAML's `yes`/`no`/`on`/`off` stay text here (only `true`/`false` are
booleans), so `- Yes` and `- No` work as options. Quote text that contains `: ` or YAML reads a new field.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml


MAX_BODY = 2_000  # characters; a micro-lesson is one idea, about 1,000
MIN_OPTIONS, MAX_OPTIONS = 3, 6
MAX_MINUTES = 15
WORDS_PER_MINUTE = 200
FIELDS = ("id", "title", "competency", "competencies", "audience", "minutes", "question", "options", "answer",
          "explanation", "sources")
OPTION_FIELDS = ("text", "feedback")
_GROUP = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")  # as knowledge.metadata's audience groups
_FRONT_MATTER = re.compile(r"\A(?:[ \t]*\n)*---[ \t]*\n(.*?)^(?:---|\.\.\.)[ \t]*$\n?", re.S | re.M)


@dataclass(frozen=True)
class Option:
    text: str
    feedback: str = ""  # shown after the learner picks this option


@dataclass(frozen=True)
class LessonSpec:
    key: str  # stable id: front matter `id`, else the file name's stem, slugified (lowercase, a-z0-9-)
    title: str
    body: str  # the lesson itself, Markdown: one idea, about 1,000 characters
    competencies: tuple[str, ...]
    audience: tuple[str, ...]  # default ("everyone",)
    minutes: int  # front matter `minutes`, else estimated from the words (200 words/min, at least 1)
    question: str
    options: tuple[Option, ...]  # 3 to 6
    correct: int  # 0-based index of the right option
    explanation: str  # why the right answer is right
    sources: tuple[str, ...]  # knowledge-base source keys (or path endings) or links


class LessonError(ValueError):
    """A lesson that cannot be used; str() names the file (origin) and every problem found, each with its fix."""

    def __init__(self, origin: str, problems: list[str] | str) -> None:
        self.origin = origin
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(f"{origin}: {'; '.join(self.problems)}")


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false, so options like `Yes` and `No` stay text."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def slugify(value: str) -> str:
    """Lowercase a-z, 0-9 and single hyphens: `Report Phishing (v2)` -> `report-phishing-v2`."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _split(text: str) -> tuple[str, str, int] | None:
    """(front matter, body, line number of the front matter's first line), or None without front matter."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    match = _FRONT_MATTER.match(text)
    if match is None:
        return None
    return match.group(1), text[match.end():], text[:match.start(1)].count("\n") + 1


def _front_matter(text: str) -> dict | None:
    split = _split(text)
    if split is None:
        return None
    try:
        data = yaml.load(split[0], Loader=_Loader)
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def is_lesson(text: str) -> bool:
    """Markdown whose front matter has `question` and `options` (or `answer`, so a misspelt `options` is still
    routed to lessons and reported there, not ingested into the knowledge base as content)."""
    data = _front_matter(text)
    if data is None:
        split = _split(text)  # front matter that is not valid YAML: a lesson if it looks like one
        return split is not None and bool(re.search(r"^question\s*:", split[0], re.M)) and bool(
            re.search(r"^(?:options|answer)\s*:", split[0], re.M))
    return "question" in data and ("options" in data or "answer" in data)


def is_lesson_file(path: Path) -> bool:
    """A Markdown file (.md, .markdown) that `is_lesson`; unreadable files are not lessons."""
    path = Path(path)
    if path.suffix.lower() not in (".md", ".markdown") or not path.is_file():
        return False
    try:
        return is_lesson(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return False


def _text(data: dict, name: str, problems: list[str], *, required: bool = True) -> str:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(f"`{name}` is required and must not be empty")
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        problems.append(f"`{name}` must be text, found {_kind(value)}; put it in quotes")
        return ""
    return str(value).strip()


def _kind(value) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _strings(data: dict, name: str, problems: list[str], *, label: str) -> tuple[str, ...]:
    """A string or a list of strings, each non-empty."""
    value = data.get(name)
    if value is None:
        return ()
    items = [value] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else value
    if not isinstance(items, list):
        problems.append(f"`{name}` must be a list of {label} (or one {label[:-1]}), found {_kind(value)}")
        return ()
    found = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)) or not str(item).strip():
            problems.append(f"`{name}` must list non-empty {label}, found {item!r}")
            continue
        found.append(str(item).strip())
    return tuple(dict.fromkeys(found))


def _options(data: dict, problems: list[str]) -> tuple[Option, ...]:
    raw = data.get("options")
    if raw is None:
        problems.append(f"`options` is required: a list of {MIN_OPTIONS} to {MAX_OPTIONS} choices")
        return ()
    if not isinstance(raw, list):
        problems.append(f"`options` must be a list of {MIN_OPTIONS} to {MAX_OPTIONS} choices, found {_kind(raw)}")
        return ()
    if not MIN_OPTIONS <= len(raw) <= MAX_OPTIONS:
        problems.append(f"`options` needs {MIN_OPTIONS} to {MAX_OPTIONS} choices, found {len(raw)}")
    options, seen = [], {}
    for number, item in enumerate(raw, 1):
        if isinstance(item, dict):
            unknown = [str(k) for k in item if k not in OPTION_FIELDS]
            if unknown:
                problems.append(f"option {number} has unknown field(s) {', '.join(f'`{k}`' for k in unknown)}; "
                                f"an option has `text` and optionally `feedback`")
            text, feedback = item.get("text"), item.get("feedback")
        else:
            text, feedback = item, None
        if text is None or isinstance(text, bool) or not isinstance(text, (str, int, float)) or not str(text).strip():
            problems.append(f"option {number} needs a non-empty `text`" +
                            ("; put it in quotes" if isinstance(text, bool) else ""))
            continue
        if feedback is not None and (isinstance(feedback, bool) or not isinstance(feedback, (str, int, float))):
            problems.append(f"option {number}'s `feedback` must be text, found {_kind(feedback)}; put it in quotes")
            feedback = None
        text = str(text).strip()
        same = " ".join(text.casefold().split())
        if same in seen:
            problems.append(f"options {seen[same]} and {number} are the same ({text!r}); each choice must differ")
            continue
        seen[same] = number
        options.append(Option(text, str(feedback).strip() if feedback is not None else ""))
    return tuple(options)


def _answer(data: dict, options: tuple[Option, ...], problems: list[str]) -> int:
    raw = data.get("answer")
    count = len(options)
    how = f"give the right option's number (1 to {count}) or its exact text"
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        problems.append(f"`answer` is required: {how}")
        return 0
    if not options:
        return 0
    if isinstance(raw, str):
        texts = [o.text for o in options]
        if raw.strip() in texts:
            return texts.index(raw.strip())
        if not raw.strip().isdigit():
            problems.append(f"`answer` {raw.strip()!r} matches no option exactly; {how}")
            return 0
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int):
        problems.append(f"`answer` must be a number or an option's text, found {_kind(raw)}; {how}")
        return 0
    if not 1 <= raw <= count:
        problems.append(f"`answer` {raw} is out of range: there are {count} options; {how}")
        return 0
    return raw - 1


def _minutes(data: dict, words: int, problems: list[str]) -> int:
    raw = data.get("minutes")
    if raw is None:
        return max(1, math.ceil(words / WORDS_PER_MINUTE))
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_MINUTES:
        problems.append(f"`minutes` must be a whole number from 1 to {MAX_MINUTES}, found {raw!r}")
        return 1
    return raw


def parse_lesson(text: str, origin: str, competencies: set[str] | None = None) -> LessonSpec:
    """One lesson from its Markdown text; `origin` (a file path) names it in errors and gives the default key.
    `competencies`: the framework's ids, to check the lesson's against (None: not checked)."""
    split = _split(text)
    if split is None:
        raise LessonError(origin, "no front matter: start the file with a line `---`, then the lesson's fields "
                                  "(title, competency, question, options, answer, explanation), then another `---`")
    front, body, first_line = split
    try:
        data = yaml.load(front, Loader=_Loader) if front.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + first_line}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise LessonError(origin, f"the front matter is not valid YAML{where} ({problem}); check the indentation "
                                  "and quote text containing `: ` or starting with a special character") from exc
    if not isinstance(data, dict):
        raise LessonError(origin, f"the front matter must be `field: value` lines, found {_kind(data)}")

    problems: list[str] = []
    unknown = [str(k) for k in data if k not in FIELDS]
    if unknown:
        problems.append(f"unknown field(s) {', '.join(f'`{k}`' for k in unknown)}; the fields are "
                        f"{', '.join(FIELDS)}")

    raw_key = data.get("id")
    if raw_key is not None and (isinstance(raw_key, bool) or not isinstance(raw_key, (str, int))):
        problems.append(f"`id` must be text, found {_kind(raw_key)}")
        raw_key = None
    key = slugify(str(raw_key)) if raw_key is not None else slugify(Path(origin).stem)
    if not key:
        problems.append("`id` is needed: neither the `id` field nor the file name gives one (use a-z, 0-9 and -)")

    title = _text(data, "title", problems)
    question = _text(data, "question", problems)
    explanation = _text(data, "explanation", problems)
    body = body.strip()
    if not body:
        problems.append("the lesson text (the Markdown after the front matter) is empty")
    elif len(body) > MAX_BODY:
        problems.append(f"the lesson text has {len(body):,} characters, more than {MAX_BODY:,}: a micro-lesson is "
                        "one idea, about 1,000 characters; split it")

    if "competency" in data and "competencies" in data:
        problems.append("give `competency` or `competencies`, not both")
    field = "competencies" if "competencies" in data else "competency"
    ids = tuple(dict.fromkeys(c.lower() for c in _strings(data, field, problems, label="competency ids")))
    if competencies is not None:
        for unknown_id in (c for c in ids if c not in competencies):
            problems.append(f"unknown competency `{unknown_id}`; the framework has: "
                            f"{', '.join(sorted(competencies)) or 'none'}")

    audience = tuple(dict.fromkeys(a.lower() for a in _strings(data, "audience", problems, label="groups")))
    if data.get("audience") == []:
        problems.append("`audience` is empty: leave it out for everyone, or list groups such as [managers]")
    for group in audience:
        if not _GROUP.match(group):
            problems.append(f"audience `{group}` is not a valid group: use lowercase letters, digits, '-', '_' or '.'")

    options = _options(data, problems)
    correct = _answer(data, options, problems)
    words = len(re.findall(r"\w+", " ".join([body, question, *(o.text for o in options)])))
    minutes = _minutes(data, words, problems)
    sources = _strings(data, "sources", problems, label="source keys or links")

    if problems:
        raise LessonError(origin, problems)
    return LessonSpec(key=key, title=title, body=body, competencies=ids, audience=audience or ("everyone",),
                      minutes=minutes, question=question, options=options, correct=correct,
                      explanation=explanation, sources=sources)


def load_lessons(path: Path, competencies: set[str] | None = None) -> tuple[list[LessonSpec], list[LessonError]]:
    """Lessons from a file or a folder (recursive, *.md, hidden files skipped), with the problems of those that
    could not be used. In a folder, Markdown that is not a lesson (a README) is skipped silently; a file named
    on its own is read as a lesson, so its problems are reported. A key used twice is an error for the later file
    (in path order)."""
    path = Path(path)
    if path.is_dir():
        files = [p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in (".md", ".markdown")
                 and not any(part.startswith(".") for part in p.relative_to(path).parts)]
        named = False
    elif path.is_file():
        files, named = [path], True
    else:
        return [], [LessonError(str(path), "no such file or folder")]

    specs: list[LessonSpec] = []
    problems: list[LessonError] = []
    first: dict[str, str] = {}
    for file in files:
        origin = str(file)
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(LessonError(origin, "not UTF-8 text; save the file as UTF-8"))
            continue
        except OSError as exc:
            problems.append(LessonError(origin, f"cannot be read ({exc.strerror or exc})"))
            continue
        if not named and not is_lesson(text):
            continue
        try:
            spec = parse_lesson(text, origin, competencies)
        except LessonError as exc:
            problems.append(exc)
            continue
        if spec.key in first:
            problems.append(LessonError(origin, f"the id `{spec.key}` is already used by {first[spec.key]}; give "
                                                "this lesson its own `id`"))
            continue
        first[spec.key] = origin
        specs.append(spec)
    return specs, problems
