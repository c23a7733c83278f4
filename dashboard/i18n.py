"""Labels (Chinese first, English second) and number formatting as readers expect them.

Every label on a page goes through :func:`t`; :data:`LABELS` holds one dict per language with the same
keys (a test checks that). Numbers go through :func:`format_value`, which writes large Chinese figures
with 万 / 亿 and money in 亿元, and English ones with thousands separators, million and billion.
"""

from __future__ import annotations

import math

from evaluation.likelihood import SCALE

DEFAULT_LANG = "zh"

ZH: dict[str, str] = {
    "app.title": "dtscope 数字化转型评估与预测",
    "app.brand": "dtscope · 城市数字化转型",
    "nav.overview": "总览",
    "nav.scenarios": "应用场景",
    "nav.models": "模型",
    "nav.data": "数据",
    "lang.label": "语言",
    "banner.synthetic": "本页显示的部分数据为演示用合成数据（synthetic-demo），不是真实统计。",
    "empty.table": "尚未发布“{table}”表 —— 请先运行 `dtscope run`",
    "empty.forecasts": "尚未发布预测 —— 请先运行 `dtscope run`",
    "empty.rows": "没有符合筛选条件的记录",
    "empty.kpi": "未找到指标 {kpi_id}（地区 {region}）",
    "empty.scenario": "未找到应用场景 {scenario_id}",
    "empty.efficacy": "该场景没有成效时间序列（需要上线前后的结果指标数据）",
    "empty.contrib": "该场景在本期没有指标贡献分解",
    "region.label": "地区",
    "region.all": "全部区",
    "filter.status": "状态",
    "filter.obligation": "指标属性",
    "filter.search": "搜索指标",
    "filter.all": "全部",
    "filter.domain": "领域",
    "filter.district": "区",
    "filter.street": "街镇",
    "filter.category": "类别",
    "filter.owner": "责任单位",
    "sort.label": "排序",
    "sort.p_asc": "达标概率（低→高）",
    "sort.p_desc": "达标概率（高→低）",
    "sort.name": "指标名称",
    "sort.status": "状态",
    "status.achieved": "已达标",
    "status.on_track": "进展顺利",
    "status.at_risk": "存在风险",
    "status.off_track": "偏离目标",
    "status.unknown": "无评估",
    "obligation.binding": "约束性",
    "obligation.expected": "预期性",
    "col.kpi": "指标",
    "col.region": "地区",
    "col.latest": "最新值（年份）",
    "col.target": "目标（年份）",
    "col.p_reach": "达标概率",
    "col.status": "状态",
    "col.obligation": "属性",
    "col.summary": "说明",
    "col.rank": "排名",
    "col.rank_interval": "排名区间",
    "col.scenario": "应用场景",
    "col.domain": "领域",
    "col.total": "总分",
    "col.grade": "等级",
    "col.street": "街镇",
    "col.owner": "责任单位",
    "col.model": "模型",
    "col.run": "运行",
    "col.alias": "角色",
    "col.kind": "类型",
    "col.status_run": "运行状态",
    "col.start": "开始时间",
    "col.file": "文件",
    "col.vintage": "入库时间",
    "col.layout": "格式",
    "col.rows_in": "输入行",
    "col.accepted": "接受",
    "col.rejected": "拒绝",
    "col.unchanged": "未变",
    "col.row": "行",
    "col.column": "列",
    "col.reason": "原因",
    "col.reason_code": "原因代码",
    "col.period": "时期",
    "col.value": "数值",
    "col.indicator": "指标",
    "col.source": "来源",
    "sentence.reach": "{year}年达到{target}的可能性：{p}（{likelihood}）",
    "sentence.achieved": "已达到目标{target}（{year}年）",
    "sentence.missed": "目标{target}（{year}年）未达到，最新值 {latest}",
    "sentence.no_target": "无量化目标",
    "sentence.no_forecast": "尚无预测",
    **{f"likelihood.{term.key}": term.zh for term in SCALE},  # the one IPCC scale, evaluation.likelihood
    "export.csv": "下载 CSV",
    "export.excel": "下载 Excel",
    "export.brief": "下载领导简报（HTML）",
    "overview.title": "关键指标总览",
    "overview.lead": "各区关键指标的最新值、目标与达标概率（由已发布的预测计算，页面不重新拟合模型）。",
    "kpi.history": "历史",
    "kpi.median": "中位预测",
    "kpi.band80": "80% 区间",
    "kpi.band95": "95% 区间",
    "kpi.target": "目标",
    "kpi.required": "达标所需路径",
    "kpi.anticipated_growth": "预期年增长",
    "kpi.required_growth": "所需年增长",
    "kpi.expected_year": "预计达标年份",
    "kpi.not_reached": "预测期内未达标",
    "kpi.model": "模型",
    "kpi.run": "MLflow 运行",
    "reliability.sentence": "过去预测概率在{lo}–{hi}之间的判断中，{freq}实现（n = {n}）",
    "reliability.few": "过去预测概率在{lo}–{hi}之间的判断只有 {n} 次（少于 {min} 次），尚不足以说明其可靠程度",
    "reliability.none": "回测中没有预测概率在{lo}–{hi}之间的判断，无法说明其可靠程度",
    "auth.logout": "退出登录",
    "auth.signed_in": "{name}（{role}）",
    "role.leader": "领导",
    "role.evaluator": "评估人员",
    "role.owner": "责任部门",
    "role.data_scientist": "数据科学",
    "role.admin": "管理员",
    "data.upload_not_allowed": "上传数据仅限本区的责任部门和管理员。",
    "data.upload_out_of_scope": "您的账号无权为这些地区上传数据：{regions}",
    "kpi.whatif": "情景推演",
    "kpi.whatif_growth": "每年额外增长",
    "kpi.whatif_added": "新增场景/年",
    "kpi.whatif_result": "额外年增长 {g} 时，{year}年达标概率：{p}（原为 {p0}）",
    "kpi.whatif_result_added": "额外年增长 {g}、每年新增 {n} 个场景时，{year}年达标概率：{p}（原为 {p0}）",
    "kpi.added_na_scenarios": "不适用：本指标不是以“个”计的累计场景数",
    "kpi.added_na_cumulative": "不适用：本指标是当年新增数，不是累计数",
    "kpi.added_na_years": "不适用：目标年份已过，没有剩余年份",
    "kpi.whatif_na": "该指标没有已发布的预测样本，无法推演",
    "kpi.back": "← 返回总览",
    "kpi.year": "年份",
    "scen.title": "应用场景评估排行",
    "scen.lead": "总分、等级、排名及其不确定区间（排名区间来自权重与数据的不确定性）。",
    "scen.count": "共 {n} 个应用场景",
    "scen.sensitivity": "权重敏感性：权重变动时的排名变化（前 {n} 名）",
    "scen.radar": "维度得分",
    "scen.contrib": "指标贡献",
    "scen.efficacy": "效能评估：实施前后与拟合反事实",
    "scen.observed": "观测值",
    "scen.fitted": "拟合值",
    "scen.counterfactual": "反事实（未实施）",
    "scen.launch": "上线",
    "scen.effect": "效应 {effect}（95% 置信区间 {lo} 至 {hi}，p = {p}，方法 {method}）",
    "scen.completeness": "数据完整性",
    "scen.missing": "缺少指标：{items}",
    "scen.complete": "指标齐全",
    "scen.insufficient": "效能数据不足（实施前 {n_pre} 期，实施后 {n_post} 期）",
    "scen.benchmark": "标杆场景",
    "scen.budget": "预算",
    "scen.back": "← 返回排行",
    "scen.rank_change": "排名变化",
    "scen.delta": "权重变动",
    "scen.dimension": "维度",
    "scen.p_grade": "等级概率",
    "domain.life": "生活",
    "domain.governance": "治理",
    "domain.economy": "经济",
    "models.title": "模型与运行",
    "models.lead": "回测指标、概率校准与冠军/挑战者模型；点击运行编号进入 MLflow。",
    "models.metric": "指标",
    "models.kind": "指标类型",
    "models.backtest": "回测：{metric}（按模型与预测步长）",
    "models.calibration": "达标概率校准图",
    "models.predicted": "预测概率",
    "models.observed": "实际频率",
    "models.perfect": "完美校准",
    "models.horizon": "预测步长（年）",
    "models.runs": "运行记录",
    "models.production": "在用版本",
    "models.challenger": "挑战者",
    "models.open_mlflow": "打开 MLflow",
    "models.all_horizons": "全部",
    "models.metrics_note": "每个指标类型一行：所有预测步长合并的回测结果（即发布表中 horizon = 0 的数值）。",
    "data.title": "数据入库",
    "data.lead": "按入库时间查看入库历史与被拒记录；上传文件会先校验，确认后才入库。",
    "data.ingests": "入库历史",
    "data.rejects": "被拒记录及原因",
    "data.upload": "拖放或点击选择 CSV / Excel 文件（不超过 {limit}）",
    "data.upload_ok": "文件 {file}：{acc} 行通过校验，{rej} 行被拒。确认后入库。",
    "data.upload_none": "文件 {file}：{rej} 行全部被拒，没有可入库的行。请按下列原因修改后重新上传。",
    "data.upload_bad": "文件 {file} 无法入库：{reason}",
    "data.too_big": "文件 {file}（{size}）超过 {limit} 的上限，未上传。请拆分后再上传",
    "data.bad_type": "不支持的文件类型 {file}：请上传 .csv、.xlsx 或 .xlsm",
    "data.no_handler": "此服务未配置上传校验（请用 `dtscope dashboard` 启动）",
    "data.confirm": "确认入库",
    "data.confirmed": "已入库：{msg}",
    "data.accepted_rows": "通过校验的行（前 {n} 行）",
    "data.rejected_rows": "被拒的行",
    "table.truncated": "仅显示前 {n} 行，共 {total} 行；下载可获得全部",
    "unit.yuan_yi": "亿元",
    # the default assessment scheme's dimensions (data/registry/assessment/default.yaml)
    "dim.demand": "需求导向",
    "dim.problem": "问题导向",
    "dim.effect": "效果导向",
    "dim.funds": "资金效能",
    "dim.data": "数据赋能",
    "dim.usage": "使用度",
    "dim.efficiency": "效率",
    "dim.satisfaction": "满意度",
    "dim.coverage": "覆盖面",
    "dim.sustainability": "可持续性",
    # assessment rounds (pages/rounds.py, pages/round.py)
    "nav.rounds": "考核轮次",
    "rounds.title": "考核评估轮次",
    "rounds.lead": "每一轮：冻结的评估方案 × 期间 × 区 × 应用场景；评估人员打分并提交，领导审核签批，每一步留痕可追溯。",
    "rounds.needs_service": "考核轮次需要登录后使用（`dtscope serve`）。",
    "rounds.none": "还没有可见的考核轮次",
    "rounds.loading": "正在读取……",
    "rounds.failed": "读取失败：{detail}",
    "rounds.back": "← 全部轮次",
    "rounds.open": "发起考核轮次",
    "rounds.open_lead": "发起后，方案和所选区在该期间的指标数据即被冻结；只能选择你的账号所辖的区。",
    "rounds.open_scheme": "评估方案",
    "rounds.open_period": "期间（年或年-月）",
    "rounds.open_regions": "区",
    "rounds.open_button": "发起轮次",
    "rounds.open_no_scheme": "请选择评估方案。",
    "rounds.open_bad_period": "期间应写作 2024 或 2024-06。",
    "rounds.open_no_region": "请至少选择一个区。",
    "rounds.opened": "已发起考核轮次 {id}（{n} 个应用场景）。",
    "rounds.opened_link": "打开该轮次 →",
    "round.owner": "本部门自评",
    "round.owner_lead": "下表是本轮将用于计分的指标数值（发起时冻结）。对每个指标可以填写自评说明、佐证材料链接；如对数值有异议，请标记并写明理由，评估人员打分前会看到。",
    "round.owner_none": "本轮没有你所在部门的应用场景。",
    "round.owner_closed": "本轮当前状态下不能再修改自评。",
    "round.owner_scenario": "应用场景",
    "round.owner_indicator": "指标",
    "round.owner_note": "自评说明",
    "round.owner_evidence": "佐证材料链接（每行一个，http 或 https）",
    "round.owner_disputed": "对该指标数值有异议",
    "round.owner_reason": "异议理由（标记异议时必填）",
    "round.owner_save": "保存自评",
    "round.owner_notes": "责任单位自评与异议",
    "round.self_assessment": "保存自评",
    "col.judged_by": "计分方式",
    "col.note": "自评说明",
    "col.evidence": "佐证材料",
    "col.dispute": "异议",
    "col.author": "填写人",
    "round.judged": "专家评分",
    "round.measured": "数据计算",
    "round.title": "考核轮次 {id}",
    "round.report_html": "轮次报告（网页）",
    "round.report_xlsx": "导出 Excel",
    "round.meta": "方案 {scheme}（版本 {sha}）· 期间 {period} · {regions} · 第 {version} 版 · 数据截至 {vintage}",
    "round.returned": "已退回：{reason}",
    "round.approved_by": "{who} 于 {at} 审核通过",
    "round.progress": "评估人员进度",
    "round.scenario_progress": "应用场景进度",
    "round.judge": "我的评分",
    "round.judge_hidden": "其他评估人员的评分在你提交之前不可见。",
    "round.judge_scenario": "应用场景",
    "round.judge_comment": "评语",
    "round.judge_save": "保存评分",
    "round.judge_none": "本方案没有需要评估人员打分的指标。",
    "round.scale": "量表 {lo}–{hi}",
    "round.ahp": "层次分析法（AHP）判断矩阵",
    "round.ahp_lead": "a[i][j] = 行指标相对列指标的重要程度（1–9 标度，可填 1/3 等分数）；下三角自动取倒数。",
    "round.ahp_node": "节点",
    "round.ahp_cr": "一致性比率 CR = {cr}（上限 {limit}）",
    "round.ahp_ok": "一致性可以接受，可以提交。",
    "round.ahp_blocked": "CR 超过方案上限，不能提交：请先修改最不一致的判断。",
    "round.ahp_worst": "最不一致的判断：{row} 对 {column} = {value}，权重推算约为 {implied}，建议改为 {suggested}",
    "round.ahp_bad_cell": "无法读取判断：{detail}",
    "round.ahp_save": "提交判断矩阵",
    "round.ahp_weights": "权重",
    "round.ahp_saved": "判断矩阵已保存（节点 {node}，CR {cr}）",
    "round.actions": "操作",
    "round.submit": "提交我的评分",
    "round.approve": "审核通过",
    "round.return": "退回",
    "round.revise": "发起修订",
    "round.reason": "理由（退回或修订时必填）",
    "round.no_actions": "当前状态下你没有可执行的操作。",
    "round.done": "已完成：{action}",
    "round.refused": "未完成（{status}）：{detail}",
    "round.scores": "本轮得分",
    "round.scores_hidden": "提交你的评分后可以看到本轮得分。",
    "round.agreement": "评估人员一致性",
    "state.open": "进行中",
    "state.submitted": "已提交",
    "state.approved": "已审核",
    "state.returned": "已退回",
    "col.round": "轮次",
    "col.scheme": "方案",
    "col.regions": "区",
    "col.state": "状态",
    "col.version": "版本",
    "col.evaluators": "已提交评估人员",
    "col.created": "发起",
    "col.approved": "审核",
    "col.evaluator": "评估人员",
    "col.rated": "已评",
    "col.expected": "应评",
    "col.submitted": "已提交",
    "col.mine": "我已评指标",
    "col.judged": "打分指标",
    "col.raters": "可见评估人数",
    "col.icc_2_1": "ICC(2,1)",
    "col.icc_2_k": "ICC(2,k)",
    "col.kendall_w": "Kendall W",
    "col.flagged": "分歧较大的场景",
    "yes": "是",
    "no": "否",
}

