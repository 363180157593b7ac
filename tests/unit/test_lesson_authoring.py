"""Authored micro-lessons: the Markdown + front matter format, every rule with the message L&D sees, loading a
folder, and the sample lessons in examples/lessons against the sample competency framework and content."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

import examples
from coach.competencies import Framework
from coach.lessons import authoring
from coach.lessons.authoring import (LessonError, LessonSpec, Option, is_lesson, is_lesson_file, load_lessons,
                                     parse_lesson)

REPO = Path(__file__).resolve().parents[2]
LESSONS = REPO / "examples" / "lessons"
CONTENT = REPO / "examples" / "content"
KNOWN = {"information-security", "expenses", "feedback"}

BODY = "Press **Report phish** within one hour; the Security team removes the e-mail from every inbox."


def lesson(fields: str = "", body: str = BODY, **replace: str) -> str:
    """A valid lesson; `fields` adds front matter lines, `replace` swaps whole fields (None-like '' drops one)."""
    base = {
        "title": "title: Report phishing fast",
        "competency": "competency: [information-security]",
        "question": "question: What do you do with a phishing e-mail?",
        "options": textwrap.dedent("""\
            options:
              - text: Report it with the button
                feedback: That is what lets Security clean every inbox.
              - text: Forward it to colleagues
                feedback: That spreads it further.
              - Delete it"""),
        "answer": "answer: 1",
        "explanation": "explanation: Reporting quickly protects everyone.",
    }
    for name, value in replace.items():
        base[name] = value
    front = "\n".join(v for v in base.values() if v)
    return f"---\n{front}\n{fields}---\n{body}\n"


def problem(text: str, origin: str = "lessons/x.md", competencies: set[str] | None = KNOWN) -> str:
    with pytest.raises(LessonError) as raised:
        parse_lesson(text, origin, competencies)
    message = str(raised.value)
    assert message.startswith(f"{origin}: ")
    return message


# --- the format --------------------------------------------------------------------------------------------------

def test_a_lesson_with_defaults_parses_into_a_spec():
    spec = parse_lesson(lesson(), "lessons/Report Phishing (v2).md", KNOWN)
    assert spec == LessonSpec(
        key="report-phishing-v2", title="Report phishing fast", body=BODY, competencies=("information-security",),
        audience=("everyone",), minutes=1, question="What do you do with a phishing e-mail?",
        options=(Option("Report it with the button", "That is what lets Security clean every inbox."),
                 Option("Forward it to colleagues", "That spreads it further."), Option("Delete it")),
        correct=0, explanation="Reporting quickly protects everyone.", sources=())


def test_all_fields_are_read():
    spec = parse_lesson(lesson("id: Phishing_Basics\naudience: [Managers, it.team]\nminutes: 3\n"
                               "sources: [security/information-security-basics.docx, https://intranet/x]\n",
                               competency="competencies: [Information-Security, feedback]"), "x.md", KNOWN)
    assert spec.key == "phishing-basics"  # an id is slugified too
    assert spec.audience == ("managers", "it.team")
    assert spec.competencies == ("information-security", "feedback")
    assert spec.minutes == 3
    assert spec.sources == ("security/information-security-basics.docx", "https://intranet/x")


def test_single_strings_are_accepted_for_lists():
    spec = parse_lesson(lesson("audience: managers\nsources: expenses/expenses-faq.txt\n",
                               competency="competency: expenses"), "x.md", KNOWN)
    assert (spec.competencies, spec.audience, spec.sources) == (("expenses",), ("managers",),
                                                                ("expenses/expenses-faq.txt",))


@pytest.mark.parametrize("answer, correct", [("answer: 2", 1), ("answer: 3", 2), ("answer: Delete it", 2),
                                             ("answer: Forward it to colleagues", 1), ('answer: "2"', 1)])
def test_the_answer_is_a_1_based_number_or_the_exact_text(answer, correct):
    assert parse_lesson(lesson(answer=answer), "x.md").correct == correct


def test_options_may_be_plain_strings_and_yes_no_stay_text():
    spec = parse_lesson(lesson(options="options: [Yes, No, On, 30]", answer="answer: No"), "x.md")
    assert [o.text for o in spec.options] == ["Yes", "No", "On", "30"]
    assert all(o.feedback == "" for o in spec.options) and spec.correct == 1


def test_minutes_are_estimated_at_200_words_a_minute():
    assert parse_lesson(lesson(body="a " * 450), "x.md").minutes == 3
    assert parse_lesson(lesson(body="Short."), "x.md").minutes == 1


def test_windows_line_endings_a_byte_order_mark_and_a_horizontal_rule_in_the_body():
    text = "\ufeff" + lesson(body="First part.\n\n---\n\nSecond part.").replace("\n", "\r\n")
    spec = parse_lesson(text, "x.md")
    assert spec.title == "Report phishing fast" and spec.body == "First part.\n\n---\n\nSecond part."


def test_competencies_are_not_checked_without_a_framework():
    assert parse_lesson(lesson(competency="competency: juggling"), "x.md", None).competencies == ("juggling",)


# --- each rule, with its message ---------------------------------------------------------------------------------

def test_no_front_matter():
    assert "no front matter: start the file with a line `---`" in problem("# Just a page\n\nText.")


def test_invalid_yaml_names_the_line():
    text = lesson(question="question: Your report asks: why?")  # the question is on line 4 of the file
    message = problem(text)
    assert "front matter is not valid YAML at line 4" in message and "quote text containing `: `" in message


def test_front_matter_must_be_a_mapping():
    assert "must be `field: value` lines, found a list" in problem("---\n- a\n- b\n---\nBody\n")


@pytest.mark.parametrize("field", ["title", "question", "explanation"])
def test_required_text_fields(field):
    assert f"`{field}` is required and must not be empty" in problem(lesson(**{field: ""}))
    assert f"`{field}` is required and must not be empty" in problem(lesson(**{field: f"{field}: ''"}))


def test_text_fields_must_be_text():
    assert "`title` must be text, found a list; put it in quotes" in problem(lesson(title="title: [a, b]"))


def test_the_body_is_required():
    assert "the lesson text (the Markdown after the front matter) is empty" in problem(lesson(body="  \n"))


def test_a_long_body_is_refused():
    message = problem(lesson(body="x" * 2_001))
    assert "the lesson text has 2,001 characters, more than 2,000" in message
    assert "a micro-lesson is one idea, about 1,000 characters; split it" in message
    parse_lesson(lesson(body="x" * 2_000), "x.md")  # the limit itself is fine


@pytest.mark.parametrize("options, found", [("options: [A, B]", 2), ("options: [A, B, C, D, E, F, G]", 7)])
def test_three_to_six_options(options, found):
    assert f"`options` needs 3 to 6 choices, found {found}" in problem(lesson(options=options))


def test_options_are_required_and_a_list():
    assert "`options` is required: a list of 3 to 6 choices" in problem(lesson(options=""))
    assert "`options` must be a list of 3 to 6 choices, found str" in problem(lesson(options="options: A, B, C"))


def test_no_duplicate_options():
    message = problem(lesson(options="options: [Report it, Delete it, report  IT]"))
    assert "options 1 and 3 are the same ('report  IT'); each choice must differ" in message


def test_option_shapes():
    assert "option 2 needs a non-empty `text`" in problem(lesson(options="options: [A, '', C]"))
    assert "option 2 needs a non-empty `text`" in problem(lesson(options="options: [A, {feedback: x}, C]"))
    assert "option 3 needs a non-empty `text`; put it in quotes" in problem(lesson(options="options: [A, B, true]"))
    message = problem(lesson(options="options: [A, {text: B, feedbak: x}, C]"))
    assert "option 2 has unknown field(s) `feedbak`; an option has `text` and optionally `feedback`" in message


@pytest.mark.parametrize("answer, expected", [
    ("answer: 4", "`answer` 4 is out of range: there are 3 options; "
                  "give the right option's number (1 to 3) or its exact text"),
    ("answer: 0", "`answer` 0 is out of range"),
    ("answer: report it", "`answer` 'report it' matches no option exactly; give the right option's number"),
    ("answer: B", "`answer` 'B' matches no option exactly"),
    ("answer: [1, 2]", "`answer` must be a number or an option's text, found a list"),
    ("answer: true", "`answer` must be a number or an option's text, found the boolean true"),
    ("", "`answer` is required: give the right option's number (1 to 3) or its exact text"),
])
def test_the_answer_must_match_exactly_one_option(answer, expected):
    assert expected in problem(lesson(answer=answer))


def test_unknown_competencies_are_named_with_the_known_ones():
    message = problem(lesson(competency="competency: [expenses, juggling]"))
    assert "unknown competency `juggling`; the framework has: expenses, feedback, information-security" in message
    assert "`expenses`" not in message


def test_competency_or_competencies_not_both():
    assert "give `competency` or `competencies`, not both" in problem(lesson("competencies: [expenses]\n"))


@pytest.mark.parametrize("minutes", ["0", "16", "'2'", "1.5", "true", "-1"])
def test_minutes_is_a_whole_number_up_to_15(minutes):
    assert "`minutes` must be a whole number from 1 to 15" in problem(lesson(f"minutes: {minutes}\n"))


def test_minutes_15_is_fine():
    assert parse_lesson(lesson("minutes: 15\n"), "x.md").minutes == 15


@pytest.mark.parametrize("audience, expected", [
    ("audience: [managers, '']", "`audience` must list non-empty groups, found ''"),
    ("audience: {managers: yes}", "`audience` must be a list of groups (or one group), found a mapping"),
    ("audience: []", "`audience` is empty: leave it out for everyone"),
    ("audience: [Team Leads]", "audience `team leads` is not a valid group"),
])
def test_audience_is_a_list_of_non_empty_groups(audience, expected):
    assert expected in problem(lesson(audience + "\n"))


def test_unknown_fields_are_named():
    message = problem(lesson("opitons: [A, B, C]\ntags: [x]\n"))
    assert "unknown field(s) `opitons`, `tags`; the fields are id, title, competency" in message


def test_all_problems_are_reported_at_once():
    error = pytest.raises(LessonError, parse_lesson, lesson("minutes: 99\n", title="", answer="answer: 7"), "x.md")
    assert len(error.value.problems) == 3 and error.value.origin == "x.md"
    assert str(error.value).count("; ") >= 2


def test_no_key_from_an_unusable_origin():
    assert "`id` is needed" in problem(lesson(), origin="!!!.md")


def test_a_lesson_error_is_a_value_error():
    assert issubclass(LessonError, ValueError)


# --- recognising lessons among content ----------------------------------------------------------------------------

def test_is_lesson():
    assert is_lesson(lesson())
    assert not is_lesson("---\ntitle: Welcome\n---\n# Welcome\n")  # ordinary content with front matter
    assert not is_lesson("# A page\n\nquestion: options:")
    assert not is_lesson("")
    broken = lesson(question="question: Your report asks: why?")
    assert is_lesson(broken)  # invalid YAML that looks like a lesson goes to lessons, to be reported there
    assert is_lesson(lesson(options="opitons: [A, B, C]"))  # a misspelt `options`: still routed to lessons


def test_is_lesson_file(tmp_path):
    (tmp_path / "a.md").write_text(lesson())
    (tmp_path / "b.txt").write_text(lesson())
    (tmp_path / "c.md").write_bytes(b"\xff\xfe---")
    assert is_lesson_file(tmp_path / "a.md")
    assert not is_lesson_file(tmp_path / "b.txt") and not is_lesson_file(tmp_path / "c.md")
    assert not is_lesson_file(tmp_path / "missing.md")
    assert not is_lesson_file(CONTENT / "onboarding" / "welcome.md")


# --- loading files and folders ------------------------------------------------------------------------------------

def test_load_a_folder_with_one_broken_file(tmp_path):
    root = tmp_path / "lessons"
    (root / "security").mkdir(parents=True)
    (root / "security" / "report-phishing.md").write_text(lesson())
    (root / "claim-on-time.md").write_text(lesson(competency="competency: expenses"))
    (root / "broken.md").write_text(lesson(answer="answer: 9"))
    (root / "README.md").write_text("# Our lessons\n\nHow we write them.\n")  # not a lesson: skipped silently
    (root / "notes.txt").write_text(lesson())  # not Markdown
    (root / ".drafts").mkdir()
    (root / ".drafts" / "wip.md").write_text(lesson(title=""))  # hidden: skipped

    specs, problems = load_lessons(root, KNOWN)
    assert sorted(s.key for s in specs) == ["claim-on-time", "report-phishing"]
    [error] = problems
    assert str(error).startswith(f"{root / 'broken.md'}: `answer` 9 is out of range")


def test_a_duplicate_key_is_an_error_for_the_later_file(tmp_path):
    (tmp_path / "a.md").write_text(lesson("id: phishing\n"))
    (tmp_path / "b.md").write_text(lesson("id: phishing\n", title="title: Another"))
    specs, problems = load_lessons(tmp_path)
    assert [s.title for s in specs] == ["Report phishing fast"]
    assert [str(p) for p in problems] == [f"{tmp_path / 'b.md'}: the id `phishing` is already used by "
                                          f"{tmp_path / 'a.md'}; give this lesson its own `id`"]


def test_load_one_file(tmp_path):
    (tmp_path / "one.md").write_text(lesson())
    (tmp_path / "page.md").write_text("# Not a lesson\n")
    assert [s.key for s in load_lessons(tmp_path / "one.md")[0]] == ["one"]
    specs, [error] = load_lessons(tmp_path / "page.md")  # named on its own: read as a lesson, problems reported
    assert specs == [] and "no front matter" in str(error)
    (tmp_path / "typo.md").write_text("---\ntitle: T\nquestion: Q?\nopitons: [A, B, C]\n---\nBody\n")
    assert "unknown field(s) `opitons`" in str(load_lessons(tmp_path / "typo.md")[1][0])
    assert load_lessons(tmp_path)[1] == []  # in a folder, the same files are not lessons: skipped silently
    specs, [error] = load_lessons(tmp_path / "missing")
    assert specs == [] and str(error) == f"{tmp_path / 'missing'}: no such file or folder"


def test_unreadable_text_is_reported(tmp_path):
    (tmp_path / "latin1.md").write_bytes(lesson().replace("fast", "fast \xe9").encode("latin-1"))
    specs, [error] = load_lessons(tmp_path)
    assert "not UTF-8 text; save the file as UTF-8" in str(error)


# --- the documented examples and the samples ---------------------------------------------------------------------

def test_the_documented_examples_parse():
    readme = (LESSONS / "README.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```markdown\n(.*?)```", readme, re.S)
    assert parse_lesson(example, "README example", KNOWN).key == "report-phishing"
    doc = authoring.__doc__
    assert parse_lesson(textwrap.dedent(doc[doc.index("    ---"):doc.index("Required:")]), "docstring").title


def test_every_sample_lesson_parses_against_the_sample_framework():
    framework = Framework.load(REPO / "examples" / "competencies.yaml")
    ids = {c.id for c in framework.competencies}
    specs, problems = load_lessons(LESSONS, ids)
    assert problems == []
    files = sorted(p.stem for p in LESSONS.glob("*.md") if p.name != "README.md")
    assert 6 <= len(specs) <= 10 and sorted(s.key for s in specs) == files
    assert len({c for s in specs for c in s.competencies}) >= 6
    assert any(s.audience == ("managers",) and "people-management" in s.competencies for s in specs)
    assert examples.LESSONS == LESSONS  # what the first start loads


@pytest.mark.parametrize("path", sorted(p for p in LESSONS.glob("*.md") if p.name != "README.md"),
                         ids=lambda p: p.stem)
def test_each_sample_is_one_idea_with_a_teaching_quiz_drawn_from_real_content(path):
    spec = parse_lesson(path.read_text(encoding="utf-8"), str(path))
    assert 600 <= len(spec.body) <= 1_200
    assert 3 <= len(spec.options) <= 4 and all(o.feedback for o in spec.options)
    assert spec.sources and all((CONTENT / source).is_file() for source in spec.sources)
    # the grading reply already says "Right!" or "Not quite: the answer is B." before the feedback
    assert not any(re.match(r"(right|wrong|correct|not quite|no)\b", o.feedback, re.I) for o in spec.options)
    audiences = {tuple(meta.split(":", 1)[1].strip(" []\n").split(", "))
                 for source in spec.sources if (meta := _sidecar_audience(CONTENT / source))}
    if audiences:  # a lesson drawn from managers-only content is for managers only
        assert set(spec.audience) <= {a for group in audiences for a in group}


def _sidecar_audience(path: Path) -> str | None:
    sidecar = path.with_name(path.name + ".meta.yaml")
    if not sidecar.is_file():
        return None
    return next((line for line in sidecar.read_text().splitlines() if line.startswith("audience:")), None)


def test_sample_answers_are_not_always_in_the_same_place():
    specs, _ = load_lessons(LESSONS)
    assert len({s.correct for s in specs}) >= 3
