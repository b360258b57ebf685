"""Shared per-row definitions, as SQL expressions, so every metric counts the same way.

Use these in every query and mart instead of writing the condition again. `{now}` is the
data's 'now' (warehouse.meta.data_now) bound as a parameter or literal by the caller.
"""

# Overdue (逾期, 限时办结): ONE rule, from stage entry, read on mart_case_flow (never on
# `cases`). Each stage a case waits at has a deadline by its process definition
# (warehouse/process.py `deadlines`; default: the case's deadline_at at report … handle, none at
# verify); the mart holds each stage's deadline and exit (20_case_flow.sql).
# A case open now is overdue only against the deadline of the stage it is open at:
OPEN_AT_STAGE = "(open_stage IS NOT NULL)"
STAGE_OVERDUE = "coalesce(open_stage IS NOT NULL AND stage_deadline_at < {now}, FALSE)"  # no deadline: not overdue
OPEN_OVERDUE = STAGE_OVERDUE
OPEN = "(status <> 'closed')"
# A case is overdue (the 逾期率 of a period) when it left some stage after that stage's deadline
# (left_late) or is open now past the deadline of its stage.
OVERDUE = "(left_late OR coalesce(open_stage IS NOT NULL AND stage_deadline_at < {now}, FALSE))"
# The same at a past moment {now} (e.g. a month end): at that moment the case sat at a stage it
# had entered and not yet left (nor closed), past that stage's deadline. Per stage the mart
# keeps the first stay and the current one, so an earlier stay after a loop back is missed.
_AS_OF_STAGE = ("(entry_{s}_at <= {{now}} AND deadline_{s}_at < {{now}} "
                "AND coalesce(exit_{s}_at, entry_close_at, 'infinity'::TIMESTAMP) > {{now}})")
OPEN_OVERDUE_AS_OF = "(" + " OR ".join(
    [_AS_OF_STAGE.format(s=s) for s in ("report", "accept", "dispatch", "handle", "verify")]
    # the stage it is open at now, since it last entered it (a loop back re-enters a stage)
    + ["(open_stage IS NOT NULL AND open_since <= {now} AND stage_deadline_at < {now})"]) + ")"
del _AS_OF_STAGE  # a template, not a definition (indicators fill every string here with {now})
# only cases that were ever late can be OPEN_OVERDUE_AS_OF some moment (a cheap pre-filter)
EVER_LATE = "(left_late OR open_stage IS NOT NULL)"
# 满意率: 满意 + 基本满意 among rated cases (satisfaction is set when the case is closed)
SATISFIED = "(satisfaction IN ('满意', '基本满意'))"
RATED = "(satisfaction IS NOT NULL)"
# 小事不出村、大事不出镇: resolved at village or town level, among handled cases
RESOLVED_LOCAL = "(resolved_level IN ('village', 'town'))"
RESOLVED = "(resolved_level IS NOT NULL)"
DISPUTE = "(category = '矛盾纠纷')"
# 12345 三率, among cases from the 12345 channel:
# 响应率 accepted within 2 hours of the call; 解决率 the citizen says it was solved (among
# closed); 满意率 as SATISFIED among rated.
RESPONDED_12345 = "(accepted_at IS NOT NULL AND accepted_at <= reported_at + INTERVAL 2 HOUR)"
SOLVED = "(citizen_resolved)"
HOTLINE_12345 = "(source_channel = '12345')"
PETITION = "(source_channel = '信访')"
# 信访 register (table petition; warehouse/petition.py): 越级上访 went above the county,
# 进京非正常上访 an irregular petition in Beijing, and a repeat petition is one whose petitioner
# had another received in the 365 days before it (the petition row must be aliased x).
BEYOND_COUNTY = "(level_reached <> '县内')"
BEIJING_IRREGULAR = "(level_reached = '进京' AND irregular)"
REPEAT_PETITION = ("(EXISTS (SELECT 1 FROM petition e WHERE e.petitioner_key = x.petitioner_key"
                   " AND e.received_at < x.received_at AND e.received_at >= x.received_at - INTERVAL 365 DAY))")
# 网格服务满意率: 满意 + 基本满意 among survey respondents who answered the question
GRID_SATISFIED = "(grid_satisfaction IN ('满意', '基本满意'))"
# 群众安全感: 安全 + 基本安全 among survey respondents who answered the question
FEELS_SAFE = "(sense_of_security IN ('安全', '基本安全'))"
SAFETY_ANSWERED = "(sense_of_security IS NOT NULL)"
# A resident's age in completed years at {now}: birthdays passed, not calendar years crossed
# (date_diff('year') would count 2000-12 as 26 on 2026-11-24). birth_month is the first of the
# birth month, so a resident turns a year older on the first day of their birth month.
AGE = "datesub('year', birth_month, {now}::DATE)"
SPECIAL_GROUP_COLUMNS = {"is_corrections": "社区矫正", "is_released": "刑释解教", "is_mental": "严重精神障碍",
                         "is_drug": "吸毒", "is_youth": "重点青少年"}
CARE_GROUP_COLUMNS = {"lives_alone": "独居", "is_dibao": "低保", "is_disabled": "残疾",
                      "is_left_behind": "留守儿童"}
# Small cells of special groups (< 5) are suppressed everywhere they are shown or exported.
SUPPRESS_BELOW = 5
# An opinion post scored negative at load time (etl/opinion/sentiment.py).
NEGATIVE_POST = "(sentiment = 'negative')"


def sql(expr: str, now_sql: str = "?") -> str:
    """Fill {now} with a parameter marker or SQL literal."""
    return expr.format(now=now_sql)
