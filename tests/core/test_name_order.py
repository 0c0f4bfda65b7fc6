"""Lists of people are ordered for readers, not by code point: case and accents do not push a name away."""
from __future__ import annotations

from workdesk import name_sort_key, sorted_by_name


def test_case_and_accents_do_not_move_a_name_to_the_end():
    names = ["Zoe", "élodie", "Elodie", "anna", "Đặng Văn", "Dang Thi", "Duc", "Émile", "emma"]
    assert sorted_by_name(names, lambda n: n) == ["anna", "Dang Thi", "Đặng Văn", "Duc", "Elodie", "élodie",
                                                  "Émile", "emma", "Zoe"]


def test_cyrillic_keeps_its_own_letters_and_folds_yo():
    names = ["Яна", "Йордан", "Иван", "Ёлкин", "Елена", "ангел"]
    # ё sorts with е (Russian practice), й after и (a letter of its own in Russian and Bulgarian).
    assert sorted_by_name(names, lambda n: n) == ["ангел", "Елена", "Ёлкин", "Иван", "Йордан", "Яна"]


def test_names_that_fold_alike_keep_a_stable_order_and_blank_names_come_first():
    assert name_sort_key(None) == ("", "", "")
    assert sorted_by_name(["Élodie", "elodie", "ELODIE"], lambda n: n) == ["ELODIE", "elodie", "Élodie"]


def test_the_new_task_form_offers_assignees_in_that_order(client, login, make_user, make_department):
    dept = make_department()
    boss = make_user("manager", [dept], name="Boss")
    for name in ("Zoe Z", "élodie E", "Anna A"):
        make_user("agent", [dept], name=name)
    login(client, boss)
    html = client.get(f"/tasks/new?department_id={dept.id}").get_data(as_text=True)
    positions = [html.find(name) for name in ("Anna A", "élodie E", "Zoe Z")]
    assert -1 not in positions and positions == sorted(positions), positions
