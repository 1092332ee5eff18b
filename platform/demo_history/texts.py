"""What the delivery's owners write in their stage reports and customer sign-offs."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUMMARIES = {
    "kickoff": ("启动会已召开，范围、计划和沟通机制已确认 Kickoff held; scope, plan and "
                "reporting agreed",
                "项目章程已签发，团队到位 Charter issued; the team is on board"),
    "requirements": ("需求规格说明书和总体方案 SRS and solution design",
                     "需求调研{n}场，方案评审通过 {n} workshops; solution review passed"),
    "breakdown": ("工作分解：{n}个工作包 WBS: {n} work packages",
                  "计划细化到两周迭代，共{n}个工作包 Plan broken into two-week sprints, "
                  "{n} work packages"),
    "build": ("完成{n}个功能模块的开发和单元测试 {n} modules built and unit-tested",
              "接口联调完成，{n}个接口 {n} interfaces integrated with the client's systems"),
    "internal_test": ("系统测试通过，关闭缺陷{n}个 System test passed; {n} defects closed",
                      "性能和安全测试完成 Performance and security tests done"),
    "acceptance": ("用户验收测试和试运行 User acceptance test and trial run",
                   "终验材料提交客户 Final acceptance pack reviewed with the customer"),
    "retrospective": ("复盘会已开，{n}条改进项已登记 Retrospective held; {n} improvement "
                      "actions logged",),
    "archive": ("文档、代码和签字单已归档 Documents, code and sign-off sheets archived",),
}
ISSUES = ("客户接口文档延迟 The customer's interface specs came late",
          "关键开发人员被抽调 A key developer was pulled onto another project",
          "测试环境连续三天不可用 The test environment was down for three days",
          "需求中途变更 The scope changed mid-stage",
          "客户方负责人更换 The customer's project lead changed",
          "第三方设备到货延迟 Third-party hardware arrived late")
CALM = ("无重大问题 No significant issues", "")
NEXT = ("按计划进入下一阶段 On to the next stage as planned",
        "下周与客户确认进度 Review progress with the customer next week")
SIGNERS = (("刘洋 Liu Yang", "信息中心主任 Head of IT"), ("Sarah Lim", "CIO"),
           ("张伟 Zhang Wei", "项目总监 Project director"),
           ("王磊 Wang Lei", "运维部经理 Operations manager"))
DECISIONS = {"requirements": ("accepted", "accepted"),
             "acceptance": ("accepted", "accepted", "accepted_with_issues")}


def form_for(rng: random.Random, step: str, project: Mapping[str, Any], moment: datetime,
             late: bool, rework: bool) -> dict[str, Any]:
    """Return the form an owner submits for a step of a project's delivery."""
    summary = rng.choice(SUMMARIES.get(step, SUMMARIES["build"])).format(n=rng.randint(4, 40))
    if step in DECISIONS:
        signer, title = rng.choice(SIGNERS)
        result = "rejected" if rework else rng.choice(DECISIONS[step])
        return {"summary": summary, "signoff_result": result, "signed_by": signer,
                "signer_title": title,
                "signed_on": moment.astimezone(SHANGHAI).date().isoformat(),
                "customer_comments": _comment(result)}
    budget = sum(row.get("budget_days", 0) for row in project.get("effort", []))
    return {"summary": summary, "issues": rng.choice(ISSUES) if late else rng.choice(CALM),
            "next_steps": rng.choice(NEXT),
            "days_spent": round(budget * rng.uniform(0.01, 0.05) * 2) / 2}


def _comment(result: str) -> str:
    """Return what the customer wrote beside the decision."""
    return {"accepted": "同意 Agreed",
            "accepted_with_issues": "遗留问题两周内关闭 Open issues to close within two weeks",
            "rejected": "需补充细节后重新提交 Add detail and submit again"}[result]
