"""The scan reads the register: ITHCs, threat-model reviews and major changes of the product that
owns the repository, register waivers, and `--record` for trends. Real SQLite registers and real
git checkouts; the command line as a user runs it."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import MakeRepo, git

from secposture.cli.main import main
from secposture.register.database import Database, Tx
from secposture.register.products import add_product
from secposture.register.records import (
    record_assurance,
    record_major_change,
    record_threat_model,
)
from secposture.register.scans import scan_history
from secposture.register.waivers import add_waiver

TODAY = date.today()
REPO = "acme/payments-api"


@pytest.fixture
def register(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'register.db'}"
    monkeypatch.setenv("SECPOSTURE_DATABASE_URL", url)
    return url


def write(url: str, fn: Any) -> None:
    with Database.open(url) as database:
        database.write("tester", fn)


def product(tx: Tx) -> None:
    add_product(
        tx, "Payments", owner="team-pay", repositories=[REPO], data_classification="official"
    )


def ithc(days_ago: int) -> Any:
    def fn(tx: Tx) -> None:
        record_assurance(
            tx,
            "Payments",
            performed_on=TODAY - timedelta(days=days_ago),
            kind="ithc",
            supplier="Acme Assurance",
            scheme="CHECK",
            scope="payments web and API",
            report_reference="ITHC-2026-07",
        )

    return fn


def threat_model(days_ago: int) -> Any:
    def fn(tx: Tx) -> None:
        record_threat_model(
            tx,
            "Payments",
            held_on=TODAY - timedelta(days=days_ago),
            participants=["Ana", "Ben"],
            method="STRIDE",
            scope="payment flows",
            artefact_link="https://wiki.example.org/tm/payments",
            summary="reviewed card data flows",
        )

    return fn


def change(days_ago: int) -> Any:
    def fn(tx: Tx) -> None:
        record_major_change(
            tx,
            "Payments",
            changed_on=TODAY - timedelta(days=days_ago),
            trigger="authentication",
            description="moved to the new identity provider",
        )

    return fn


def scan_json(
    root: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> dict[str, dict[str, Any]]:
    with pytest.raises(SystemExit):
        main(["scan", str(root), "--format", "json", "--offline", *extra])
    report = json.loads(capsys.readouterr().out)
    return {c["id"]: c for c in report["controls"]}


def test_no_register_leaves_ithc_unknown_and_creates_nothing(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    controls = scan_json(make_repo(None, {"README.md": "# app\n"}), capsys)
    assert controls["ithc"]["status"] == "unknown"
    assert "no register is connected" in controls["ithc"]["summary"]
    assert not (tmp_path / "xdg").exists()


def test_repository_outside_any_product_says_how_to_map_it(
    register: str, make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    write(register, product)
    controls = scan_json(
        make_repo(None, {"README.md": "# x\n"}), capsys, "--repository", "acme/other"
    )
    assert controls["ithc"]["status"] == "unknown"
    assert "secposture product add" in controls["ithc"]["summary"]
    controls = scan_json(make_repo(None, {"README.md": "# x\n"}), capsys)
    assert "--repository" in controls["ithc"]["summary"]  # no remote: say how to name it


def test_ithc_within_the_interval_passes_with_the_record_as_evidence(
    register: str, make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    write(register, product)
    write(register, ithc(60))
    controls = scan_json(make_repo(None, {"README.md": "# x\n"}), capsys, "--repository", REPO)
    ithc_result = controls["ithc"]
    assert ithc_result["status"] == "pass", ithc_result["summary"]
    assert "product Payments: ITHC or pen test on" in ithc_result["summary"]
    assert ithc_result["findings"][0]["location"]["record"].startswith("register ")


def test_overdue_ithc_and_major_change_after_reviews_fail(
    register: str, make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    write(register, product)
    write(register, ithc(400))
    controls = scan_json(make_repo(None, {"README.md": "# x\n"}), capsys, "--repository", REPO)
    assert controls["ithc"]["status"] == "fail"
    assert "overdue since" in controls["ithc"]["summary"]

    write(register, ithc(30))
    write(register, threat_model(20))
    write(register, change(10))
    controls = scan_json(make_repo(None, {"README.md": "# x\n"}), capsys, "--repository", REPO)
    for control in ("ithc", "threat-model"):
        assert controls[control]["status"] == "fail", controls[control]["summary"]
        assert "major change on" in controls[control]["summary"]
        assert "authentication" in controls[control]["summary"]


def test_register_threat_model_counts_without_an_artefact_and_the_later_one_wins(
    register: str, make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    write(register, product)
    write(register, threat_model(30))
    bare = make_repo(None, {"README.md": "# x\n"})
    controls = scan_json(bare, capsys, "--repository", REPO)
    assert controls["threat-model"]["status"] == "pass"
    assert "register" in controls["threat-model"]["summary"]
    old_artefact = (TODAY - timedelta(days=400)).isoformat()
    with_artefact = make_repo(
        None,
        {"docs/threat-model/README.md": f"---\nlast_reviewed_on: {old_artefact}\n---\n# TM\n"},
    )
    controls = scan_json(with_artefact, capsys, "--repository", REPO)
    assert controls["threat-model"]["status"] == "pass"  # the register's review is later


def test_register_waivers_apply_like_policy_waivers(
    register: str, make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    write(register, product)

    def waive(tx: Tx) -> None:
        add_waiver(
            tx,
            control="security-policy",
            reason="policy lives in the org .github repository",
            approver="Head of Security",
            expires_on=TODAY + timedelta(days=30),
            repository=REPO,
        )

    write(register, waive)
    controls = scan_json(make_repo(None, {"README.md": "# x\n"}), capsys, "--repository", REPO)
    assert controls["security-policy"]["status"] == "waived"


def test_record_stores_results_for_trends(
    register: str, make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(None, {"README.md": "# x\n"})
    for _ in range(2):
        with pytest.raises(SystemExit):
            main(
                ["scan", str(root), "--offline", "--record", "--repository", REPO, "--actor", "ci"]
            )
    assert "recorded 1 scan" in capsys.readouterr().err
    with Database.open(register) as database:
        rows = database.read(
            lambda tx: [(run.id, result.control) for run, result in scan_history(tx, REPO)]
        )
    assert len({run for run, _ in rows}) == 2
    assert {control for _, control in rows} >= {"ithc", "threat-model", "static-analysis"}


def test_org_scan_reads_the_register_for_each_repository_and_records_them(
    register: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from fake_github import FakeGitHub, FakeOrg, FakeRepo

    write(register, product)
    write(register, ithc(10))
    repos = [
        FakeRepo("acme", "payments-api", files={"README.md": b"# x\n"}),
        FakeRepo("acme", "other", files={"README.md": b"# y\n"}),
    ]
    gh = FakeGitHub(orgs=[FakeOrg("acme", repos)], tokens={"tok-admin-reg": "admin"})
    monkeypatch.setenv("GITHUB_TOKEN", "tok-admin-reg")
    with gh.serve() as base_url, pytest.raises(SystemExit):
        main(["scan", "--org", "acme", "--github-url", base_url, "--format", "json", "--record"])
    estate = json.loads(capsys.readouterr().out)
    ithc_of = {
        r["name"]: next(c for c in r["report"]["controls"] if c["id"] == "ithc")["status"]
        for r in estate["repositories"]
    }
    assert ithc_of == {"acme/payments-api": "pass", "acme/other": "unknown"}
    with Database.open(register) as database:
        rows = database.read(lambda tx: list(scan_history(tx, REPO)))
    assert rows


# --- the name a checkout is recorded under (issue 13) -------------------------------------------


def record_checkout(
    root: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["scan", str(root), "--offline", "--record", "--actor", "ci", *extra])
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def recorded_names(url: str) -> list[str]:
    from secposture.register.scans import latest_scans

    with Database.open(url, create=False) as database:
        return database.read(lambda tx: [run.repository for run in latest_scans(tx)])


@pytest.mark.parametrize(
    ("remotes", "said"),
    [
        ({"origin": "git@github.com:Acme/Payments-API.git"}, "from the origin remote"),
        (
            {
                "gitlab": "https://gitlab.com/acme/mirror.git",
                "upstream": "https://github.com/acme/payments-api",
            },
            "from the upstream remote",
        ),
    ],
)
def test_record_names_a_checkout_from_its_github_remote_and_says_so(
    register: str,
    make_repo: MakeRepo,
    capsys: pytest.CaptureFixture[str],
    remotes: dict[str, str],
    said: str,
) -> None:
    root = make_repo(None, {"README.md": "# x\n"})
    for name, url in remotes.items():
        git(root, "remote", "add", name, url)
    code, _out, err = record_checkout(root, capsys)
    assert code in (0, 1), err
    assert f"recorded 1 scan in the register as {REPO} ({said})" in err
    assert recorded_names(register) == [REPO]


def test_record_with_repository_names_it_and_says_so(
    register: str, make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_repo(None, {"README.md": "# x\n"})
    git(root, "remote", "add", "origin", "https://github.com/acme/old-name.git")
    code, _out, err = record_checkout(root, capsys, "--repository", "Acme/Payments-API")
    assert code in (0, 1), err
    assert f"as {REPO} (from --repository)" in err
    assert recorded_names(register) == [REPO]


@pytest.mark.parametrize(
    ("use_git", "remote"),
    [(True, None), (True, "https://gitlab.com/acme/payments-api.git"), (False, None)],
    ids=["no remote", "remote not on GitHub", "plain folder"],
)
def test_record_refuses_a_checkout_it_cannot_name_instead_of_using_its_folder(
    register: str,
    make_repo: MakeRepo,
    capsys: pytest.CaptureFixture[str],
    remote: str | None,
    use_git: bool,
) -> None:
    root = make_repo(None, {"README.md": "# x\n"}, use_git=use_git)
    if remote is not None:
        git(root, "remote", "add", "origin", remote)
    code, out, err = record_checkout(root, capsys)
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith("secposture: error: ") and "--repository OWNER/REPO" in line
    assert out == ""  # refused before scanning: no report
    assert recorded_names(register) == []


def test_record_refuses_a_repository_that_is_not_owner_slash_name(
    register: str, make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = record_checkout(
        make_repo(None, {"README.md": "# x\n"}), capsys, "--repository", "payments"
    )
    assert code == 2 and "--repository" in err and "OWNER/REPO" in err
    assert recorded_names(register) == []
