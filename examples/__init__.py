"""Northwind Loom, the fictional sample company: its learning content, micro-lessons and competency framework.

A package (not a loose folder) so that a wheel carries it: `coach serve` on a fresh install loads it on its first
start, and the competency framework is the default one. What each file is: README.md here.
"""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
CONTENT = FOLDER / "content"
LESSONS = FOLDER / "lessons"
COMPETENCIES = FOLDER / "competencies.yaml"
