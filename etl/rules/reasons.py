"""Why a row was quarantined: an English key for code and a Chinese text a clerk understands."""

REASONS: dict[str, str] = {
    "missing_value": "必填项为空",
    "bad_date": "日期/时间无法识别（可用 2024-03-05、2024/3/5 8:05、2024年3月5日 或 Excel 日期）",
    "future_date": "日期晚于导入时间（未来日期）",
    "bad_number": "不是有效数字",
    "negative_count": "数量不能为负数",
    "out_of_range": "数值超出允许范围",
    "bad_value": "取值不在允许范围内",
    "bad_bool": "应填写“是”或“否”",
    "unknown_area": "区划/网格编码在系统中不存在",
    "unknown_parent": "上级区划编码在系统中不存在",
    "bad_area_code": "区划编码位数不对（县6位、镇9位、村12位、网格15位）或此处不接受该层级",
    "id_format": "身份证号格式错误（应为18位）",
    "id_check_digit": "身份证号校验位错误",
    "id_birth_date": "身份证号中的出生日期无效",
    "duplicate_key": "文件内编号重复（已保留第一条）",
    "steps_out_of_order": "办理环节时间顺序颠倒（如办结早于受理）",
    "unknown_case": "事件编号不存在，请先导入事件主表",
    "unknown_case_type": "事件类型未登记，且未提供办理时限",
    "unknown_area_name": "所属镇街/村社区名称在区划中找不到（请核对名称或改填网格/村居编码）",
    "ambiguous_area": "所属镇街/村社区名称对应多个区划，无法确定（请补填所属街道或编码）",
    "bad_settled_at": "办结日期与办理状态不符（已办结须有办结日期、办理中不应有，且不早于登记日期）",
    "too_many_fields": "字段数多于表头（多为文字中有未加引号的逗号），整行未导入，请给该文字加引号后重新导入",
}


def reason_zh(key: str) -> str:
    return REASONS.get(key, key)
