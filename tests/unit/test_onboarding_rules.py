"""The rules of becoming a registrar that need no database (services/registry/registrars/onboarding.py)."""

from typing import Any

import pytest
from pydantic import ValidationError

from services.registry.registrars.onboarding import (
    MAX_ACTIVATION_ATTEMPTS,
    Activation,
    Application,
    ApplicationStatus,
    activation_locked,
    check_application,
    check_prepayment,
    new_security_code,
    organisation_lines,
    registrar_for,
    require_status,
    wrong_code,
)
from services.registry.users.passwords import check_policy
from services.registry.results import CommandRefused, Result

TLDS = ("be", "vlaanderen", "brussels")
MINIMUM = 250_000
ORGANISATION = {
    "official_name": "Nieuwe Registrar BV",
    "representative": {"first_name": "An", "last_name": "Peeters"},
    "address": {"street": ["Bondgenotenlaan 10"], "postal_code": "3000", "city": "Leuven", "country": "BE"},
    "phone": "+32.16284970", "mobile": "+32.497111111", "email": "info@nieuw.example",
    "website": "https://nieuw.example", "vat": "BE0123456789",
}
ACCREDITATION = {"iana_id": 9999, "agreement": "raa.pdf"}


def application(**changes: Any) -> Application:
    return Application.model_validate(
        {"organisation": ORGANISATION, "contract_language": "en", "prepayment_cents": MINIMUM, "products": ["be"]}
        | changes
    )


def refusal(app: Application) -> CommandRefused:
    with pytest.raises(CommandRefused) as caught:
        check_application(app, TLDS, MINIMUM)
    return caught.value


def test_a_be_application_at_the_minimum_with_a_standing_order_is_fine() -> None:
    check_application(application(standing_order=True), TLDS, MINIMUM)


def test_the_prepayment_is_at_least_the_minimum() -> None:
    refused = refusal(application(prepayment_cents=MINIMUM - 1))
    assert (refused.result, refused.message) == (Result.PARAMETER_VALUE_RANGE, "the prepayment is at least EUR 2,500.00")


def test_a_standing_order_needs_be() -> None:
    refused = refusal(application(products=["vlaanderen"], accreditation=ACCREDITATION, standing_order=True))
    assert refused.result is Result.PARAMETER_VALUE_POLICY and ".be" in refused.message


def test_products_must_be_served() -> None:
    assert "['com']" in refusal(application(products=["be", "com"])).message


@pytest.mark.parametrize("products", [["vlaanderen"], ["be", "brussels"], ["brussels", "vlaanderen"]])
def test_a_gtld_needs_an_accreditation_or_a_reseller(products: list[str]) -> None:
    assert "only ICANN-accredited registrars" in refusal(application(products=products)).message
    check_application(application(products=products, accreditation=ACCREDITATION), TLDS, MINIMUM)
    resold = {p: {"registrar_id": "a100001", "contract": "c.pdf"} for p in products if p != "be"}
    check_application(application(products=products, resellers=resold), TLDS, MINIMUM)


def test_reselling_is_only_for_gtlds_applied_for() -> None:
    reseller = {"registrar_id": "a100001", "contract": "c.pdf"}
    assert "reselling" in refusal(application(products=["be"], resellers={"vlaanderen": reseller})).message
    assert "reselling" in refusal(application(products=["be"], resellers={"be": reseller})).message


def test_resold_products_are_not_direct_ones() -> None:
    app = application(products=["brussels", "be", "vlaanderen", "be"], accreditation=ACCREDITATION,
                      resellers={"brussels": {"registrar_id": "a100001", "contract": "c.pdf"}})
    assert app.products == ["be", "brussels", "vlaanderen"]
    assert (app.direct_products(), app.resold_products()) == (["be", "vlaanderen"], {"brussels": "a100001"})


@pytest.mark.parametrize(("written", "stored"), [("+32.16284970", "+32.16284970"), ("+32 497 11 11 11", "+32.497111111"),
                                                 (" +1 212.555.0100 ", "+1.2125550100")])
