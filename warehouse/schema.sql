-- Governance warehouse schema. Bump SCHEMA_VERSION in warehouse/schema.py when this changes.
-- Time columns are named *_at: `at` is a reserved word in DuckDB 2.0.
-- No table holds a clear ID number, name or phone number: persons are keyed by an HMAC of
-- the ID number, names and phones are stored masked.

CREATE TABLE schema_version (
    version     INTEGER NOT NULL,
    applied_at  TIMESTAMP NOT NULL
);

-- One row per area at any level: county (6 digits), town/street (9), village/community (12),
-- grid (15 = village code + 3 digits).
CREATE TABLE area (
    code         VARCHAR PRIMARY KEY,
    name         VARCHAR NOT NULL,
    level        VARCHAR NOT NULL CHECK (level IN ('county', 'town', 'village', 'grid')),
    parent_code  VARCHAR,
    kind         VARCHAR,          -- 街道/镇/开发区, 社区/村, 城市网格/农村网格
    geometry     VARCHAR,          -- GeoJSON geometry text (GCJ-02, as the outline)
    lon          DOUBLE,
    lat          DOUBLE,
    area_km2     DOUBLE
);

-- One row per area and role: grid workers and grid volunteers at grid level (the 1+2 rule),
-- patrol staff, volunteer patrollers, floating-population wardens and mediators at town level.
CREATE TABLE grid_staff (
    area_code    VARCHAR NOT NULL,
    -- village staffing (seeds 000/003: 1 综治专干, 1 社区民警, mediators, 保安, a social worker per
    -- village) and town centres (centre_staff: ≥ 11 per 综治中心) from v6
    role         VARCHAR NOT NULL CHECK (role IN ('grid_worker', 'grid_volunteer', 'patrol',
                                                  'patrol_volunteer', 'floating_warden', 'mediator',
                                                  'political_officer', 'community_police', 'security_guard',
                                                  'social_worker', 'centre_staff')),
    staff_count  INTEGER NOT NULL CHECK (staff_count >= 0),
    as_of        DATE NOT NULL,
    PRIMARY KEY (area_code, role)
);

-- One row per actual resident (实有人口).
-- person_key is unique without a PRIMARY KEY: the loader replaces a file's residents by key
-- and checks the keys it wrote (etl/keys.py). A key index on 3.8 M random hashes cost 3x the
-- insert itself (city scale: 14.1 s with it, 4.3 s without).
CREATE TABLE person (
    person_key        VARCHAR NOT NULL,      -- HMAC-SHA256 of the ID number, hex
    name_masked       VARCHAR,               -- e.g. 张*华
    phone_masked      VARCHAR,               -- e.g. 138****5678
    sex               VARCHAR NOT NULL CHECK (sex IN ('M', 'F')),
    birth_month       DATE NOT NULL,         -- first day of the birth month
    residence_type    VARCHAR NOT NULL CHECK (residence_type IN ('户籍', '流动', '境外')),
    household_key     VARCHAR NOT NULL,
    area_code         VARCHAR NOT NULL,      -- grid
    moved_in          DATE,
    -- special groups (特殊人群): only ever shown as suppressed aggregates
    is_corrections    BOOLEAN NOT NULL DEFAULT FALSE,   -- 社区矫正对象
    is_released       BOOLEAN NOT NULL DEFAULT FALSE,   -- 刑释解教人员
    is_mental         BOOLEAN NOT NULL DEFAULT FALSE,   -- 严重精神障碍患者
    is_drug           BOOLEAN NOT NULL DEFAULT FALSE,   -- 吸毒人员
    is_youth          BOOLEAN NOT NULL DEFAULT FALSE,   -- 重点青少年
    -- care groups (关爱人群); 60+/80+ are derived from birth_month
    lives_alone       BOOLEAN NOT NULL DEFAULT FALSE,   -- 独居
    is_dibao          BOOLEAN NOT NULL DEFAULT FALSE,   -- 低保
    is_disabled       BOOLEAN NOT NULL DEFAULT FALSE,   -- 残疾
    is_left_behind    BOOLEAN NOT NULL DEFAULT FALSE,   -- 留守儿童
    -- follow-up outcomes for special groups (targets in the indicator catalogue)
    is_placed         BOOLEAN,               -- 刑释解教: 安置就业
    reoffended        BOOLEAN,               -- 刑释解教/社区矫正: 重新犯罪/又犯罪 in the last 12 months
    updated_at        TIMESTAMP,
    -- 刑释解教 (v6): 衔接管控 (handed over on release and under control); 帮教 (a help-and-education
    -- group in place)
    is_linked         BOOLEAN,
    is_helped         BOOLEAN
);

