"""The personalization simulation runs on a small population and reports sane figures (the target itself is the
bench's to report: too noisy at this size)."""

from __future__ import annotations

import json

from bench import personalization


def test_a_small_population_reports_the_figures_in_one_json_line(capsys):
    result = personalization.main(["--learners", "60", "--seed", "7"])

    out, err = capsys.readouterr()
    assert json.loads(out.strip().splitlines()[-1]) == result
    assert "target (>= 2.0)" in err
    assert result["learners"] == 60
    for method in ("coach", "popularity", "random"):
        assert set(result[method]) == {"precision@1", "precision@3"}
        assert all(0.0 <= value <= 1.0 for value in result[method].values())
    assert set(result["recall_30d"]) == {"fsrs", "no_review"}
    assert 0.0 < result["recall_30d"]["no_review"] < result["recall_30d"]["fsrs"] <= 1.0
    assert result["coach"]["precision@3"] > result["random"]["precision@3"]
    ratio = result["coach"]["precision@3"] / result["popularity"]["precision@3"]  # of the rounded figures
    assert abs(result["ratio_p3_vs_popularity"] - ratio) < 0.02


def test_the_same_seed_gives_the_same_figures():
    first = personalization.simulate(30, seed=3)
    second = personalization.simulate(30, seed=3)
    assert {k: v for k, v in first.items() if k != "seconds"} == {k: v for k, v in second.items() if k != "seconds"}