EN: dict[str, str] = {
    "app.title": "dtscope digital-transformation evaluation and forecasting",
    "app.brand": "dtscope · urban digital transformation",
    "nav.overview": "Overview",
    "nav.scenarios": "Scenarios",
    "nav.models": "Models",
    "nav.data": "Data",
    "lang.label": "Language",
    "banner.synthetic": "part of what this page shows is synthetic demo data (synthetic-demo), not real statistics.",
    "empty.table": "no {table} published yet — run `dtscope run`",
    "empty.forecasts": "no forecasts published yet — run `dtscope run`",
    "empty.rows": "no rows match the filters",
    "empty.kpi": "no KPI {kpi_id} for region {region}",
    "empty.scenario": "no scenario {scenario_id}",
    "empty.efficacy": "no efficacy series for this scenario (it needs outcome data from before and after launch)",
    "empty.contrib": "no indicator contributions for this scenario in this period",
    "region.label": "Region",
    "region.all": "All districts",
    "filter.status": "Status",
    "filter.obligation": "Obligation",
    "filter.search": "Search KPIs",
    "filter.all": "All",
    "filter.domain": "Domain",
    "filter.district": "District",
    "filter.street": "Street",
    "filter.category": "Category",
    "filter.owner": "Owner",
    "sort.label": "Sort",
    "sort.p_asc": "Probability (low → high)",
    "sort.p_desc": "Probability (high → low)",
    "sort.name": "KPI name",
    "sort.status": "Status",
    "status.achieved": "Achieved",
    "status.on_track": "On track",
    "status.at_risk": "At risk",
    "status.off_track": "Off track",
    "status.unknown": "Not assessed",
    "obligation.binding": "Binding",
    "obligation.expected": "Expected",
    "col.kpi": "KPI",
    "col.region": "Region",
    "col.latest": "Latest (year)",
    "col.target": "Target (year)",
    "col.p_reach": "P(reach)",
    "col.status": "Status",
    "col.obligation": "Obligation",
    "col.summary": "Summary",
    "col.rank": "Rank",
    "col.rank_interval": "Rank interval",
    "col.scenario": "Scenario",
    "col.domain": "Domain",
    "col.total": "Total",
    "col.grade": "Grade",
    "col.street": "Street",
    "col.owner": "Owner",
    "col.model": "Model",
    "col.run": "Run",
    "col.alias": "Role",
    "col.kind": "Kind",
    "col.status_run": "Run status",
    "col.start": "Started",
    "col.file": "File",
    "col.vintage": "Vintage",
    "col.layout": "Layout",
    "col.rows_in": "Rows in",
    "col.accepted": "Accepted",
    "col.rejected": "Rejected",
    "col.unchanged": "Unchanged",
    "col.row": "Row",
    "col.column": "Column",
    "col.reason": "Reason",
    "col.reason_code": "Reason code",
    "col.period": "Period",
    "col.value": "Value",
    "col.indicator": "Indicator",
    "col.source": "Source",
    "sentence.reach": "{likelihood} to reach {target} by {year}: {p}",
    "sentence.achieved": "target {target} achieved ({year})",
    "sentence.missed": "target {target} for {year} not reached; latest {latest}",
    "sentence.no_target": "no quantified target",
    "sentence.no_forecast": "no forecast yet",
    **{f"likelihood.{term.key}": term.en for term in SCALE},
    "export.csv": "Download CSV",
    "export.excel": "Download Excel",
    "export.brief": "Download leadership brief (HTML)",
    "overview.title": "KPI overview",
    "overview.lead": "Latest value, target and probability of reaching it for each KPI (from the published forecasts; nothing is refitted on this page).",
    "kpi.history": "History",
    "kpi.median": "Median forecast",
    "kpi.band80": "80% band",
    "kpi.band95": "95% band",
    "kpi.target": "Target",
    "kpi.required": "Required trajectory",
    "kpi.anticipated_growth": "Anticipated annual growth",
    "kpi.required_growth": "Required annual growth",
    "kpi.expected_year": "Expected year of reaching the target",
    "kpi.not_reached": "not within the forecast horizon",
    "kpi.model": "Model",
    "kpi.run": "MLflow run",
    "reliability.sentence": "of past {lo}–{hi} calls, {freq} came true (n = {n})",
    "reliability.few": "only {n} past {lo}–{hi} calls (fewer than {min}): too few to say how reliable they are",
    "reliability.none": "no past {lo}–{hi} calls in the backtests: their reliability is unknown",
    "auth.logout": "Log out",
    "auth.signed_in": "{name} ({role})",
    "role.leader": "leader",
    "role.evaluator": "evaluator",
    "role.owner": "owner",
    "role.data_scientist": "data scientist",
    "role.admin": "admin",
    "data.upload_not_allowed": "Uploading data is for the owners and admins of a district.",
    "data.upload_out_of_scope": "Your account may not upload data for: {regions}",
    "kpi.whatif": "What if",
    "kpi.whatif_growth": "Extra annual growth",
    "kpi.whatif_added": "Added scenarios per year",
    "kpi.whatif_result": "With {g} extra annual growth, P(reach by {year}) = {p} (was {p0})",
    "kpi.whatif_result_added": "With {g} extra annual growth and {n} added scenarios a year, P(reach by {year}) = {p} (was {p0})",
    "kpi.added_na_scenarios": "not available: this KPI is not a running count of scenarios",
    "kpi.added_na_cumulative": "not available: this KPI counts each year's new items, not a running total",
    "kpi.added_na_years": "not available: the target year has passed",
    "kpi.whatif_na": "no published predictive samples for this KPI; the what-if needs them",
    "kpi.back": "← Back to overview",
    "kpi.year": "Year",
    "scen.title": "Scenario league table",
    "scen.lead": "Total score, grade, rank and its uncertainty interval (from weight and data uncertainty).",
    "scen.count": "{n} scenarios",
    "scen.sensitivity": "Weight sensitivity: rank change when a weight moves (top {n})",
    "scen.radar": "Dimension scores",
    "scen.contrib": "Indicator contributions",
    "scen.efficacy": "Efficacy: before/after with the fitted counterfactual",
    "scen.observed": "Observed",
    "scen.fitted": "Fitted",
    "scen.counterfactual": "Counterfactual (no scenario)",
    "scen.launch": "Launch",
    "scen.effect": "Effect {effect} (95% CI {lo} to {hi}, p = {p}, method {method})",
    "scen.completeness": "Data completeness",
    "scen.missing": "Missing indicators: {items}",
    "scen.complete": "All indicators present",
    "scen.insufficient": "Not enough data for efficacy ({n_pre} periods before, {n_post} after)",
    "scen.benchmark": "Benchmark scenario",
    "scen.budget": "Budget",
    "scen.back": "← Back to the league table",
    "scen.rank_change": "Rank change",
    "scen.delta": "Weight change",
    "scen.dimension": "Dimension",
    "scen.p_grade": "Grade probabilities",
    "domain.life": "Life",
    "domain.governance": "Governance",
    "domain.economy": "Economy",
    "models.title": "Models and runs",
    "models.lead": "Backtest metrics, probability calibration and the production version vs challengers; run ids link into MLflow.",
    "models.metric": "Metric",
    "models.kind": "KPI kind",
    "models.backtest": "Backtest: {metric} by model and horizon",
    "models.calibration": "Reliability of attainment probabilities",
    "models.predicted": "Predicted probability",
    "models.observed": "Observed frequency",
    "models.perfect": "Perfect calibration",
    "models.horizon": "Horizon (years)",
    "models.runs": "Runs",
    "models.production": "Production",
    "models.challenger": "Challenger",
    "models.open_mlflow": "Open MLflow",
    "models.all_horizons": "all",
    "models.metrics_note": "One row per KPI kind: the backtest over all horizons (the published horizon = 0 figures).",
    "data.title": "Data ingestion",
    "data.lead": "Ingestion history by vintage and rejected rows; an upload is validated first and only ingested once you confirm.",
    "data.ingests": "Ingestion history",
    "data.rejects": "Rejected rows and reasons",
    "data.upload": "Drop or choose a CSV / Excel file (at most {limit})",
    "data.upload_ok": "{file}: {acc} rows passed validation, {rej} rejected. Confirm to ingest.",
    "data.upload_none": "{file}: all {rej} rows were rejected, nothing to ingest. Fix them as the reasons say and upload again.",
    "data.upload_bad": "{file} cannot be ingested: {reason}",
    "data.too_big": "{file} ({size}) is larger than the {limit} limit and was not uploaded; split it and upload the parts",
    "data.bad_type": "unsupported file type {file}: upload a .csv, .xlsx or .xlsm file",
    "data.no_handler": "this server has no upload validator configured (start it with `dtscope dashboard`)",
    "data.confirm": "Confirm ingest",
    "data.confirmed": "Ingested: {msg}",
    "data.accepted_rows": "Rows that passed (first {n})",
    "data.rejected_rows": "Rejected rows",
    "table.truncated": "showing the first {n} of {total} rows; download for all of them",
    "unit.yuan_yi": "100m yuan",
    # the default assessment scheme's dimensions (data/registry/assessment/default.yaml)
    "dim.demand": "Demand-oriented",
    "dim.problem": "Problem-oriented",
    "dim.effect": "Effect-oriented",
    "dim.funds": "Use of funds",
    "dim.data": "Data enablement",
    "dim.usage": "Usage",
    "dim.efficiency": "Efficiency",
    "dim.satisfaction": "Satisfaction",
    "dim.coverage": "Coverage",
    "dim.sustainability": "Sustainability",
    # assessment rounds (pages/rounds.py, pages/round.py)
    "nav.rounds": "Rounds",
    "rounds.title": "Assessment rounds",
    "rounds.lead": "Each round is a frozen scheme × period × district × scenarios: evaluators rate and submit, leaders sign off, every step audited.",
    "rounds.needs_service": "Assessment rounds need a signed-in session (`dtscope serve`).",
    "rounds.none": "No round you may see yet",
    "rounds.loading": "Loading…",
    "rounds.failed": "Could not read: {detail}",
    "rounds.back": "← All rounds",
    "rounds.open": "Open a round",
    "rounds.open_lead": "Opening freezes the scheme and the chosen districts' metric inputs for the period; only the districts of your account can be chosen.",
    "rounds.open_scheme": "Scheme",
    "rounds.open_period": "Period (year or year-month)",
    "rounds.open_regions": "Districts",
    "rounds.open_button": "Open the round",
    "rounds.open_no_scheme": "Choose a scheme.",
    "rounds.open_bad_period": "Write the period as 2024 or 2024-06.",
    "rounds.open_no_region": "Choose at least one district.",
    "rounds.opened": "Round {id} opened ({n} scenarios).",
    "rounds.opened_link": "Go to the round →",
    "round.owner": "My department's self-assessment",
    "round.owner_lead": "The metric values below are the ones the round will score (frozen when it opened). Per indicator add a self-assessment note and links to the evidence; flag a value you dispute with a reason, which the evaluators read before they rate.",
    "round.owner_none": "No scenario of your department is in this round.",
    "round.owner_closed": "The self-assessment can no longer be changed in this state.",
    "round.owner_scenario": "Scenario",
    "round.owner_indicator": "Indicator",
    "round.owner_note": "Self-assessment note",
    "round.owner_evidence": "Evidence links (one per line, http or https)",
    "round.owner_disputed": "I dispute this metric value",
    "round.owner_reason": "Reason for the dispute (required when flagged)",
    "round.owner_save": "Save self-assessment",
    "round.owner_notes": "Owners' self-assessments and disputes",
    "round.self_assessment": "self-assessment saved",
    "col.judged_by": "Scored by",
    "col.note": "Note",
    "col.evidence": "Evidence",
    "col.dispute": "Dispute",
    "col.author": "By",
    "round.judged": "evaluators",
    "round.measured": "measured",
    "round.title": "Round {id}",
    "round.report_html": "Round report (web page)",
    "round.report_xlsx": "Export to Excel",
    "round.meta": "Scheme {scheme} (version {sha}) · period {period} · {regions} · version {version} · data as of {vintage}",
    "round.returned": "Returned: {reason}",
    "round.approved_by": "Approved by {who} on {at}",
    "round.progress": "Progress per evaluator",
    "round.scenario_progress": "Progress per scenario",
    "round.judge": "My ratings",
    "round.judge_hidden": "Other raters' ratings stay hidden until you submit yours.",
    "round.judge_scenario": "Scenario",
    "round.judge_comment": "Comment",
    "round.judge_save": "Save ratings",
    "round.judge_none": "This scheme has no indicator rated by evaluators.",
    "round.scale": "scale {lo}–{hi}",
    "round.ahp": "AHP pairwise judgements",
    "round.ahp_lead": "a[i][j] = how much more important the row is than the column (Saaty's 1–9 scale, fractions like 1/3 allowed); the lower triangle is the reciprocal.",
    "round.ahp_node": "Node",
    "round.ahp_cr": "Consistency ratio CR = {cr} (limit {limit})",
    "round.ahp_ok": "Consistent enough: it can be submitted.",
    "round.ahp_blocked": "CR above the scheme's limit: it cannot be submitted; revise the most inconsistent judgement first.",
    "round.ahp_worst": "Most inconsistent judgement: {row} vs {column} = {value}; the weights imply about {implied}; try {suggested}",
    "round.ahp_bad_cell": "Cannot read a judgement: {detail}",
    "round.ahp_save": "Submit matrix",
    "round.ahp_weights": "Weights",
    "round.ahp_saved": "Matrix saved (node {node}, CR {cr})",
    "round.actions": "Actions",
    "round.submit": "Submit my ratings",
    "round.approve": "Approve",
    "round.return": "Return",
    "round.revise": "Open a revision",
    "round.reason": "Reason (required to return or revise)",
    "round.no_actions": "Nothing for you to do in this state.",
    "round.done": "Done: {action}",
    "round.refused": "Refused ({status}): {detail}",
    "round.scores": "Scores of the round",
    "round.scores_hidden": "Submit your ratings to see the round's scores.",
    "round.agreement": "Inter-rater agreement",
    "state.open": "open",
    "state.submitted": "submitted",
    "state.approved": "approved",
    "state.returned": "returned",
    "col.round": "Round",
    "col.scheme": "Scheme",
    "col.regions": "Districts",
    "col.state": "State",
    "col.version": "Version",
    "col.evaluators": "Evaluators submitted",
    "col.created": "Opened",
    "col.approved": "Approved",
    "col.evaluator": "Evaluator",
    "col.rated": "Rated",
    "col.expected": "Expected",
    "col.submitted": "Submitted",
    "col.mine": "Rated by me",
    "col.judged": "Judged indicators",
    "col.raters": "Raters visible",
    "col.icc_2_1": "ICC(2,1)",
    "col.icc_2_k": "ICC(2,k)",
    "col.kendall_w": "Kendall's W",
    "col.flagged": "Disputed cells",
    "yes": "yes",
    "no": "no",
}

