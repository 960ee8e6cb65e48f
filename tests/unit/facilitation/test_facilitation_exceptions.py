import facilitation
from facilitation import exceptions
from facilitation.exceptions import FacilitationError


def domain_errors() -> list[type[FacilitationError]]:
    found = [getattr(exceptions, name) for name in dir(exceptions)]
    return [e for e in found if isinstance(e, type) and issubclass(e, FacilitationError)]


def test_every_error_has_its_own_snake_case_code() -> None:
    codes = [error.code for error in domain_errors()]
    assert len(codes) == len(set(codes))
    assert all(code == code.lower() and " " not in code for code in codes)


def test_required_codes_exist() -> None:
    codes = {error.code for error in domain_errors()}
    required = {
        "invalid_group_count",
        "too_many_groups",
        "unknown_participant",
        "group_full",
        "no_previous_round",
        "invalid_mapping",
        "agenda_ended",
    }
    assert required <= codes


def test_public_api_is_exported() -> None:
    for name in facilitation.__all__:
        assert hasattr(facilitation, name), name
    assert {"mix", "SelfSelect", "load_template", "analyse_network"} <= set(facilitation.__all__)
