"""``map_leaves``: the one walk the JSON, Avro and docs converters share; each gives only its leaf rule."""

from decimal import Decimal

from rosterhub.leaves import map_leaves


def test_dicts_keep_their_keys_and_lists_stay_lists_with_each_leaf_converted() -> None:
    value = {"a": Decimal("1.50"), "b": [Decimal("2"), {"c": None}], "d": "text"}
    assert map_leaves(value, lambda v: str(v) if isinstance(v, Decimal) else v) == {
        "a": "1.50",
        "b": ["2", {"c": None}],
        "d": "text",
    }


def test_a_tuple_is_a_leaf_unless_the_caller_walks_tuples_too() -> None:
    assert map_leaves({"t": (1, 2)}, repr) == {"t": "(1, 2)"}
    assert map_leaves({"t": (1, 2)}, repr, sequences=(list, tuple)) == {"t": ["1", "2"]}


def test_a_plain_value_is_its_own_leaf() -> None:
    assert map_leaves(Decimal("3"), str) == "3"
