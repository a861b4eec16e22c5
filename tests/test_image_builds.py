"""The readers behind the image-scan and .gitignore fixes, on odd and hostile input: Dockerfile
COPY/ADD syntax (stages, flags, heredocs, the JSON form, globs, variables, the escape directive),
build commands, compose files with anchors and `extends`, and .gitignore files with negations and
comments, whose edits git itself checks. None of them raises on any text."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest
from conftest import TODAY, MakeRepo, git
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secposture.facts import dockerfiles, image_builds
from secposture.facts.interface import Facts
from secposture.fix import gitignore
from secposture.policy import default_policy
from secposture.sources.local import LocalSource
from secposture.sources.memory import MemorySnapshot


def facts_of(files: dict[str, str]) -> Facts:
    return Facts(MemorySnapshot(files), default_policy(), TODAY)


def sources(text: str) -> list[str]:
    return [s.path for s in dockerfiles.parse(text).sources]


# --- Dockerfile COPY and ADD ------------------------------------------------------------------------


def test_copy_from_a_stage_or_an_image_reads_nothing_of_the_context() -> None:
    text = (
        "FROM golang:1.26 AS build\nCOPY go.mod go.sum ./\n"
        "FROM scratch\nCOPY --from=build /go/bin/app /app\n"
        "COPY --chown=app:app --from=ghcr.io/acme/base:1 /etc/ssl /etc/ssl\n"
        "COPY --link --chown=1000:1000 --chmod=755 bin/start.sh /start.sh\n"
    )
    assert sources(text) == ["go.mod", "go.sum", "bin/start.sh"]
    assert [s.name for s in dockerfiles.parse(text).stages] == ["build", None]


def test_heredocs_are_content_not_instructions_or_sources() -> None:
    text = (
        "FROM alpine\n"
        "COPY <<EOF /etc/app.conf\n"
        "COPY not-a-source /nowhere\n"
        "EOF\n"
        "RUN <<-SCRIPT\n"
        "\tADD also-not /x\n"
        "\tSCRIPT\n"
        'COPY <<"ONE" <<TWO ./conf/\nfirst\nONE\nsecond\nTWO\n'
        "COPY real.txt /real.txt\n"
    )
    assert sources(text) == ["real.txt"]


def test_the_json_form_globs_and_cleaned_paths() -> None:
    text = (
        "FROM node:24\n"
        'COPY ["package.json", "package-lock.json", "./"]\n'
        "COPY *.config.js /app/\n"
        "COPY /src ./src\n"
        "COPY ./web/../views /views\n"
        "COPY ../../outside/x /x\n"
        "COPY . .\n"
    )
    assert sources(text) == [
        "package.json",
        "package-lock.json",
        "*.config.js",
        "src",
        "views",
        "outside/x",  # BuildKit never leaves the context: `..` stops at its root
        "",
    ]


def test_variables_are_substituted_where_known_and_listed_apart_where_not() -> None:
    text = (
        "ARG APP=service\n"
        "FROM python:3.13\n"
        "ARG APP\n"
        "ARG VERSION\n"
        "ENV HOME_DIR=/srv CONF=config\n"
        "ENV OLD legacy\n"
        "COPY ${APP}/requirements.txt $CONF/${APP:-x}.toml ./\n"
        "COPY $OLD/a.txt /\n"
        "COPY dist/$VERSION/app.whl /tmp/\n"
        "COPY ${MISSING:-fallback}/b.txt /\n"
    )
    parsed = dockerfiles.parse(text)
    assert [s.path for s in parsed.sources] == [
        "service/requirements.txt",
        "config/service.toml",
        "legacy/a.txt",
        "fallback/b.txt",
    ]
    assert [s.written for s in parsed.unresolved] == ["dist/$VERSION/app.whl"]


def test_add_of_urls_and_git_is_not_the_context_and_bind_mounts_are() -> None:
    text = (
        "FROM alpine\n"
        "ADD https://example.org/a.tgz /a.tgz\n"
        "ADD git@github.com:acme/x.git /x\n"
        "ADD --checksum=sha256:abc local.tgz /\n"
        "RUN --mount=type=bind,source=requirements.txt,target=/r.txt pip install -r /r.txt\n"
        "RUN --mount=type=bind,from=build,source=/out,target=/o true\n"
        "RUN --mount=type=cache,target=/root/.cache true\n"
    )
    assert sources(text) == ["local.tgz", "requirements.txt"]


def test_continuations_comments_and_the_escape_directive() -> None:
    text = (
        "# syntax=docker/dockerfile:1\n"
        "# escape=`\n"
        "FROM mcr.microsoft.com/windows/servercore\n"
        "COPY a.txt `\n"
        "  # a comment inside the instruction\n"
        "\n"
        "  b.txt C:/app/\n"
    )
    assert sources(text) == ["a.txt", "b.txt"]
    backslash = "FROM alpine\nCOPY one \\\n two \\\n /dest/\n"
    assert sources(backslash) == ["one", "two"]


def test_missing_sources_against_a_context() -> None:
    paths = ["go.mod", "go.sum", "cmd/app/main.go", "docker/app/Dockerfile", "web/a.config.js"]
    parsed = dockerfiles.parse(
        "FROM golang\nCOPY go.mod go.sum ./\nCOPY cmd/app ./cmd/app\nCOPY web/*.config.js /\n"
    )
    assert dockerfiles.missing_sources(parsed, ".", paths) == []
    assert dockerfiles.missing_sources(parsed, "docker/app", paths) == [
        "go.mod (line 2)",
        "go.sum (line 2)",
        "cmd/app (line 3)",
        "web/*.config.js (line 4)",
    ]
    # A glob's `*` stays within a folder, as BuildKit's does.
    deep = dockerfiles.parse("FROM x\nCOPY *.js /\n")
    assert dockerfiles.missing_sources(deep, ".", ["web/a.js"]) == ["*.js (line 2)"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_any_text_parses_as_a_dockerfile(text: str) -> None:
    parsed = dockerfiles.parse(text)
    for source in parsed.sources:
        assert not source.path.startswith("/") and ".." not in source.path.split("/")
    dockerfiles.missing_sources(parsed, ".", ["a", "b/c"])


_LINES = st.sampled_from(
    [
        "FROM alpine AS base",
        "COPY a b",
        "COPY --from=base /x /y",
        'COPY ["a", "b"]',
        "COPY <<EOF /x",
        "EOF",
        "ARG A=1",
        "ENV B ${A}",
        "COPY ${A}/x ${B} /",
        "\\",
        "# escape=`",
        "RUN --mount=type=bind,source=x true",
        "COPY [*?[",
        "ADD http://x /",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINES, max_size=30))
def test_dockerfile_shaped_text_parses(lines: list[str]) -> None:
    dockerfiles.parse("\n".join(lines))


# --- build commands, compose files ------------------------------------------------------------------


def evidence(files: dict[str, str]) -> list[tuple[str, str]]:
    return [(e.dockerfile, e.context) for e in facts_of(files).get(image_builds.collect)]


def test_build_commands_in_makefiles_scripts_and_package_json() -> None:
    files = {
        "api/Dockerfile": "FROM x\n",
        "web/Dockerfile": "FROM x\n",
        "worker/docker/Dockerfile": "FROM x\n",
        "tools/Dockerfile.ci": "FROM x\n",
        "Makefile": (
            "IMAGE ?= api\nbuild:\n"
            "\t@DOCKER_BUILDKIT=1 docker build --platform linux/amd64 -t $(IMAGE) -f api/Dockerfile .\n"
            "web:\n\tcd web && docker buildx build --load --tag web:dev .\n"
        ),
        "worker/build.sh": 'cd "$(dirname "$0")"\ndocker build -f docker/Dockerfile --build-arg V=1 .\n',
        "tools/package.json": '{"scripts": {"image": "podman build -f Dockerfile.ci ."}}\n',
        # Not evidence: stdin, a URL, two contexts, a variable context, an unknown folder.
        "other.sh": (
            "docker build - < Dockerfile\n"
            "docker build https://github.com/acme/x.git\n"
            "docker build a b\n"
            "docker build $DIR\n"
            "cd $SOMEWHERE && docker build .\n"
        ),
    }
    assert sorted(evidence(files)) == [
        ("api/Dockerfile", ""),
        ("tools/Dockerfile.ci", "tools"),
        ("web/Dockerfile", "web"),
        ("worker/docker/Dockerfile", "worker"),
    ]


def test_compose_anchors_extends_and_another_file() -> None:
    files = {
        "svc/Dockerfile": "FROM x\n",
        "svc/Dockerfile.dev": "FROM x\n",
        "base/Dockerfile": "FROM x\n",
        "deploy/common.yml": ("services:\n  shared:\n    build:\n      context: ../base\n"),
        "deploy/docker-compose.yml": (
            "x-defaults: &defaults\n"
            "  build:\n"
            "    context: ../svc\n"
            "services:\n"
            "  one:\n"
            "    <<: *defaults\n"
            "  two:\n"
            "    extends: one\n"
            "    build:\n"
            "      dockerfile: Dockerfile.dev\n"
            "  three:\n"
            "    extends:\n"
            "      file: common.yml\n"
            "      service: shared\n"
            "  loop:\n"
            "    extends: loop\n"
            "  remote:\n"
            "    build: https://github.com/acme/x.git#main\n"
            "  inline:\n"
            "    build:\n"
            "      dockerfile_inline: FROM alpine\n"
        ),
    }
    assert sorted(set(evidence(files))) == [
        ("base/Dockerfile", "base"),
        ("svc/Dockerfile", "svc"),
        ("svc/Dockerfile.dev", "svc"),
    ]


def test_workflow_steps_give_the_working_directory_and_the_image_name() -> None:
    workflow = (
        "on: push\n"
        "env:\n  REGISTRY: ghcr.io/acme\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-latest\n"
        "    defaults:\n      run:\n        working-directory: services\n"
        "    steps:\n"
        "      - run: docker build -t $REGISTRY/api:${{ github.sha }} -f api/Dockerfile api\n"
        "      - env:\n          NAME: web\n"
        "        run: docker build -t ${NAME}:ci ${{ github.workspace }}/web\n"
    )
    files = {
        "services/api/Dockerfile": "FROM x\n",
        "web/Dockerfile": "FROM x\n",
        ".github/workflows/ci.yml": workflow,
    }
    found = facts_of(files).get(image_builds.collect)
    steps = {e.dockerfile: (e.context, e.step) for e in found}
    api_context, api = steps["services/api/Dockerfile"]
    assert api_context == "services/api" and api is not None
    assert api.image == "${{ env.REGISTRY }}/api:${{ github.sha }}" and api.index == 0
    web_context, web = steps["web/Dockerfile"]
    assert web_context == "web" and web is not None and web.image == "web:ci"


_COMMAND_WORDS = st.sampled_from(
    [
        "docker", "build", "buildx", "-f", "--file", "-t", ".", "..", "$(dirname $0)", "cd",
        "&&", ";", "|", "'", '"', "${{ github.workspace }}", "$GITHUB_WORKSPACE", "--target",
        "x/Dockerfile", "podman", "buildah", "bud", "-", "--push", "--build-arg", "A=1", "\\",
        "#", "(", ")", "`",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(_COMMAND_WORDS, max_size=12).map(" ".join), max_size=6), st.text(max_size=300)
)
def test_any_command_and_compose_text_is_read_without_raising(lines: list[str], text: str) -> None:
    files = {
        "x/Dockerfile": "FROM x\n",
        "Makefile": "all:\n" + "".join(f"\t{line}\n" for line in lines),
        "build.sh": "\n".join(lines) + "\n" + text,
        "docker-compose.yml": text,
        "compose.yaml": "services:\n  a:\n    build:\n" + "".join(f"      {t}\n" for t in lines),
    }
    for item in facts_of(files).get(image_builds.collect):
        assert not item.context.startswith("/") and ".." not in item.context.split("/")


# --- .gitignore edits, checked by git ---------------------------------------------------------------

PATH = ".vscode/extensions.json"
# Paths whose ignore status must not change: the rest of the folder, nested editor folders, and
# files elsewhere.
OTHERS = (
    ".vscode/settings.json",
    ".vscode/launch.json",
    ".vscode/sub/extensions.json",
    "sub/.vscode/extensions.json",
    "sub/.vscode/settings.json",
    "a.json",
    ".idea/x.xml",
    "app.py",
    ".env",
)
FOLDER_RULES = (".vscode", "/.vscode", "**/.vscode")
_IGNORE_LINES = st.sampled_from(
    [
        ".vscode", ".vscode/", "/.vscode/", "/.vscode", "**/.vscode/", ".vscode/*", ".vscode/**",
        "!.vscode/settings.json", "*.json", "!*.json", ".*", "!.gitignore", "*", "# comment",
        "", "   ", ".idea/", "!/.vscode/", ".vscode/extensions.json", "\\#hash", "**/*.json",
        "sub/", "!sub/", ".v*", "[.]vscode/", "*.py", "!app.py", ".env", "*.json ",
    ]
)  # fmt: skip


def _git_ignored(root: Path, path: str) -> bool:
    proc = subprocess.run(
        ["git", "-C", str(root), "check-ignore", "-q", "--no-index", path],
        capture_output=True,
        env={"HOME": "/nonexistent", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    return proc.returncode == 0


@pytest.fixture(scope="module")
def ignore_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ignore")
    git(root, "init", "-q", "-b", "main")
    (root / "app.py").write_text("print(1)\n")
    return root


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_IGNORE_LINES, max_size=8))
def test_a_gitignore_edit_reincludes_the_file_and_nothing_else(
    ignore_repo: Path, lines: list[str]
) -> None:
    root = ignore_repo
    text = "\n".join(lines) + "\n"
    (root / ".gitignore").write_text(text)
    git(root, "add", "-A")
    before = {p: _git_ignored(root, p) for p in OTHERS}
    snapshot = LocalSource(root).snapshot()
    answer = gitignore.reinclude(snapshot, PATH, lambda p: snapshot.read_text(p))
    if answer is None:
        assert not _git_ignored(root, PATH)
        return
    assert isinstance(answer, gitignore.Reinclusion), answer
    (root / ".gitignore").write_text(answer.texts[".gitignore"])
    try:
        assert not _git_ignored(root, PATH), answer.texts
        assert {p: _git_ignored(root, p) for p in OTHERS} == before, answer.texts
        # No line is lost but a rule for the folder itself, which became one for its files.
        removed = Counter(text.splitlines()) - Counter(answer.texts[".gitignore"].splitlines())
        assert all(line.rstrip("/") in FOLDER_RULES for line in removed), removed
    finally:
        (root / ".gitignore").write_text(text)


def test_the_pattern_reader_follows_gitignore_rules() -> None:
    assert gitignore.matches(".vscode/", ".vscode", is_dir=True)
    assert not gitignore.matches(".vscode/", ".vscode", is_dir=False)
    assert gitignore.matches(".vscode", "sub/.vscode", is_dir=True)  # unanchored: any depth
    assert not gitignore.matches("/.vscode", "sub/.vscode", is_dir=True)
    assert not gitignore.matches(".vscode/*", ".vscode", is_dir=True)
    assert gitignore.matches(".vscode/*", ".vscode/x.json", is_dir=False)
    assert not gitignore.matches(".vscode/*", ".vscode/a/x.json", is_dir=False)
    assert gitignore.matches(".vscode/**", ".vscode/a/x.json", is_dir=False)
    assert gitignore.matches("**/.vscode", "a/b/.vscode", is_dir=True)
    assert gitignore.matches("[.]v*", ".vscode", is_dir=True)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_any_pattern_and_path_are_matched_without_raising(pattern: str, path: str) -> None:
    gitignore.matches(pattern, path, is_dir=True)
    gitignore.matches(pattern, path, is_dir=False)


def test_hostile_ignore_files_give_an_answer(make_repo: MakeRepo) -> None:
    """A .gitignore that is not where git says (changed under us) or that cannot be edited into
    an exception gives a reason, never an edit that does not work."""
    root = make_repo(files={".gitignore": ".vscode/\n", "app.py": "x\n"})
    snapshot = LocalSource(root).snapshot()
    changed = gitignore.reinclude(snapshot, PATH, lambda _p: "*.pyc\n")
    assert isinstance(changed, gitignore.CannotReinclude)
    untracked = gitignore.reinclude(snapshot, PATH, lambda _p: None)
    assert isinstance(untracked, gitignore.CannotReinclude)
    assert "not tracked" in untracked.reason


def test_a_plain_folder_has_nothing_to_ignore(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text(".vscode/\n")
    snapshot = LocalSource(tmp_path).snapshot()
    assert snapshot.ignored_by(PATH) is None
