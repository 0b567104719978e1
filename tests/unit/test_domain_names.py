"""IDN: U-labels become A-labels (IDNA 2008); an A-label must be the real encoding of a valid U-label."""

import pytest

from services.registry.domains.names import parse_domain_name
from services.registry.results import CommandRefused, Result


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("café.be", "xn--caf-dma.be"),
        ("CAFÉ.BE", "xn--caf-dma.be"),
        ("cafe\u0301.be", "xn--caf-dma.be"),  # decomposed (NFD) input is composed first
        ("bücher.be", "xn--bcher-kva.be"),
        ("straße.be", "xn--strae-oqa.be"),  # IDNA 2008 keeps the sharp s (2003 mapped it to "ss")
        ("é.be", "xn--9ca.be"),  # one character, but its A-label has the 2 the length rule asks
        ("xn--caf-dma.be", "xn--caf-dma.be"),
        ("XN--CAF-DMA.be", "xn--caf-dma.be"),
        ("é" * 30 + ".be", "xn--9c" + "a" * 30 + ".be"),
    ],
)
def test_u_labels_are_stored_as_a_labels(raw: str, expected: str) -> None:
    assert parse_domain_name(raw, ("be",)) == (expected, "be")


@pytest.mark.parametrize(
    "raw",
    [
        "xn--zzzzzz.be",  # not Punycode
        "xn--abc.be",  # decodes to control characters
        "xn--abc-.be",  # decodes to plain ASCII: not an A-label
        "xn--.be",
        "xn--ls8h.be",  # an emoji is not a valid U-label
        "💩.be",
        "ab--é.be",  # hyphens at 3rd and 4th position of the U-label
        "-café.be",
        "café\u200d.be",  # a joiner outside its allowed context
        "x" * 60 + "é.be",  # the A-label is longer than 63
        "a_é.be",
    ],
)
def test_bogus_idn_labels_are_a_syntax_error(raw: str) -> None:
    with pytest.raises(CommandRefused) as refused:
        parse_domain_name(raw, ("be",))
    assert refused.value.result == Result.PARAMETER_VALUE_SYNTAX


def test_a_u_label_under_another_tld_is_a_policy_refusal() -> None:
    with pytest.raises(CommandRefused) as refused:
        parse_domain_name("café.fr", ("be",))
    assert refused.value.result == Result.PARAMETER_VALUE_POLICY


def test_lookup_name_finds_the_stored_a_label() -> None:
    from services.registry.domains.names import lookup_name

    assert lookup_name(" Café.BE. ") == "xn--caf-dma.be"
    assert lookup_name("example.be") == "example.be"
    assert lookup_name("xn--caf-dma.be") == "xn--caf-dma.be"
    assert lookup_name("☃☃\u0000.be").endswith(".be")  # not convertible: returned as is, then simply not found