LABELS: dict[str, dict[str, str]] = {"zh": ZH, "en": EN}


def t(key: str, lang: str | None = DEFAULT_LANG, **values: object) -> str:
    """Return the label ``key`` in ``lang``, with ``{name}`` placeholders filled from ``values``.

    Args:
        key: a key of :data:`ZH` / :data:`EN`.
        lang: ``"zh"`` or ``"en"``; anything else falls back to Chinese.
        **values: values for the label's placeholders.

    Returns:
        The label text.

    Raises:
        KeyError: the key is unknown (add it to both :data:`ZH` and :data:`EN`).

    >>> t("nav.overview"), t("nav.overview", "en")
    ('总览', 'Overview')
    >>> t("scen.count", "en", n=3)
    '3 scenarios'
    """
    table = LABELS.get(lang or DEFAULT_LANG, ZH)
    if key not in table:
        raise KeyError(f"no label {key!r}; add it to both ZH and EN in dashboard/i18n.py")
    text = table[key]
    return text.format(**values) if values else text


def label_or(key: str, fallback: str, lang: str | None = DEFAULT_LANG) -> str:
    """The label ``key`` when it exists, else ``fallback`` (ids from data, such as assessment dimensions).

    >>> label_or("dim.usage", "usage", "zh"), label_or("dim.new_thing", "new_thing", "zh")
    ('使用度', 'new_thing')
    """
    table = LABELS.get(lang or DEFAULT_LANG, ZH)
    return table.get(key, fallback)