-- Case-type catalogue with the 限时办结 deadline per type.
CREATE TABLE case_type (
    case_type       VARCHAR PRIMARY KEY,
    category        VARCHAR NOT NULL,
    deadline_hours  INTEGER NOT NULL CHECK (deadline_hours > 0)
);

-- One row per case (事件). The step timestamps are derived from case_event:
-- reported/accepted = the report/accept event, dispatched = first dispatch, handled = last
-- handle, verified/closed = the verify/close event. NULL = step not reached yet.
CREATE TABLE cases (
    case_id           VARCHAR PRIMARY KEY,
    case_type         VARCHAR NOT NULL,
    category          VARCHAR NOT NULL,
    source_channel    VARCHAR NOT NULL CHECK (source_channel IN
                        ('网格员巡查', '12345', '110联动', '信访', '来访', '视频巡查', '网络')),
    area_code         VARCHAR NOT NULL,      -- grid
    lon               DOUBLE,
    lat               DOUBLE,
    description       VARCHAR,               -- case text: never on the wall
    reporter_masked   VARCHAR,
    phone_masked      VARCHAR,
    reported_at       TIMESTAMP NOT NULL,
    accepted_at       TIMESTAMP,
    dispatched_at     TIMESTAMP,
    handled_at        TIMESTAMP,
    verified_at       TIMESTAMP,
    closed_at         TIMESTAMP,
    deadline_at       TIMESTAMP NOT NULL,
    status            VARCHAR NOT NULL CHECK (status IN
                        ('reported', 'accepted', 'dispatched', 'handled', 'verified', 'closed')),
    responsible_unit  VARCHAR,
    resolved_level    VARCHAR CHECK (resolved_level IN ('village', 'town', 'county')),
    returned_count    INTEGER NOT NULL DEFAULT 0 CHECK (returned_count >= 0),
    escalated         BOOLEAN NOT NULL DEFAULT FALSE,
    satisfaction      VARCHAR CHECK (satisfaction IN ('满意', '基本满意', '不满意')),
    citizen_resolved  BOOLEAN,               -- the citizen says the problem was solved (解决率)
    is_collective     BOOLEAN NOT NULL DEFAULT FALSE,   -- 群体性事件
    petition_status   VARCHAR,               -- 信访 outcome (三级终结, 息诉罢访, 已化解, …)
    updated_at        TIMESTAMP,
    -- 矛盾纠纷 (v6): how it was found (seed 003: 日常 / 集中 / 重点 / 专项排查) and mediated (seed 001: 三调)
    sweep_type        VARCHAR CHECK (sweep_type IN ('日常排查', '集中排查', '重点排查', '专项排查')),
    mediation_kind    VARCHAR CHECK (mediation_kind IN ('人民调解', '行政调解', '司法调解'))
);

-- The event log behind cases: one row per step taken, returns and escalations included.
-- (case_id, seq) is unique without a PRIMARY KEY: the loader writes whole logs per case and
-- checks the key of every log it extends or replaces (etl/keys.py). A key
-- index cost 5-6x the insert itself (7.45 M events at city scale: 13.1 s with it, 2.3 s without).
-- activity is the county's own name for what happened (派单, 签收, 回访, …); step is the stage
-- or side event the process definition maps it to (warehouse/process.py), NULL when the
-- definition does not map it (listed as unmapped, still kept and shown at activity level).
CREATE TABLE case_event (
    case_id      VARCHAR NOT NULL,
    seq          INTEGER NOT NULL,
    step         VARCHAR CHECK (step IN
                   ('report', 'accept', 'dispatch', 'handle', 'verify', 'close',
                    'return', 'escalate', 'delay', 'supervise', 'cancel', 'other')),
    occurred_at  TIMESTAMP NOT NULL,
    unit         VARCHAR,
    outcome      VARCHAR,
    activity     VARCHAR NOT NULL,
    process      VARCHAR NOT NULL,       -- name of the process definition that mapped it
    -- JSON object of the log's other columns
    attributes   VARCHAR
);

-- The process definitions in use: one row per definition and activity, with its stage or
-- side event (NULL: an activity the log holds and the definition does not map).
CREATE TABLE process_stage (
    process      VARCHAR NOT NULL,
    activity     VARCHAR NOT NULL,
    stage        VARCHAR CHECK (stage IN
                   ('report', 'accept', 'dispatch', 'handle', 'verify', 'close',
                    'return', 'escalate', 'delay', 'supervise', 'cancel', 'other')),
    source       VARCHAR,                -- the YAML file it came from
    PRIMARY KEY (process, activity)
);

