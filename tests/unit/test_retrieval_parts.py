import pytest

from coach.conversation import Turn, retrieval_context
from knowledge.documents import DocumentError
from knowledge.fusion import convex, rrf
from kernel.text import tokenize
from knowledge.keyword_index import KeywordIndex
from knowledge.metadata import SourceMeta, normalize_groups, read_sidecars


def test_follow_up_questions_are_searched_with_their_conversation():
    history = [Turn("learner", "How do I claim mileage?"), Turn("coach", "Mileage is claimed in the expenses app [1]."),
               Turn("learner", "What is the rate in the UK?"), Turn("coach", "45p per mile for the first 10,000 miles [1].")]
    assert retrieval_context(history) == ["What is the rate in the UK?", "How do I claim mileage?",
                                          "45p per mile for the first 10,000 miles [1]."]
    assert retrieval_context([]) == []


def test_convex_fusion_rewards_agreement_and_rrf_is_rank_based():
    dense = [("a", 0.9), ("b", 0.8), ("c", 0.1)]
    keyword = [("b", 12.0), ("d", 3.0)]
    assert [cid for cid, _ in convex(dense, keyword, 0.8)][:2] == ["b", "a"]
    assert convex(dense, [], 1.0)[0] == ("a", 1.0)
    assert [cid for cid, _ in rrf(dense, keyword)][0] == "b"


def test_keyword_index_stems_and_filters_by_audience():
    assert tokenize("Booking the trainings") == ["book", "train"]
    index = KeywordIndex()
    index.build(["1", "2"], ["booking training courses", "salary review budgets"], [["everyone"], ["managers"]], "v1")
    assert [cid for cid, _ in index.query("book a training", groups=[], n=5)] == ["1"]
    assert index.query("salary budget", groups=[], n=5) == []
    assert [cid for cid, _ in index.query("salary budget", groups=["managers"], n=5)] == ["2"]
    assert index.query("the of and", groups=[], n=5) == []


def test_sidecars_file_over_folder_and_bad_sidecars_are_reported(tmp_path):
    (tmp_path / "_meta.yaml").write_text("owner: learning@example.com\ncompetencies: [onboarding]\n")
    (tmp_path / "a.md").write_text("# A")
    (tmp_path / "a.md.meta.yaml").write_text("audience: [Managers, hr]\ntitle: Manager handbook\n")
    meta = read_sidecars(tmp_path / "a.md")
    assert meta == SourceMeta(title="Manager handbook", audience=("managers", "hr"), owner="learning@example.com",
                              competencies=("onboarding",))
    assert meta.over(SourceMeta(audience=("everyone",), owner="x")).audience == ("managers", "hr")
    (tmp_path / "a.md.meta.yaml").write_text("audience: [managers\n")
    with pytest.raises(DocumentError, match="not valid YAML"):
        read_sidecars(tmp_path / "a.md")
    (tmp_path / "a.md.meta.yaml").write_text("audiences: [managers]\n")
    with pytest.raises(DocumentError, match="unknown keys"):
        read_sidecars(tmp_path / "a.md")
    with pytest.raises(DocumentError, match="not a valid audience"):
        normalize_groups(["sales team"])
