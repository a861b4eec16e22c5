"""The image-scan fix on repositories shaped like real ones: each image is built from the context
the repository itself uses (checked statically: every COPY/ADD source exists under it), test and
development images are left out and named, a CI job that builds an image gets the scan step after
its build where that is safe, and says why not where it is not. Fix, commit, scan; a second run
changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from actionlint import problems as actionlint_problems
from conftest import MakeRepo, git, result, scan
from test_fix_support import change_for, changed_paths, commit_all, fix_json, lines_kept, status

from secposture.facts import dockerfiles
from secposture.facts.parsing import parse_yaml
from secposture.model import Status

WORKFLOW = ".github/workflows/secposture-security.yml"
ONLY = ("--only", "container-scanning")
STEP_NAME = "Scan the image for vulnerabilities (Trivy; added by secposture fix)"


def tracked(root: Path) -> list[str]:
    return git(root, "ls-files").split()


def missing_in_context(root: Path, dockerfile: str, context: str) -> list[str]:
    """The checker the done-when asks for: COPY/ADD sources of `dockerfile` that do not exist
    under `context` among the repository's tracked files."""
    parsed = dockerfiles.parse((root / dockerfile).read_text())
    return dockerfiles.missing_sources(parsed, context, tracked(root))


def matrix(root: Path) -> list[dict[str, Any]]:
    workflow = parse_yaml((root / WORKFLOW).read_text())
    include: list[dict[str, Any]] = workflow["jobs"]["image-scan"]["strategy"]["matrix"]["include"]
    return include


def fixed_twice(root: Path, *args: str) -> dict[str, Any]:
    """Fix, commit, and check that a second fix changes nothing."""
    data = fix_json(root, *args)
    commit_all(root)
    again = fix_json(root, *args)
    assert again["changes"] == [], again
    return data


def actionlint_ok(root: Path, path: str) -> None:
    """actionlint accepts the file (tests/actionlint.py)."""
    assert actionlint_problems(root, [path]) == []


# --- modelled on ministryofjustice/opg-modernising-lpa: docker/*/Dockerfile built from the root ----

_GO_SERVICE = """\
FROM golang:1.26-alpine AS build-env
WORKDIR /app
COPY --link go.mod go.sum ./
RUN go mod download
COPY --link cmd/{name} ./cmd/{name}
COPY --link internal ./internal
RUN CGO_ENABLED=0 go build -o /go/bin/{name} ./cmd/{name}

FROM scratch AS production
COPY --from=build-env /go/bin/{name} {name}
ENTRYPOINT ["./{name}"]
"""
OPG = {
    "go.mod": "module example.com/lpa\n\ngo 1.26\n",
    "go.sum": "",
    "cmd/mlpa/main.go": "package main\n\nfunc main() {}\n",
    "cmd/event-logger/main.go": "package main\n\nfunc main() {}\n",
    "internal/app/app.go": "package app\n",
    "web/assets/main.js": "console.log(1)\n",
    "web/robots.txt": "User-agent: *\n",
    "web/template/layout.gohtml": "<html></html>\n",
    "lang/en.json": "{}\n",
    "package.json": '{"name": "lpa", "private": true}\n',
    "package-lock.json": '{"lockfileVersion": 3}\n',
    "docker/mlpa/Dockerfile": (
        "FROM node:24-alpine AS asset-env\n"
        "WORKDIR /app\n"
        "COPY --link package.json package-lock.json ./\n"
        "RUN npm install --omit=dev\n"
        "COPY --link web/assets web/assets\n"
        "RUN mkdir -p web/static && npm run build\n\n"
        "FROM golang:1.26-alpine AS dev\n"
        "WORKDIR /app\n"
        "COPY --link go.mod go.sum ./\n"
        "COPY --link cmd/mlpa ./cmd/mlpa\n"
        "COPY --link internal ./internal\n"
        'ENTRYPOINT ["air"]\n\n'
        "FROM dev AS build-env\n"
        "RUN go build -o /go/bin/mlpab ./cmd/mlpa\n\n"
        "FROM scratch AS production\n"
        "COPY --from=asset-env /app/web/static web/static\n"
        "COPY --from=build-env /go/bin/mlpab mlpab\n"
        "COPY --link web/robots.txt web/robots.txt\n"
        "COPY --link web/template web/template\n"
        "COPY --link lang lang\n"
        'ENTRYPOINT ["./mlpab"]\n'
    ),
    "docker/event-logger/Dockerfile": _GO_SERVICE.format(name="event-logger"),
    "docker/mock-pay/Dockerfile": "FROM outofcoffee/imposter:4\nCOPY docker/mock-pay/config /opt/imposter/config\n",
    "docker/mock-pay/config/pay.yaml": "plugin: openapi\n",
    "docker/localstack/Dockerfile": "FROM localstack/localstack:4\nCOPY docker/localstack/init.sh /etc/localstack/init/ready.d/\n",
    "docker/localstack/init.sh": "#!/bin/sh\necho ready\n",
    # The compose file builds from `..` (the root) with an anchor, as opg's does; the dev override
    # asks for the `dev` stage, which is not the image that ships.
    "docker/docker-compose.yml": (
        "x-build: &root-build\n"
        "  context: ..\n"
        "services:\n"
        "  app:\n"
        "    build:\n"
        "      <<: *root-build\n"
        "      dockerfile: docker/mlpa/Dockerfile\n"
        "  event-logger:\n"
        "    build:\n"
        "      <<: *root-build\n"
        "      dockerfile: docker/event-logger/Dockerfile\n"
        "  mock-pay:\n"
        "    build:\n"
        "      <<: *root-build\n"
        "      dockerfile: docker/mock-pay/Dockerfile\n"
        "  localstack:\n"
        "    build:\n"
        "      <<: *root-build\n"
        "      dockerfile: docker/localstack/Dockerfile\n"
    ),
    "docker/docker-compose.dev.yml": (
        "services:\n  app:\n    build:\n      context: ..\n      dockerfile: docker/mlpa/Dockerfile\n"
        "      target: dev\n"
    ),
}


