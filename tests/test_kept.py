"""The frames a server process keeps between questions (lasnaolo/kept.py)."""

from lasnaolo.kept import Kept


def test_kept_holds_its_newest_used_values_and_drops_the_least_recently_used_beyond_its_size():
    kept = Kept(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # "a" used: "b" is now the oldest
    kept.put("c", 3)
    assert (kept.get("a"), kept.get("b"), kept.get("c"), len(kept)) == (1, None, 3, 2)


def test_kept_computes_a_missing_value_once_and_answers_later_questions_from_it():
    kept, calls = Kept(4), []
    for _ in range(3):
        assert kept.get_or_compute("key", lambda: calls.append(1) or "value") == "value"
    assert calls == [1]