-- Per-stage deadlines of the process definitions in use (warehouse/process.py): one row per
-- definition and stage a case can wait at. rule: case (the case's deadline_at), hours (hours
-- after the case first entered the stage) or none. A definition without rows has the default.
CREATE TABLE process_deadline (
    process      VARCHAR NOT NULL,
    stage        VARCHAR NOT NULL CHECK (stage IN ('report', 'accept', 'dispatch', 'handle', 'verify')),
    rule         VARCHAR NOT NULL CHECK (rule IN ('case', 'hours', 'none')),
    hours        DOUBLE CHECK (hours > 0),
    PRIMARY KEY (process, stage)
);

-- One row per public-opinion post (网络舆情).
CREATE TABLE opinion_post (
    post_id          VARCHAR PRIMARY KEY,
    platform         VARCHAR NOT NULL,       -- 微博, 微信, 抖音, 本地论坛, 12345网络留言
    published_at     TIMESTAMP NOT NULL,
    author_hash      VARCHAR,
    content          VARCHAR NOT NULL,
    place_text       VARCHAR,
    area_code        VARCHAR,                -- linked by the gazetteer; NULL when no place found
    lon              DOUBLE,
    lat              DOUBLE,
    sentiment        VARCHAR CHECK (sentiment IN ('positive', 'neutral', 'negative')),
    sentiment_score  DOUBLE,                 -- 0 = most negative, 1 = most positive
    topic            VARCHAR,
    keywords         VARCHAR,                -- space-separated
    engagement       INTEGER NOT NULL DEFAULT 0 CHECK (engagement >= 0),
    handling_status  VARCHAR                 -- 未研判, 研判, 预警, 处置, 引导, 办结
);

-- One row per warned opinion topic's handling record (舆情处置台账): when it was opened and
-- when each stage 研判 → 预警 → 处置 → 引导 → 办结 was reached (NULL: not reached yet).
CREATE TABLE opinion_case (
    opinion_case_id  VARCHAR PRIMARY KEY,
    area_code        VARCHAR NOT NULL,       -- the town (or village) the topic is about
    topic            VARCHAR NOT NULL,
    level            VARCHAR CHECK (level IN ('红', '橙', '黄', '蓝')),
    posts            INTEGER CHECK (posts >= 0),   -- posts behind the warning when opened
    opened_at        TIMESTAMP NOT NULL,     -- 发现 (monitoring flagged the topic)
    assessed_at      TIMESTAMP CHECK (assessed_at >= opened_at),     -- 研判
    warned_at        TIMESTAMP CHECK (warned_at >= assessed_at),     -- 预警
    handled_at       TIMESTAMP CHECK (handled_at >= warned_at),      -- 处置
    guided_at        TIMESTAMP CHECK (guided_at >= handled_at),      -- 引导
    closed_at        TIMESTAMP CHECK (closed_at >= guided_at),       -- 办结
    stage            VARCHAR NOT NULL CHECK (stage IN ('发现', '研判', '预警', '处置', '引导', '办结')),
    -- stages are reached in order: a later time needs every earlier one
    CHECK ((closed_at IS NULL OR guided_at IS NOT NULL) AND (guided_at IS NULL OR handled_at IS NOT NULL)
           AND (handled_at IS NULL OR warned_at IS NOT NULL) AND (warned_at IS NULL OR assessed_at IS NOT NULL)),
    -- the current stage is the last one reached
    CHECK (stage = CASE WHEN closed_at IS NOT NULL THEN '办结' WHEN guided_at IS NOT NULL THEN '引导'
                        WHEN handled_at IS NOT NULL THEN '处置' WHEN warned_at IS NOT NULL THEN '预警'
                        WHEN assessed_at IS NOT NULL THEN '研判' ELSE '发现' END)
);

-- 社会稳定风险评估 register: one row per major decision/project that required an assessment.
CREATE TABLE ssra (
    ssra_id          VARCHAR PRIMARY KEY,
    project_name     VARCHAR NOT NULL,
    project_type     VARCHAR NOT NULL,       -- 重大决策, 重大项目, 重大活动, 重大改革
    area_code        VARCHAR NOT NULL,
    submitted_at     DATE NOT NULL,
    decided_at       DATE,
    assessed         BOOLEAN NOT NULL,       -- FALSE: required but not assessed (应评未评)
    legality         DOUBLE,                 -- 合法性 0–100
    rationality      DOUBLE,                 -- 合理性
    feasibility      DOUBLE,                 -- 可行性
    controllability  DOUBLE,                 -- 可控性
    risk_level       VARCHAR CHECK (risk_level IN ('高', '中', '低')),
    decision         VARCHAR CHECK (decision IN ('实施', '暂缓', '不实施')),
    status           VARCHAR                 -- 评估中, 跟踪落实, 已完成
);