def test_images_under_docker_build_from_the_root_as_the_compose_file_says(
    make_repo: MakeRepo,
) -> None:
    root = make_repo(files=OPG)
    # What the old fix did, building each image from its own folder, finds nothing to copy.
    assert missing_in_context(root, "docker/mlpa/Dockerfile", "docker/mlpa")
    data = fixed_twice(root, *ONLY)
    images = {e["dockerfile"]: e for e in matrix(root)}
    assert set(images) == {"docker/mlpa/Dockerfile", "docker/event-logger/Dockerfile"}
    for entry in images.values():
        assert entry["context"] == "."
        assert missing_in_context(root, entry["dockerfile"], entry["context"]) == []
    # The last stage ships: no target is forced, the dev override is not followed.
    assert "target" not in images["docker/mlpa/Dockerfile"]
    left_out = next(n for n in data["notes"] if "left out of the image scan" in n)
    assert "docker/mock-pay/Dockerfile" in left_out and "'mock'" in left_out
    assert "docker/localstack/Dockerfile" in left_out
    assert "docker/docker-compose.yml service `app`" in " ".join(data["notes"])
    assert status(scan(root), "container-scanning") is Status.PASS
    actionlint_ok(root, WORKFLOW)


def test_copy_paths_decide_the_context_when_nothing_builds_the_image(make_repo: MakeRepo) -> None:
    files = {k: v for k, v in OPG.items() if not k.startswith("docker/docker-compose")}
    root = make_repo(files=files)
    fixed_twice(root, *ONLY)
    for entry in matrix(root):
        assert entry["context"] == "."
        assert missing_in_context(root, entry["dockerfile"], entry["context"]) == []


def test_an_included_test_image_is_scanned(make_repo: MakeRepo) -> None:
    policy = '[tool.secposture]\ninclude = ["docker/mock-pay/*"]\n'
    root = make_repo(files={**OPG, "pyproject.toml": policy})
    fixed_twice(root, *ONLY)
    names = [e["dockerfile"] for e in matrix(root)]
    assert "docker/mock-pay/Dockerfile" in names
    assert "docker/localstack/Dockerfile" not in names


# --- modelled on alphagov/notifications-api: docker/Dockerfile built from the root by make ----------

NOTIFY = {
    "requirements.txt": "flask==3.1.0\n",
    "requirements_for_test.txt": "pytest==8.3.0\n",
    "app/__init__.py": "",
    "application.py": "from app import *\n",
    "Makefile": (
        ".PHONY: bootstrap-with-docker\n"
        "bootstrap-with-docker: ## Build the image to run the app in Docker\n"
        "\tdocker build -f docker/Dockerfile --target test -t notifications-api .\n"
    ),
    "docker/Dockerfile": (
        "FROM python:3.13-slim AS base\n"
        "COPY --from=ghcr.io/astral-sh/uv:0.11.8 /uv /uvx /bin/\n"
        "WORKDIR /home/vcap/app\n\n"
        "FROM base AS python_build\n"
        "COPY requirements.txt .\n"
        "RUN uv pip install -r requirements.txt\n\n"
        "FROM base AS production\n"
        "COPY --chown=notify:notify app app\n"
        "COPY --chown=notify:notify application.py ./\n\n"
        "FROM production AS test\n"
        "COPY --chown=notify:notify Makefile requirements_for_test.txt ./\n"
    ),
}