def bracketed(text: object, extra: object, lang: str | None = DEFAULT_LANG) -> str:
    """``text`` followed by ``extra`` (a year, a range) in brackets of the language's kind.

    >>> bracketed("85%", 2025, "zh"), bracketed("85%", 2025, "en"), bracketed("85%", None, "en")
    ('85%（2025）', '85% (2025)', '85% (—)')
    """
    shown = "—" if extra is None else extra
    return f"{text}（{shown}）" if (lang or DEFAULT_LANG) == "zh" else f"{text} ({shown})"


def _trim(number: float, digits: int) -> str:
    """Format with at most ``digits`` decimals and no trailing zeros.

    >>> _trim(1.50, 2), _trim(2.0, 1), _trim(-0.0, 1)
    ('1.5', '2', '0')
    """
    text = f"{number:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_number(value: float | None, lang: str = DEFAULT_LANG, *, digits: int = 1) -> str:
    """Format a plain quantity: 万/亿 in Chinese, thousand/million/billion in English.

    Args:
        value: the number (``None`` or NaN gives an em dash).
        lang: ``"zh"`` or ``"en"``.
        digits: decimals kept for scaled figures.

    Returns:
        The formatted number.

    >>> format_number(60800), format_number(15_000_000), format_number(2.5e9)
    ('6.1万', '1,500万', '25亿')
    >>> format_number(60800, "en"), format_number(15_000_000, "en"), format_number(None)
    ('60,800', '15 million', '—')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    size = abs(value)
    if lang == "zh":
        if size >= 1e8:
            return f"{_trim(value / 1e8, digits + 1)}亿"
        if size >= 1e4:
            return f"{_trim(value / 1e4, digits)}万"
        return _trim(value, digits)
    if size >= 1e9:
        return f"{_trim(value / 1e9, digits + 1)} billion"
    if size >= 1e6:
        return f"{_trim(value / 1e6, digits + 1)} million"
    return _trim(value, digits)


def format_pct(p: float | None, *, digits: int = 0) -> str:
    """Format a probability in [0, 1] as a percentage.

    >>> format_pct(0.784), format_pct(1.0), format_pct(None)
    ('78%', '100%', '—')
    """
    if p is None or math.isnan(p):
        return "—"
    return f"{p * 100:.{digits}f}%"


def format_size(n_bytes: float) -> str:
    """A file size as people write it: MB from 1 MB up, else KB (1 MB = 1024 KB), 3 significant digits.

    >>> format_size(5 * 1024 * 1024), format_size(1536 * 1024), format_size(16384), format_size(300)
    ('5 MB', '1.5 MB', '16 KB', '0.293 KB')
    """
    if n_bytes >= 1024 * 1024:
        return f"{n_bytes / 1024 / 1024:.3g} MB"
    return f"{n_bytes / 1024:.3g} KB"


def format_growth(g: float | None, *, digits: int = 1) -> str:
    """Format an annual growth rate (a fraction) as a signed percentage.

    >>> format_growth(0.052), format_growth(-0.01), format_growth(None)
    ('+5.2%', '-1.0%', '—')
    """
    if g is None or math.isnan(g):
        return "—"
    return f"{g * 100:+.{digits}f}%"


def format_value(value: float | None, unit: str | None, lang: str = DEFAULT_LANG) -> str:
    """Format a KPI value in its registry unit the way a reader expects.

    ``%`` values stay as percentages; ``亿元`` amounts become 万亿元 when large (Chinese) or billion
    yuan (English); counts get 万 / 亿 (Chinese) or million (English).

    Args:
        value: the value in ``unit``.
        unit: the registry unit (``%``, ``亿元``, ``个``, ``Mbps``, …).
        lang: ``"zh"`` or ``"en"``.

    Returns:
        The formatted value with its unit.

    >>> format_value(85.0, "%"), format_value(13000, "亿元"), format_value(350, "亿元", "en")
    ('85%', '1.3万亿元', '35 billion yuan')
    >>> format_value(60800, "个"), format_value(60800, "个", "en"), format_value(1000, "Mbps", "en")
    ('6.1万个', '60,800', '1,000 Mbps')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    unit = unit or ""
    if unit == "%":
        return f"{_trim(value, 1)}%"
    if unit == "亿元":
        if lang == "zh":
            if abs(value) >= 1e4:
                return f"{_trim(value / 1e4, 2)}万亿元"
            return f"{_trim(value, 1)}亿元"
        return f"{_trim(value / 10, 2)} billion yuan"
    if unit == "万元":
        return format_value(value / 1e4, "亿元", lang) if abs(value) >= 1e4 else f"{_trim(value, 1)}万元"
    number = format_number(value, lang)
    if not unit:
        return number
    if not unit.isascii():
        # Chinese counting words (个, 项, 家) read naturally after a Chinese number and not at all in English.
        return f"{number}{unit}" if lang == "zh" else number
    return f"{number} {unit}"


