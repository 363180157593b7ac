"""Cosine thresholds that depend on the embedding model: tuned on MiniLM, carried to each other packaged model by
`python -m bench.thresholds --write` (the same share of the same evaluation pairs on either side of the line), and
shipped in coach/thresholds.json. A model with none calibrated gets MiniLM's, with a warning.

- `gap_plausible`: below it a new chunk cannot be what answers an open question (coach/gaps/closing.py);
- `gap_relevant`: from it a passage is about a content-gap question (coach/lessons/drafting.py);
- `gap_similarity`: questions this alike share a content-gap cluster (coach/gaps/clustering.py); the
  COACH_GAP_SIMILARITY setting overrides it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)
FILE = Path(__file__).with_name("thresholds.json")
DEFAULT_MODEL = "all-MiniLM-L6-v2-int8"


def _read() -> dict:
    return json.loads(FILE.read_text(encoding="utf-8"))


def for_embedder(embedder: str) -> dict[str, float]:
    models = _read()["models"]
    if embedder not in models:
        log.warning("no cosine thresholds are calibrated for the embedding model %s; using %s's (run `python -m "
                    "bench.thresholds --write`)", embedder, DEFAULT_MODEL)
        return dict(models[DEFAULT_MODEL])
    return dict(models[embedder])


def save(models: dict[str, dict[str, float]], *, fitted_on: str) -> None:
    FILE.write_text(json.dumps({"fitted_on": fitted_on, "models": models}, indent=2) + "\n", encoding="utf-8")