def test_the_makefile_build_gives_the_context_and_the_release_stage_is_scanned(
    make_repo: MakeRepo,
) -> None:
    root = make_repo(files=NOTIFY)
    fixed_twice(root, *ONLY)
    (entry,) = matrix(root)
    assert entry["dockerfile"] == "docker/Dockerfile"
    assert entry["context"] == "."
    # The Makefile builds the `test` stage for local work; the scan builds what ships.
    assert entry["target"] == "production"
    assert missing_in_context(root, "docker/Dockerfile", ".") == []
    build = matrix_job_step(root, "Build the image")
    assert '${TARGET:+--target "$TARGET"}' in build["run"]
    assert build["env"]["TARGET"] == "${{ matrix.target }}"
    actionlint_ok(root, WORKFLOW)


def matrix_job_step(root: Path, name: str) -> dict[str, Any]:
    workflow = parse_yaml((root / WORKFLOW).read_text())
    steps: list[dict[str, Any]] = workflow["jobs"]["image-scan"]["steps"]
    return next(s for s in steps if s.get("name") == name)


# --- modelled on ministryofjustice/hmpps-template-typescript: build arguments from compose ---------

HMPPS = {
    "package.json": '{"name": "hmpps-template", "private": true}\n',
    "package-lock.json": '{"lockfileVersion": 3}\n',
    ".npmrc": "engine-strict=true\n",
    "server/index.ts": "export {}\n",
    "Dockerfile": (
        "ARG BUILD_NUMBER\nARG GIT_REF\n"
        "FROM ghcr.io/ministryofjustice/hmpps-node:24-alpine AS build\n"
        "ARG BUILD_NUMBER\nARG GIT_REF\n"
        'RUN test -n "$BUILD_NUMBER" || (echo "BUILD_NUMBER not set" && false)\n'
        "WORKDIR /app\n"
        "COPY package*.json .npmrc ./\n"
        "RUN npm run setup\n"
        "COPY . .\n"
        "RUN npm run build\n\n"
        "FROM ghcr.io/ministryofjustice/hmpps-node:24-alpine-runtime\n"
        "COPY --from=build --chown=appuser:appgroup \\\n"
        "        /app/package.json \\\n"
        "        /app/package-lock.json \\\n"
        "        ./\n"
        "COPY --from=build --chown=appuser:appgroup /app/dist ./dist\n"
    ),
    # An `extends` of a service of the same file, as compose allows.
    "docker-compose.yml": (
        "services:\n"
        "  base:\n"
        "    build:\n"
        "      context: .\n"
        "      args:\n"
        '        BUILD_NUMBER: "1.0.0"\n'
        '        GIT_REF: "a1b2c3"\n'
        "  app:\n"
        "    extends: base\n"
        "    ports:\n"
        '      - "3000:3000"\n'
    ),
}


def test_build_arguments_the_compose_file_passes_are_passed(make_repo: MakeRepo) -> None:
    root = make_repo(files=HMPPS)
    fixed_twice(root, *ONLY)
    (entry,) = matrix(root)
    assert entry["context"] == "."
    assert entry["build_args"] == "BUILD_NUMBER=1.0.0 GIT_REF=a1b2c3"
    build = matrix_job_step(root, "Build the image")
    assert '--build-arg "$arg"' in build["run"] and '"${args[@]}"' in build["run"]
    assert missing_in_context(root, "Dockerfile", ".") == []
    actionlint_ok(root, WORKFLOW)


# --- a CI job that builds the image: the scan goes into it ----------------------------------------

CI_BUILD = """\
name: CI
on:
  push:
    branches: [main]
  pull_request:

permissions:
  contents: read

env:
  IMAGE: ghcr.io/acme/app

jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      # Check out the code
      - uses: actions/checkout@v5
      - name: Build the image
        run: |
          docker build -f docker/Dockerfile -t "$IMAGE:${{ github.sha }}" .
      # Push only from main
      - name: Push
        if: github.ref == 'refs/heads/main'
        run: docker push "$IMAGE:${{ github.sha }}"
"""
APP = {
    "requirements.txt": "flask==3.1.0\n",
    "app/main.py": "print(1)\n",
    "docker/Dockerfile": (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\nCOPY app ./app\n"
    ),
}


