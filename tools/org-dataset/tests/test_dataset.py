"""The generated organisation directory: deterministic, a valid tree, real and plausible."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest

from eproc_org_dataset import OrganisationSeed, generate
from eproc_org_dataset.__main__ import main
from eproc_org_dataset.municipalities import MUNICIPALITIES
from eproc_organisations.enterprise_number import normalise_enterprise_number

BIG = 100_000
FEDERAL_KINDS = {
    "federal_government",
    "federal_fps",
    "federal_pps",
    "federal_ministry",
    "federal_agency",
    "directorate",
}


@pytest.fixture(scope="module")
def big() -> list[OrganisationSeed]:
    return generate(BIG, seed=0)


@pytest.fixture(scope="module")
def by_key(big: list[OrganisationSeed]) -> dict[str, OrganisationSeed]:
    return {o.key: o for o in big}


def names_of(organisations: list[OrganisationSeed]) -> set[str]:
    return {name for o in organisations for name in o.names.values()}


def test_the_same_seed_gives_the_same_dataset() -> None:
    assert generate(3000, seed=5) == generate(3000, seed=5)
    assert [o.to_dict() for o in generate(3000, seed=5)] == [
        o.to_dict() for o in generate(3000, seed=5)
    ]


def test_another_seed_gives_another_dataset() -> None:
    first, second = generate(3000, seed=5), generate(3000, seed=6)
    assert first != second
    assert {o.enterprise_number for o in first} != {o.enterprise_number for o in second}
    # Beyond the real organisations, the synthetic ones differ too.
    assert [o.key for o in generate(5000, 5)[2000:]] != [o.key for o in generate(5000, 6)[2000:]]


@pytest.mark.parametrize("size", [0, 1, 7, 50, 1234, 2500])
def test_the_size_is_respected_exactly(size: int) -> None:
    assert len(generate(size, seed=3)) == size


def test_a_smaller_size_is_a_prefix_of_a_larger_one(big: list[OrganisationSeed]) -> None:
    assert generate(50) == big[:50]
    assert generate(4321) == big[:4321]


def test_a_negative_size_is_refused() -> None:
    with pytest.raises(ValueError, match="size"):
        generate(-1)


def test_every_enterprise_number_is_valid_and_unique(big: list[OrganisationSeed]) -> None:
    numbers = [o.enterprise_number for o in big]
    assert len(set(numbers)) == BIG
    for number in numbers:
        assert normalise_enterprise_number(number) == number
    first_digits = Counter(number[0] for number in numbers)
    assert set(first_digits) == {"0", "1"}
    assert first_digits["1"] < first_digits["0"]


def test_keys_are_unique_and_parents_come_before_children(big: list[OrganisationSeed]) -> None:
    seen: set[str] = set()
    for organisation in big:
        assert organisation.key not in seen
        if organisation.parent_key is not None:
            assert organisation.parent_key in seen, organisation.key
        seen.add(organisation.key)


def test_the_roots_are_the_federal_government_regions_and_communities(
    big: list[OrganisationSeed],
) -> None:
    roots = {o.name for o in big if o.parent_key is None}
    assert roots == {
        "Federale Overheid",
        "Vlaams Gewest",
        "Région wallonne",
        "Brussels Hoofdstedelijk Gewest",
        "Vlaamse Gemeenschap",
        "Fédération Wallonie-Bruxelles",
        "Deutschsprachige Gemeinschaft",
    }


def test_a_small_dataset_is_already_a_tree_with_all_levels() -> None:
    small = generate(50)
    kinds = {o.kind for o in small}
    assert {
        "federal_government",
        "federal_fps",
        "region",
        "province",
        "municipality",
        "cpas",
    } <= kinds
    keys = {o.key for o in small}
    assert all(o.parent_key is None or o.parent_key in keys for o in small)


def test_all_581_municipalities_each_with_a_cpas(big: list[OrganisationSeed]) -> None:
    municipalities = [o for o in big if o.kind == "municipality"]
    assert len(municipalities) == len(MUNICIPALITIES) == 581
    cpas_parents = {o.parent_key for o in big if o.kind == "cpas"}
    assert cpas_parents == {o.key for o in municipalities}


def test_real_organisations_are_present(big: list[OrganisationSeed]) -> None:
    names = names_of(big)
    for name in [
        "Université de Liège",
        "Universiteit Gent",
        "KU Leuven",
        "Université catholique de Louvain",
        "Sint-Niklaas",
        "Liège",
        "Écaussinnes",
        "Braine-l'Alleud",
        "Eupen",
        "Sankt Vith",
        "Saint-Vith",
        "OCMW Sint-Niklaas",
        "CPAS de Liège",
        "CPAS d'Écaussinnes",
        "ÖSHZ Eupen",
        "FOD Financiën",
        "SPF Finances",
        "FÖD Finanzen",
        "FPS Finance",
        "Provincie Oost-Vlaanderen",
        "Province de Liège",
        "Politiezone Brussel-West",
        "Zone de police Bruxelles-Ouest",
    ]:
        assert name in names, name


def test_the_best_known_organisations_are_in_a_thousand() -> None:
    names = names_of(generate(1000))
    for name in ["Université de Liège", "Sint-Niklaas", "Liège", "Eupen", "FOD Financiën"]:
        assert name in names, name


def test_municipalities_are_named_in_their_official_languages(
    big: list[OrganisationSeed],
) -> None:
    languages = Counter(tuple(o.names) for o in big if o.kind == "municipality")
    assert languages == {("nl",): 300, ("fr",): 253, ("nl", "fr"): 19, ("de", "fr"): 9}
    by_name = {o.name: o for o in big if o.kind == "municipality"}
    assert by_name["Brussel"].names == {"nl": "Brussel", "fr": "Bruxelles"}
    assert list(by_name["Kelmis"].names.items()) == [("de", "Kelmis"), ("fr", "La Calamine")]
    assert by_name["Sint-Niklaas"].names == {"nl": "Sint-Niklaas"}


def test_federal_bodies_have_all_four_languages(big: list[OrganisationSeed]) -> None:
    federal = [o for o in big if o.kind in FEDERAL_KINDS]
    assert len(federal) > 100
    for organisation in federal:
        assert list(organisation.names) == ["nl", "fr", "de", "en"], organisation.key


def test_local_bodies_use_only_the_languages_of_their_place(
    big: list[OrganisationSeed], by_key: dict[str, OrganisationSeed]
) -> None:
    local_parents = {"municipality", "cpas", "police_zone"}
    checked = 0
    for organisation in big:
        parent = by_key.get(organisation.parent_key or "")
        if parent is not None and parent.kind in local_parents:
            assert set(organisation.names) <= set(parent.names), organisation.key
            checked += 1
    assert checked > 50_000


def test_names_are_well_formed_and_mostly_distinct(big: list[OrganisationSeed]) -> None:
    for organisation in big:
        assert organisation.names, organisation.key
        assert set(organisation.names) <= {"nl", "fr", "de", "en"}
        # English is only ever a translation, never the main name.
        assert next(iter(organisation.names)) != "en"
        for name in organisation.names.values():
            assert name == name.strip() and "  " not in name and "{" not in name
    first_names = [o.name for o in big]
    assert len(set(first_names)) / len(first_names) > 0.95


def test_addresses_use_the_postcode_and_name_of_a_real_municipality(
    big: list[OrganisationSeed],
) -> None:
    known = {(m.postcode, name) for m in MUNICIPALITIES for name in m.names.values()}
    for organisation in big:
        address = organisation.address
        assert (address.postcode, address.municipality) in known, organisation.key
        assert address.street and address.number.isdigit()


def test_postcodes_match_the_province(big: list[OrganisationSeed]) -> None:
    ranges = {
        "province/ant": [(2000, 2999)],
        "province/lim": [(3500, 3999)],
        "province/ovl": [(9000, 9999)],
        "province/wvl": [(8000, 8999)],
        "province/vbr": [(1500, 1999), (3000, 3499)],
        "province/bwa": [(1300, 1499)],
        "province/hai": [(6000, 6599), (7000, 7999)],
        "province/lie": [(4000, 4999)],
        "province/lux": [(6600, 6999)],
        "province/nam": [(5000, 5999)],
        "region/brussels-region": [(1000, 1299)],
    }
    for organisation in big:
        if organisation.kind == "municipality":
            postcode = int(organisation.address.postcode)
            spans = ranges[organisation.parent_key or ""]
            assert any(low <= postcode <= high for low, high in spans), organisation.name


def test_the_tree_has_the_expected_kinds(big: list[OrganisationSeed]) -> None:
    kinds = Counter(o.kind for o in big)
    for kind in [
        "federal_fps",
        "directorate",
        "service",
        "region",
        "community",
        "province",
        "municipality",
        "cpas",
        "police_zone",
        "intermunicipal",
        "school",
        "hospital",
        "university",
        "university_college",
        "church_fabric",
        "fire_zone",
    ]:
        assert kinds[kind] > 0, kind
    assert kinds["school"] > kinds["municipality"]


def test_command_line_writes_jsonl(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--size", "25", "--seed", "1", "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == [o.to_dict() for o in generate(25, 1)]


def test_command_line_writes_csv(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--size", "10", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 10
    assert rows[0]["name_nl"] == "Federale Overheid"
    assert rows[0]["parent_key"] == ""
