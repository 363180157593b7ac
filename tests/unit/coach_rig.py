"""A Coach wired as coach/bootstrap.py wires it, with fakes at the ports: FakeRetriever (passages given here),
FakeChatModel when a test wants a model, the tiny hashed embedding, and a real SQLite database (migrated once
per session and copied for each test). No Chroma, no embedding model, no network."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy.engine import Engine

import prompts
from coach.abstention import AbstentionModel
from coach.answering import Answerer
from coach.coach import Coach
from coach.competencies import Framework
from coach.generation import AnswerWriter
from coach.learners import groups_of
from coach.rate_limit import RateLimiter
from coach.redaction import Redactor
from kernel.store import make_engine
from coach.store.db import migrate
from tests.fakes.chat_model import FakeChatModel
from tests.fakes.retriever import FakeRetriever, embed, passage

PHISHING = passage("Report a phishing e-mail with the Report button in Outlook. Then forward it to "
                   "security@example.com within one hour, so the security team can warn others.",
                   title="How to report phishing", competencies=["information-security"])
BUDGET = passage("Every employee has a training budget of 1,200 euros per year. Book courses through the "
                 "learning portal and your manager approves them.", title="Training budget",
                 competencies=["learning-and-development"])
SALARY_FOR_EVERYONE = passage("The salary review happens every March. Your manager explains the merit budget "
                              "outcome for you in a one-to-one meeting.", title="Salary review for employees",
                              competencies=["people-management"])
SALARY_FOR_MANAGERS = passage("The merit budget in the salary review is 3.5 percent of the team's salaries. "
                              "Managers split the merit budget across their team before March.",
                              title="Salary review for managers", audience=["managers"],
                              competencies=["people-management"])
CONTENT = [PHISHING, BUDGET, SALARY_FOR_EVERYONE, SALARY_FOR_MANAGERS]
SECRET = "3.5 percent"
DIRECTORY = ["Anna de Vries"]


@dataclass
class Rig:
    coach: Coach
    retriever: FakeRetriever
    model: FakeChatModel | None
    engine: Engine

    @property
    def container(self):
        """What tests/integration/lesson_files.py's loader reads from a container."""
        return SimpleNamespace(coach=self.coach, engine=self.engine)


def migrated_template(folder: Path) -> Path:
    path = folder / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


def build(template: Path, folder: Path, *, passages=CONTENT, model: FakeChatModel | None = None,
          per_minute: int = 0) -> Rig:
    path = folder / "coach.db"
    shutil.copy(template, path)
    engine = make_engine(f"sqlite:///{path}")
    retriever = FakeRetriever(passages)
    writer = model and AnswerWriter(model=model, template=prompts.load("answer"), engine=engine,
                                    company="Northwind", budget_s=5.0, embed=embed,
                                    support=0.3)  # the fake embedding's cosine is a share of words in common
    answerer = Answerer(retriever=retriever, embed=embed, abstention=AbstentionModel.load(),
                        groups_of=lambda learner_id: groups_of(engine, learner_id) or [], writer=writer)
    coach = Coach(engine=engine, answerer=answerer, redactor=Redactor(known_names=DIRECTORY),
                  framework=Framework.load(), human_contact="Priya in L&D", rate=RateLimiter(per_minute))
    return Rig(coach, retriever, model, engine)