def test_the_scan_step_goes_into_the_job_that_builds_the_image(make_repo: MakeRepo) -> None:
    root = make_repo(files={**APP, ".github/workflows/ci.yml": CI_BUILD})
    data = fixed_twice(root, *ONLY)
    assert changed_paths(data) == [".github/workflows/ci.yml"]  # nothing is built twice
    assert change_for(data, ".github/workflows/ci.yml")["action"] == "edit"
    after = (root / ".github/workflows/ci.yml").read_text()
    assert lines_kept(CI_BUILD, after)
    steps = parse_yaml(after)["jobs"]["build"]["steps"]
    assert [s.get("name") for s in steps][1:3] == ["Build the image", STEP_NAME]
    scan_step = steps[2]
    assert scan_step["uses"].startswith("aquasecurity/trivy-action@")
    assert len(scan_step["uses"].partition("@")[2]) == 40
    assert scan_step["with"]["image-ref"] == "${{ env.IMAGE }}:${{ github.sha }}"
    assert scan_step["with"]["exit-code"] == "1"
    # It needs no permission of the token: the job's are left as they were.
    assert "permissions" not in parse_yaml(after)["jobs"]["build"]
    assert after.index(STEP_NAME) < after.index("# Push only from main")
    assert not (root / WORKFLOW).exists()
    report = scan(root)
    assert status(report, "container-scanning") is Status.PASS
    actionlint_ok(root, ".github/workflows/ci.yml")


def test_build_push_action_with_load_gets_the_scan_after_it(make_repo: MakeRepo) -> None:
    workflow = (
        "on: push\n"
        "permissions:\n  contents: read\n"
        "jobs:\n"
        "  image:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - uses: docker/setup-buildx-action@v3\n"
        "      - name: Build\n"
        "        if: github.event_name == 'push'\n"
        "        uses: docker/build-push-action@v6\n"
        "        with:\n"
        "          context: .\n"
        "          file: docker/Dockerfile\n"
        "          load: true\n"
        "          tags: |\n"
        "            app:ci\n"
        "            app:latest\n"
    )
    root = make_repo(files={**APP, ".github/workflows/image.yml": workflow})
    fixed_twice(root, *ONLY)
    steps = parse_yaml((root / ".github/workflows/image.yml").read_text())["jobs"]["image"]["steps"]
    scan_step = steps[3]
    assert scan_step["name"] == STEP_NAME
    assert scan_step["with"]["image-ref"] == "app:ci"
    assert scan_step["if"] == "github.event_name == 'push'"  # skipped with its build
    assert status(scan(root), "container-scanning") is Status.PASS
    actionlint_ok(root, ".github/workflows/image.yml")


def test_a_matrix_job_is_not_edited_and_the_plan_says_why(make_repo: MakeRepo) -> None:
    workflow = (
        "on: push\n"
        "jobs:\n"
        "  build:\n"
        "    strategy:\n"
        "      matrix:\n"
        "        python: ['3.12', '3.13']\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: docker build -f docker/Dockerfile -t app:${{ matrix.python }} .\n"
    )
    root = make_repo(files={**APP, ".github/workflows/ci.yml": workflow})
    data = fixed_twice(root, *ONLY)
    assert (root / ".github/workflows/ci.yml").read_text() == workflow
    why = next(n for n in data["notes"] if "cannot go after it" in n)
    assert "matrix" in why and "builds it a second time" in why
    (entry,) = matrix(root)
    assert entry == {"name": "docker-dockerfile", "dockerfile": "docker/Dockerfile", "context": "."}
    assert status(scan(root), "container-scanning") is Status.PASS


def test_a_tag_the_shell_makes_cannot_be_named_and_falls_back(make_repo: MakeRepo) -> None:
    workflow = (
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        '      - run: |\n          TAG="app:$(git rev-parse --short HEAD)"\n'
        '          docker build -f docker/Dockerfile -t "$TAG" .\n'
    )
    root = make_repo(files={**APP, ".github/workflows/ci.yml": workflow})
    data = fixed_twice(root, *ONLY)
    assert any("made by the shell at run time" in n for n in data["notes"])
    assert [e["context"] for e in matrix(root)] == ["."]


# --- modelled on govuk-one-login/ipv-core-front ------------------------------------------------------

