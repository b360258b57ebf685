from etl.identity import check_digit, id_problem, mask_name, mask_phone, person_key


def test_check_digit_known_examples():
    # the standard's published example and a computed one
    assert check_digit("11010519491231002") == "X"
    assert id_problem("11010519491231002X") is None
    assert id_problem("110105194912310021") == "id_check_digit"
    assert id_problem("1101051949123100") == "id_format"
    assert id_problem("11010519491331002" + check_digit("11010519491331002")) == "id_birth_date"


def test_hash_is_keyed_and_stable():
    a = person_key("11010519491231002X", b"k1")
    assert a == person_key("11010519491231002x", b"k1")
    assert a != person_key("11010519491231002X", b"k2")
    assert "11010519491231002X" not in a and len(a) == 64


def test_masking():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧**娜"
    assert mask_phone("13812345678") == "138****5678"