def test_phones_are_kept_as_e164(written: str, stored: str) -> None:
    assert application(organisation=ORGANISATION | {"mobile": written}).organisation.mobile == stored


@pytest.mark.parametrize("field", [{"phone": "016 28 49 70"}, {"mobile": "+32497111111"}, {"vat": "be0123"},
                                   {"email": "nobody"}, {"website": "not a url"}])
def test_organisation_details_are_validated(field: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        application(organisation=ORGANISATION | field)


def test_the_contract_language_is_en_nl_or_fr_in_any_case() -> None:
    assert application(contract_language="FR").contract_language == "fr"
    with pytest.raises(ValidationError):
        application(contract_language="DE")


def test_the_prepayment_received_covers_what_was_applied_for_and_the_minimum() -> None:
    check_prepayment(300_000, 300_000, MINIMUM)
    for paid, applied in ((299_999, 300_000), (MINIMUM - 1, 100)):
        with pytest.raises(CommandRefused) as caught:
            check_prepayment(paid, applied, MINIMUM)
        assert caught.value.result is Result.PARAMETER_VALUE_RANGE


def test_steps_follow_their_order() -> None:
    require_status("app-1", "APPLIED", {ApplicationStatus.APPLIED}, "sign")
    with pytest.raises(CommandRefused) as caught:
        require_status("app-1", "APPLIED", {ApplicationStatus.PREPAYMENT_RECEIVED}, "activate")
    assert caught.value.result is Result.STATUS_PROHIBITS
    assert caught.value.message == "cannot activate: application [app-1] is APPLIED, not PREPAYMENT_RECEIVED"


def test_security_codes_have_twelve_digits_and_differ() -> None:
    codes = {new_security_code() for _ in range(50)}
    assert len(codes) == 50 and all(len(c) == 12 and c.isdigit() for c in codes)


def test_the_activation_form_takes_the_code_as_printed() -> None:
    form = Activation(registrar_id="r123456", security_code="1234 5678-9012", web_password="x", epp_password="y")
    assert form.security_code == "123456789012"
    with pytest.raises(ValidationError):
        Activation(registrar_id="r123456", security_code="12345678901", web_password="x", epp_password="y")


def test_wrong_codes_count_down_and_then_lock() -> None:
    failed = 0
    for left in range(MAX_ACTIVATION_ATTEMPTS - 1, 0, -1):
        assert activation_locked(failed) is None
        failed, refused = wrong_code(failed)
        assert refused.result is Result.INVALID_AUTHORIZATION_INFO and f"({left} attempt(s) left)" in refused.message
    failed, refused = wrong_code(failed)
    assert failed == MAX_ACTIVATION_ATTEMPTS and refused.result is Result.AUTHORIZATION_ERROR
    locked = activation_locked(failed)
    assert locked is not None and locked.result is Result.AUTHORIZATION_ERROR


def test_the_account_is_built_from_the_application() -> None:
    app = application(products=["be", "brussels"], contract_language="nl", standing_order=True,
                      resellers={"brussels": {"registrar_id": "a100001", "contract": "c.pdf"}})
    new = registrar_for("r123456", app)
    assert (new.name, new.products, new.vat, new.standing_order, new.contract_language) == (
        "Nieuwe Registrar BV", ["be"], "BE0123456789", True, "nl")
    assert new.profile.languages == ["nl"] and new.official_address.address.city == "Leuven"
    # placeholders within the policy, replaced before anyone could use them
    check_policy(new.admin_password.get_secret_value())
    check_policy(new.epp_password.get_secret_value(), max_length=16)
    assert registrar_for("r123457", application(products=["vlaanderen"], resellers={
        "vlaanderen": {"registrar_id": "a100001", "contract": "c.pdf"}})).products == []


def test_long_names_fill_the_two_organisation_lines() -> None:
    assert organisation_lines("Short BV") == ["Short BV"]
    lines = organisation_lines("Word " * 30)
    assert len(lines) == 2 and all(len(line) <= 80 for line in lines)
    assert organisation_lines("x" * 160) == ["x" * 80, "x" * 80]