IPV = {
    "package.json": '{"name": "ipv-core-front", "private": true}\n',
    "package-lock.json": '{"lockfileVersion": 3}\n',
    ".npmrc": "engine-strict=true\n",
    "src/app.ts": "export {}\n",
    "views/ipv/page.njk": "<p></p>\n",
    "Dockerfile": (
        "FROM node:24-alpine AS builder\nWORKDIR /app\nCOPY package.json ./\nCOPY package-lock.json ./\n"
        "COPY .npmrc ./\nRUN npm install\nCOPY /src ./src\nCOPY /views ./views\nRUN npm run build\n\n"
        "FROM node:24-alpine AS final\nCOPY --chown=appuser:appgroup --from=builder /app/dist ./dist\n"
    ),
    "local.Dockerfile": "FROM node:24-alpine\nWORKDIR /app\nCOPY package.json package-lock.json .npmrc ./\nCOPY . ./\n",
    "dev-deploy/Dockerfile": "FROM node:24-alpine\nCOPY package.json ./\nCOPY /src ./src\n",
    "browser-tests/Dockerfile": (
        "FROM mcr.microsoft.com/playwright:v1.56.1-jammy\nWORKDIR /browser-tests\n"
        "COPY ./browser-tests/package.json ./\nCOPY ../views/ipv/page ../views/ipv/page\n"
    ),
    "browser-tests/package.json": '{"name": "browser-tests", "private": true}\n',
    "browser-tests/compose.yaml": (
        "services:\n"
        "  core-front:\n    build:\n      context: ..\n      dockerfile: dev-deploy/Dockerfile\n"
        "  tests:\n    build:\n      context: ..\n      dockerfile: browser-tests/Dockerfile\n"
    ),
    # The build runs in a workflow other workflows call.
    ".github/workflows/automated-tests.yaml": (
        "name: Automated tests\n"
        "on:\n  workflow_call:\n"
        "jobs:\n"
        "  run-tests:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v7\n"
        "      - uses: actions/setup-node@v7\n"
        "      - name: Build docker image\n"
        "        run: |\n"
        '          cd "${GITHUB_WORKSPACE}" || exit 1\n'
        '          docker build -t "core-front-build:test" .\n'
    ),
    ".github/workflows/pre-merge-checks.yaml": (
        "on: pull_request\njobs:\n  tests:\n    uses: ./.github/workflows/automated-tests.yaml\n"
    ),
}


def test_a_reusable_workflow_is_not_edited_and_dev_and_test_images_are_named(
    make_repo: MakeRepo,
) -> None:
    root = make_repo(files=IPV)
    data = fixed_twice(root, *ONLY)
    assert (root / ".github/workflows/automated-tests.yaml").read_text() == IPV[
        ".github/workflows/automated-tests.yaml"
    ]
    assert matrix(root) == [{"name": "root-dockerfile", "dockerfile": "Dockerfile", "context": "."}]
    assert missing_in_context(root, "Dockerfile", ".") == []
    notes = " ".join(data["notes"])
    assert "reusable workflow (on: workflow_call)" in notes
    for left_out in ("local.Dockerfile", "dev-deploy/Dockerfile", "browser-tests/Dockerfile"):
        assert left_out in notes
    # The repository's workflows run actions/checkout@v7: the generated one is no older.
    checkout = parse_yaml((root / WORKFLOW).read_text())["jobs"]["image-scan"]["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert "# v7." in (root / WORKFLOW).read_text()
    assert status(scan(root), "container-scanning") is Status.PASS


# --- a script that builds from its own folder's parent ---------------------------------------------


def test_a_script_that_cds_to_its_folder_gives_the_context(make_repo: MakeRepo) -> None:
    files = {
        "service/requirements.txt": "flask\n",
        "service/app.py": "print(1)\n",
        "service/docker/Dockerfile": "FROM python:3.12\nCOPY requirements.txt app.py ./\n",
        "service/scripts/build.sh": (
            '#!/bin/bash\nset -e\ncd "$(dirname "$0")/.."\n'
            "docker build --file docker/Dockerfile --tag service:local .\n"
        ),
    }
    root = make_repo(files=files)
    fixed_twice(root, *ONLY)
    (entry,) = matrix(root)
    assert entry["context"] == "service"
    assert missing_in_context(root, "service/docker/Dockerfile", "service") == []


@pytest.mark.parametrize(
    ("workflow", "reason"),
    [
        ("jobs:\n  build:\n    uses: acme/shared/.github/workflows/docker.yml@v2\n", None),
        ("jobs: [1, 2]\n", None),
    ],
)
def test_workflows_of_other_shapes_never_break_the_plan(
    make_repo: MakeRepo, workflow: str, reason: str | None
) -> None:
    root = make_repo(files={**APP, ".github/workflows/ci.yml": "on: push\n" + workflow})
    data = fix_json(root, *ONLY)
    assert all("internal error" not in s["reason"] for s in data["skipped"])
    assert result(scan(root), "container-scanning") is not None