-- One row per survey respondent (群众安全感 and grid-service satisfaction surveys).
CREATE TABLE survey_response (
    response_id        VARCHAR PRIMARY KEY,
    survey_period      DATE NOT NULL,        -- first day of the quarter surveyed
    area_code          VARCHAR NOT NULL,     -- grid
    sense_of_security  VARCHAR CHECK (sense_of_security IN ('安全', '基本安全', '不太安全', '不安全')),
    grid_satisfaction  VARCHAR CHECK (grid_satisfaction IN ('满意', '基本满意', '不满意')),
    -- v6 survey items (seeds 001/000: 知晓度、参与度、满意度)
    -- 治安满意度; 知晓: knows the 平安建设 / 综治 work and how to reach it; 参与: took part in
    -- 群防群治 / 平安创建 in the past year
    security_satisfaction VARCHAR CHECK (security_satisfaction IN ('满意', '基本满意', '不满意')),
    aware              BOOLEAN,
    participated       BOOLEAN
);

-- 信访 register: one row per petition item (信访事项) as the 信访 system records it. A petition
-- that became a case links to it (case_id); the petitioner is a keyed hash of the ID number
-- (repeat petitions are counted by it, never shown). settled_at is when the item was closed
-- with an outcome (NULL while 办理中 / 正在化解), so a week's backlog is arithmetic on two dates.
CREATE TABLE petition (
    petition_id     VARCHAR PRIMARY KEY,
    case_id         VARCHAR,
    area_code       VARCHAR NOT NULL,      -- grid (or the village / town named) of the matter
    petitioner_key  VARCHAR,               -- HMAC of the petitioner's ID number
    received_at     TIMESTAMP NOT NULL,    -- 登记受理
    form            VARCHAR CHECK (form IN ('来信', '来访', '网上信访', '电话')),
    issue_type      VARCHAR NOT NULL,      -- 征地拆迁, 劳动社保, 涉军, 企业改制, …
    level_reached   VARCHAR NOT NULL CHECK (level_reached IN ('县内', '赴市', '赴省', '进京')),
    irregular       BOOLEAN NOT NULL DEFAULT FALSE,   -- 非正常上访
    collective      BOOLEAN NOT NULL DEFAULT FALSE,   -- 集体访 (five people or more)
    status          VARCHAR NOT NULL CHECK (status IN
                      ('办理中', '正在化解', '已化解', '息诉罢访', '三级终结', '引导诉讼', '移交', '无法化解')),
    settled_at      TIMESTAMP CHECK (settled_at >= received_at),
    CHECK ((settled_at IS NULL) = (status IN ('办理中', '正在化解')))
);

-- 重点信访稳控人员: one row per key petitioner under watch (aggregates only leave the warehouse).
CREATE TABLE key_petitioner (
    petitioner_key  VARCHAR PRIMARY KEY,
    area_code       VARCHAR NOT NULL,
    issue_type      VARCHAR NOT NULL,
    listed_at       DATE NOT NULL,
    control_status  VARCHAR NOT NULL CHECK (control_status IN ('稳控中', '已化解', '息诉罢访', '三级终结'))
);

-- One row per load or build run.
CREATE TABLE etl_run (
    run_id            VARCHAR PRIMARY KEY,
    kind              VARCHAR NOT NULL,      -- demo, areas, persons, cases, …
    domain            VARCHAR NOT NULL,      -- areas, population, cases, opinion, ssra, surveys
    file_name         VARCHAR,
    sha256            VARCHAR,
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP,
    rows_read         BIGINT NOT NULL DEFAULT 0,
    rows_loaded       BIGINT NOT NULL DEFAULT 0,
    rows_updated      BIGINT NOT NULL DEFAULT 0,
    rows_quarantined  BIGINT NOT NULL DEFAULT 0,
    outcome           VARCHAR NOT NULL,      -- ok, partial, failed, skipped
    run_by            VARCHAR,
    seconds           DOUBLE,
    message           VARCHAR
);

-- One row per rejected input row, with the raw row kept so nothing is lost.
CREATE TABLE quarantine (
    run_id       VARCHAR NOT NULL,
    file_name    VARCHAR NOT NULL,
    line_no      BIGINT NOT NULL,
    column_name  VARCHAR,
    reason_key   VARCHAR NOT NULL,
    reason_zh    VARCHAR NOT NULL,
    raw_row      VARCHAR NOT NULL,             -- JSON object of the row as read
    created_at   TIMESTAMP NOT NULL
);
