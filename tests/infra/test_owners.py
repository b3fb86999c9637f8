import pytest

from marketplace_slack.infra.owners import earlier_life, instance_of, new_owner


def test_each_start_has_a_new_name_on_the_same_instance() -> None:
    first, second = new_owner("web-0"), new_owner("web-0")
    assert first != second
    assert instance_of(first) == instance_of(second) == "web-0"


def test_a_claim_left_by_an_earlier_start_of_this_instance_is_known_as_such() -> None:
    me = new_owner("web-0")
    assert earlier_life(new_owner("web-0"), me)
    assert not earlier_life(me, me)  # my own, still at work
    assert not earlier_life(new_owner("web-1"), me)  # another replica: it may be alive
    assert not earlier_life(None, me)
    assert not earlier_life("legacy-owner-without-incarnation", me)


@pytest.mark.parametrize("bad", ["", "a/b"])
def test_instance_names_that_would_be_ambiguous_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        new_owner(bad)