# Shanghai's city level and its 16 districts (the ids of data/registry/regions.yaml).
REGION_NAMES: dict[str, tuple[str, str]] = {
    "shanghai": ("上海市", "Shanghai"), "pudong": ("浦东新区", "Pudong"), "huangpu": ("黄浦区", "Huangpu"),
    "xuhui": ("徐汇区", "Xuhui"), "changning": ("长宁区", "Changning"), "jingan": ("静安区", "Jing'an"),
    "putuo": ("普陀区", "Putuo"), "hongkou": ("虹口区", "Hongkou"), "yangpu": ("杨浦区", "Yangpu"),
    "minhang": ("闵行区", "Minhang"), "baoshan": ("宝山区", "Baoshan"), "jiading": ("嘉定区", "Jiading"),
    "jinshan": ("金山区", "Jinshan"), "songjiang": ("松江区", "Songjiang"), "qingpu": ("青浦区", "Qingpu"),
    "fengxian": ("奉贤区", "Fengxian"), "chongming": ("崇明区", "Chongming"),
}  # fmt: skip


def region_name(region: str | None, lang: str = DEFAULT_LANG) -> str:
    """A region's display name; unknown ids are shown as they are.

    >>> region_name("hongkou"), region_name("hongkou", "en"), region_name("nowhere", "en")
    ('虹口区', 'Hongkou', 'nowhere')
    """
    if region is None:
        return "—"
    names = REGION_NAMES.get(region)
    if names is None:
        return region
    return names[0] if lang == "zh" else names[1]
