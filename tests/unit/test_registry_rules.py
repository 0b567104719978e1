import pytest

from services.registry.domains.names import parse_domain_name
from services.registry.users.passwords import WeakPassword, check_policy, hash_password, verify_password
from services.registry.results import CommandRefused, Result


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("example.be", "example.be"), ("EXAMPLE.BE.", "example.be"), ("a1.be", "a1.be"), ("xn--bcher-kva.be", None),
     ("a-b-c.be", None), ("x" * 63 + ".be", None)],
)
def test_valid_names(raw: str, expected: str | None) -> None:
    assert parse_domain_name(raw, ("be",))[0] == (expected or raw.lower())


@pytest.mark.parametrize(
    ("raw", "code"),
    [("a.be", 2005), ("-ab.be", 2005), ("ab-.be", 2005), ("ab--cd.be", 2005), ("x" * 64 + ".be", 2005),
     ("a_b.be", 2005), ("ab.cd.be", 2005), ("be", 2005), ("", 2005), ("example.com", 2306)],
)
def test_invalid_names_are_refused_with_the_right_code(raw: str, code: int) -> None:
    with pytest.raises(CommandRefused) as refused:
        parse_domain_name(raw, ("be",))
    assert refused.value.result == Result(code)


def test_password_policy() -> None:
    check_policy("Abcdefg1")
    for weak in ["Abcdef1", "abcdefgh1", "ABCDEFGH1", "Abcdefghi", "A" * 30 + "a1bcd"]:
        with pytest.raises(WeakPassword):
            check_policy(weak)


def test_passwords_are_stored_as_argon2id_hashes() -> None:
    stored = hash_password("Secret-123")
    assert stored.startswith("$argon2id$") and "Secret-123" not in stored
    assert verify_password(stored, "Secret-123")
    assert not verify_password(stored, "secret-123")
    assert not verify_password("not a hash", "Secret-123")
