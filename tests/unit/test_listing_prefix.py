"""A search by prefix is the index range [prefix, past_prefix(prefix)): every name starting with the prefix falls
inside it, and nothing else (services/registry/listing.py)."""

from services.registry.listing import past_prefix


def test_the_range_past_a_prefix_holds_exactly_the_names_that_start_with_it() -> None:
    names = ["list-0", "list-009.be", "list-01", "list-0\uffff", "list-1", "list-", "list-/", "lisu", "list-0a"]
    for prefix in ("list-0", "list-", "a", "z", "\ud7ff", "x\U0010ffff"):
        end = past_prefix(prefix)
        inside = [n for n in names + [prefix + "\U0010ffff"] if prefix <= n < end]
        assert inside == [n for n in names + [prefix + "\U0010ffff"] if n.startswith(prefix)], prefix


def test_past_a_prefix_is_one_character_higher() -> None:
    assert past_prefix("abc") == "abd"
    assert past_prefix("ab-") == "ab."
    assert past_prefix("\ud7ff") == "\ue000"  # past the surrogates, which are no characters
