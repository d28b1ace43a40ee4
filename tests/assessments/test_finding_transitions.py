"""Every transition of a finding from every state: allowed moves land where the ledger says and
write one step; repeats change nothing; forbidden moves are refused in Chinese and change
nothing (state and steps)."""

import datetime as dt

import pytest
from django.utils import timezone

from assessments import services
from assessments.models import Finding, FindingStatus
from common.errors import ApplicationError

P, G, R, V, C = (
    FindingStatus.PENDING,
    FindingStatus.RECTIFYING,
    FindingStatus.RECTIFIED,
    FindingStatus.VERIFIED,
    FindingStatus.CLOSED,
)
SAME = "same"  # a repeat: nothing changes, no step is written


def bring(finding: Finding, state: str, rectifier, verifier) -> Finding:
    """Walk a new finding to `state` through the services."""
    path = [G, R, V, C]
    for step in path[: path.index(state) + 1] if state != P else []:
        if step == G:
            services.finding_start(finding=finding, actor=rectifier, measures="制定整改方案")
        elif step == R:
            services.finding_rectify(finding=finding, actor=rectifier, evidence="已整改，附照片")
        elif step == V:
            services.finding_verify(finding=finding, actor=verifier, passed=True, note="")
        else:
            services.finding_close(finding=finding, actor=verifier)
    finding.refresh_from_db()
    assert finding.status == state
    return finding


def act(action: str, finding: Finding, rectifier, verifier):
    later = timezone.localdate() + dt.timedelta(days=20)
    return {
        "start": lambda: services.finding_start(finding=finding, actor=rectifier, measures="方案"),
        "rectify": lambda: services.finding_rectify(
            finding=finding, actor=rectifier, evidence="整改情况"
        ),
        "verify_pass": lambda: services.finding_verify(
            finding=finding, actor=verifier, passed=True, note="通过"
        ),
        "verify_fail": lambda: services.finding_verify(
            finding=finding, actor=verifier, passed=False, note="仍有问题"
        ),
        "close": lambda: services.finding_close(finding=finding, actor=verifier),
        "reopen": lambda: services.finding_reopen(
            finding=finding, actor=verifier, note="回头看发现反弹", deadline=later
        ),
    }[action]()


# (action, from-state) -> the state it lands in, SAME for a repeat, or the refusal's text.
EXPECTED = {
    ("start", P): G,
    ("start", G): SAME,
    ("start", R): "只有待整改的问题才能开始整改",
    ("start", V): "只有待整改的问题才能开始整改",
    ("start", C): "只有待整改的问题才能开始整改",
    ("rectify", P): R,
    ("rectify", G): R,
    ("rectify", R): SAME,
    ("rectify", V): "不能再报整改",
    ("rectify", C): "不能再报整改",
    ("verify_pass", P): "只有已整改的问题才能验证",
    ("verify_pass", G): "只有已整改的问题才能验证",
    ("verify_pass", R): V,
    ("verify_pass", V): SAME,
    ("verify_pass", C): "只有已整改的问题才能验证",
    ("verify_fail", P): "只有已整改的问题才能验证",
    ("verify_fail", G): "只有已整改的问题才能验证",
    ("verify_fail", R): G,
    ("verify_fail", V): "只有已整改的问题才能验证",
    ("verify_fail", C): "只有已整改的问题才能验证",
    ("close", P): "只有已验证的问题才能销号",
    ("close", G): "只有已验证的问题才能销号",
    ("close", R): "只有已验证的问题才能销号",
    ("close", V): C,
    ("close", C): SAME,
    ("reopen", P): "只有已验证或已销号的问题才能回头看",
    ("reopen", G): "只有已验证或已销号的问题才能回头看",
    ("reopen", R): "只有已验证或已销号的问题才能回头看",
    ("reopen", V): G,
    ("reopen", C): G,
}


def test_the_table_covers_every_action_from_every_state():
    actions = {"start", "rectify", "verify_pass", "verify_fail", "close", "reopen"}
    assert set(EXPECTED) == {(a, s) for a in actions for s in FindingStatus.values}


@pytest.mark.parametrize(("action", "state"), sorted(EXPECTED))
def test_transition(world, action, state):
    rectifier, verifier = world.township_official_a, world.official_a
    finding = bring(world.finding_a, state, rectifier, verifier)
    steps_before = finding.steps.count()
    expected = EXPECTED[action, state]
    if expected in FindingStatus.values:
        act(action, finding, rectifier, verifier)
        finding.refresh_from_db()
        assert finding.status == expected
        last = finding.steps.order_by("id").last()
        assert (finding.steps.count(), last.old, last.new) == (steps_before + 1, state, expected)
    elif expected == SAME:
        act(action, finding, rectifier, verifier)
        finding.refresh_from_db()
        assert (finding.status, finding.steps.count()) == (state, steps_before)
    else:
        with pytest.raises(ApplicationError, match=expected):
            act(action, finding, rectifier, verifier)
        finding.refresh_from_db()
        assert (finding.status, finding.steps.count()) == (state, steps_before)


@pytest.mark.parametrize("passed", [True, False])
def test_the_rectifier_never_verifies_their_own_work(world, passed):
    rectifier = world.township_official_a
    finding = bring(world.finding_a, R, rectifier, world.official_a)
    with pytest.raises(ApplicationError, match="整改人不能验证自己的整改"):
        services.finding_verify(finding=finding, actor=rectifier, passed=passed, note="自查")
    finding.refresh_from_db()
    assert (finding.status, finding.verified_by) == (R, None)
