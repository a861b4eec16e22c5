"""The security-tests control end to end: tests whose names and assertions show security behaviour
or DAST in CI, and infrastructure security checks (IaC scanners in CI, policy tests).

The application part reads what tests do, never words that merely appear in a test file: each
true positive and false positive below is modelled on a test file of a real repository (the corpus
in tests/corpus/, README pattern 6 and the issue's list)."""

from __future__ import annotations

import dataclasses
import time

import pytest
from conftest import MakeRepo, result, scan
from hypothesis import given
from hypothesis import strategies as st
from test_ci_facts import PROPERTY, facts_of, workflow

from secposture.model import Outcome, Status
from secposture.policy import default_policy
from secposture.probes.infrastructure_security_tested import impl as infra
from secposture.probes.tests_exercise_security import impl as tests_probe
from secposture.probes.tests_exercise_security import lexing


def outcomes(report_result: object, probe: str) -> list[Outcome]:
    return [f.outcome for f in report_result.findings if f.probe == probe]  # type: ignore[attr-defined]


def test_security_tests_pass_with_file_and_line(make_repo: MakeRepo) -> None:
    got = result(scan(make_repo("sa-python-complete")), "security-tests")
    assert got.status is Status.PASS
    first = next(f for f in got.findings if f.probe == "tests-exercise-security")
    assert (first.location.path, first.location.line) == ("tests/test_accounts.py", 3)  # type: ignore[union-attr]
    assert first.message == (
        "tests assert security behaviour (access denied (401/403)) in test "
        "`test_account_requires_a_token`: tests/test_accounts.py:3 "
        "`assert response.status_code == 401`"
    )
    assert first.values["strength"] == "named assertion"
    assert outcomes(got, "infrastructure-security-tested") == [Outcome.NOT_APPLICABLE]


def test_dast_in_ci_counts(make_repo: MakeRepo) -> None:
    got = result(scan(make_repo("gitlab-rails-app")), "security-tests")
    assert got.status is Status.PASS
    assert "a DAST scan runs in CI: gitlab-dast" in got.findings[0].message
    zap = workflow(
        "- uses: zaproxy/action-baseline@v0.14.0\n  with:\n    target: https://staging.example.org"
    )
    got = result(
        scan(make_repo("sa-go-bare", {".github/workflows/zap.yml": zap})), "security-tests"
    )
    assert got.status is Status.PASS and "zap" in got.findings[0].message


def test_no_security_tests_fail(make_repo: MakeRepo) -> None:
    got = result(scan(make_repo("sa-go-bare")), "security-tests")
    assert got.status is Status.FAIL
    assert "none of the 1 test files read has a test named for, or an assertion of" in got.summary
    assert "words in comments, imports and paths do not count" in got.summary


def test_no_code_is_not_applicable_and_no_tests_is_named(make_repo: MakeRepo) -> None:
    got = result(scan(make_repo(None, {"README.md": "# notes\n"})), "security-tests")
    assert got.status is Status.NOT_APPLICABLE
    got = result(scan(make_repo(None, {"app.py": "print(1)\n"})), "security-tests")
    assert got.status is Status.FAIL and "no test files found" in got.summary


def test_reading_limit_is_honoured(make_repo: MakeRepo) -> None:
    files = {"pyproject.toml": "[tool.secposture.limits]\nmax_test_files_read = 0\n"}
    got = result(scan(make_repo("sa-python-complete", files)), "security-tests")
    assert got.status is Status.FAIL and "limits.max_test_files_read = 0" in got.summary


def test_reading_stops_early_and_security_named_files_come_first() -> None:
    files: dict[str, str | bytes] = {
        f"tests/test_m{i:03}.py": "def test_x():\n    assert 1\n" for i in range(200)
    }
    files.update(
        {
            f"tests/test_csrf_{i}.py": (
                "def test_post_without_csrf_token_is_rejected(client):\n"
                "    assert client.post('/form').status_code == 403\n"
            )
            for i in range(5)
        }
    )
    evidence, read, total = tests_probe.find_evidence(facts_of(files))
    assert (len(evidence), read, total) == (3, 3, 205)
    assert all("csrf" in e.path for e in evidence)


def test_strongest_evidence_first_an_assertion_beats_a_name() -> None:
    # Read in path order (none has a priority word); reported strongest first.
    files: dict[str, str | bytes] = {
        "tests/test_a.py": "def test_unauthenticated_user_is_redirected():\n    pass\n",
        "tests/test_b.py": "def test_x(client):\n    assert client.get('/').status_code == 401\n",
        "tests/test_c.py": (
            "def test_other_users_are_forbidden(client):\n"
            "    assert client.get('/u/2').status_code == 403\n"
        ),
    }
    evidence, read, _total = tests_probe.find_evidence(facts_of(files))
    assert read == 3
    assert [(e.path, e.strength) for e in evidence] == [
        ("tests/test_c.py", tests_probe.NAMED_ASSERTION),
        ("tests/test_b.py", tests_probe.ASSERTION),
        ("tests/test_a.py", tests_probe.NAME),
    ]
    assert evidence[2].describe() == (
        "a test is named for security behaviour (access denied (401/403)): tests/test_a.py:1 "
        "`test_unauthenticated_user_is_redirected`"
    )


# --- what counts: test names and assertions, in five languages and more --------------------------

# (path, text, category, line, strength): modelled on real test files.
TRUE_POSITIVES = [
    (  # alphagov/notifications-api tests/app/authentication/test_authentication.py
        "tests/app/authentication/test_authentication.py",
        "from app.authentication.auth import AuthError\n\n\n"
        "def test_get_auth_token_should_not_allow_request_with_no_token(client):\n"
        "    request.headers = {}\n"
        "    with pytest.raises(AuthError) as exc:\n"
        "        _get_auth_token(request)\n",
        "authentication rejected",
        6,
        tests_probe.NAMED_ASSERTION,
    ),
    (  # a Django view test
        "app/tests/test_views.py",
        "class TestCaseViews(TestCase):\n"
        "    def test_other_users_case_is_forbidden(self):\n"
        "        response = self.client.get('/cases/2')\n"
        "        self.assertEqual(response.status_code, 403)\n",
        "access denied (401/403)",
        4,
        tests_probe.NAMED_ASSERTION,
    ),
    (  # pallets/flask tests/test_templating.py test_escaping
        "tests/test_templating.py",
        "def test_escaping(app, client):\n"
        "    lines = client.get('/').data.splitlines()\n"
        "    assert lines == [\n"
        '        b"&lt;p&gt;Hello World!",\n'
        '        b"<p>Hello World!",\n'
        "    ]\n",
        "escaping asserted",
        4,
        tests_probe.ASSERTION,
    ),
    (  # pallets/flask tests/test_basic.py test_session_using_samesite_attribute
        "tests/test_basic.py",
        "def test_session_using_samesite_attribute(app, client):\n"
        "    cookie = client.get('/').headers['set-cookie'].lower()\n"
        '    assert "samesite=strict" in cookie\n',
        "cookie flags asserted",
        3,
        tests_probe.NAMED_ASSERTION,
    ),
    (  # expressjs/express test/express.static.js:346
        "test/express.static.js",
        "describe('express.static()', function () {\n"
        "  it('should 403 when traversing past root', function (done) {\n"
        "    request(this.app)\n"
        "      .get('/users/../../todo.txt')\n"
        "      .expect(403, /ForbiddenError/, done)\n"
        "  })\n"
        "})\n",
        "access denied (401/403)",
        5,
        tests_probe.NAMED_ASSERTION,
    ),
    (  # expressjs/express test/res.json.js:112
        "test/res.json.js",
        "it('should unicode escape HTML-sniffing characters', function (done) {\n"
        "  request(app)\n"
        "    .get('/')\n"
        '    .expect(200, \'{"\\\\u0026":"\\\\u003cscript\\\\u003e"}\', done)\n'
        "})\n",
        "escaping asserted",
        4,
        tests_probe.NAMED_ASSERTION,
    ),
    (  # jest + supertest
        "src/routes/cases.test.ts",
        "import request from 'supertest'\n"
        "it('rejects unauthenticated requests', async () => {\n"
        "  const res = await request(app).get('/cases')\n"
        "  expect(res.status).toBe(401)\n"
        "})\n",
        "access denied (401/403)",
        4,
        tests_probe.NAMED_ASSERTION,
    ),
    (  # govuk-one-login/ipv-core-front src/handlers/security-headers-handler.test.ts:22
        "src/handlers/security-headers-handler.test.ts",
        'it("should add security headers to response", () => {\n'
        "  securityHeadersHandler(req, res, next);\n"
        "  expect(res.set).to.have.been.calledWith({\n"
        '    "Strict-Transport-Security": "max-age=31536000",\n'
        '    "X-Frame-Options": "DENY",\n'
        "  });\n"
        "});\n",
        "security headers asserted",
        4,
        tests_probe.NAMED_ASSERTION,
    ),
    (  # NHSDigital/eps-prescription-status-update-api testHelpers.test.ts:104
        "packages/callback/tests/testHelpers.test.ts",
        'it("403 when signature does not match HMAC", async () => {\n'
        "  const resp = await checkSignature(logger, ev)\n"
        "  expect(resp).toEqual({\n"
        "    statusCode: 403,\n"
        '    body: JSON.stringify({message: "Incorrect signature"})\n'
        "  })\n"
        "})\n",
        "access denied (401/403)",
        4,
        tests_probe.NAMED_ASSERTION,
    ),
    (  # dwp/govuk-casa tests/middleware/post.test.js
        "tests/middleware/post.test.js",
        'it("renders a 403 page for a bad CSRF token", async () => {\n'
        "  await request(app).post('/a').send({ _csrf: 'bad' })\n"
        '  expect(res.text).to.equal("casa/errors/static.njk bad_csrf_token true")\n'
        "})\n",
        "CSRF rejected",
        3,
        tests_probe.NAMED_ASSERTION,
    ),
    (  # ministryofjustice/hmpps-template-kotlin ExampleResourceTest.kt:32
        "src/test/kotlin/uk/gov/justice/example/integration/ExampleResourceTest.kt",
        "class ExampleResourceTest : IntegrationTestBase() {\n"
        "  @Test\n"
        "  fun `should return forbidden if no role`() {\n"
        "    webTestClient.get()\n"
        '      .uri("/example/time")\n'
        "      .exchange()\n"
        "      .expectStatus()\n"
        "      .isForbidden\n"
        "  }\n"
        "}\n",
        "access denied (401/403)",
        8,
        tests_probe.NAMED_ASSERTION,
    ),
    (  # Spring MockMvc, Kotlin
        "src/test/kotlin/CasesControllerTest.kt",
        "@Test fun `returns 403 when the case belongs to another team`() {\n"
        '  mockMvc.perform(get("/cases/2"))\n'
        "    .andExpect(status().isForbidden)\n"
        "}\n",
        "access denied (401/403)",
        3,
        tests_probe.NAMED_ASSERTION,
    ),
    (  # Spring, Java
        "src/test/java/uk/gov/example/ApplicationTest.java",
        "class ApplicationTest {\n"
        "    @Test\n"
        "    void anonymousRequestIsRejected() {\n"
        '        var response = rest.getForEntity("/cases", String.class);\n'
        "        assertEquals(HttpStatus.UNAUTHORIZED, response.getStatusCode());\n"
        "    }\n"
        "}\n",
        "access denied (401/403)",
        5,
        tests_probe.NAMED_ASSERTION,
    ),
    (  # alphagov/signon permissions_controller_test.rb:71
        "test/controllers/account/permissions_controller_test.rb",
        "class PermissionsControllerTest < ActionController::TestCase\n"
        '  should "prevent unauthorised users" do\n'
        "    get :show, params: { application_id: application }\n"
        "    assert_not_authorised\n"
        "  end\n"
        "end\n",
        "access denied (401/403)",
        4,
        tests_probe.NAMED_ASSERTION,
    ),
    (  # RSpec request spec
        "spec/requests/cases_spec.rb",
        'RSpec.describe "Cases", type: :request do\n'
        '  it "works for admins" do\n'
        '    get "/admin"\n'
        "    expect(response).to have_http_status(:forbidden)\n"
        "  end\n"
        "end\n",
        "access denied (401/403)",
        4,
        tests_probe.ASSERTION,
    ),
    (  # heartcombo/devise test/failure_app_test.rb:263
        "test/failure_app_test.rb",
        "  test 'return 401 status' do\n"
        "    call_failure('formats' => Mime[:json])\n"
        "    assert_equal 401, @response.first\n"
        "  end\n",
        "access denied (401/403)",
        3,
        tests_probe.NAMED_ASSERTION,
    ),
    (  # Go, testify
        "internal/handlers/admin_test.go",
        'package handlers\n\nimport (\n\t"net/http"\n\t"testing"\n)\n\n'
        "func TestAdminRoutesRejectOtherUsers(t *testing.T) {\n"
        "\trec := serve(adminRequest(otherUser))\n"
        "\tassert.Equal(t, http.StatusForbidden, rec.Code)\n"
        "}\n",
        "access denied (401/403)",
        10,
        tests_probe.NAMED_ASSERTION,
    ),
    (  # Go, the standard library's way
        "internal/handlers/handlers_test.go",
        "package handlers\n\n"
        "func TestRejectsMissingToken(t *testing.T) {\n"
        "\trec := httptest.NewRecorder()\n"
        "\tif rec.Code != 401 {\n"
        '\t\tt.Fatalf("got %d", rec.Code)\n'
        "\t}\n"
        "}\n",
        "access denied (401/403)",
        5,
        tests_probe.NAMED_ASSERTION,
    ),
    (  # hashicorp/vault-secrets-operator helpers/hmac_test.go: table test names
        "helpers/hmac_test.go",
        "func TestValidateMAC(t *testing.T) {\n"
        "\ttests := []struct{ name string; want bool }{\n"
        "\t\t{\n"
        '\t\t\tname: "mismatch-secretMAC",\n'
        "\t\t\twant: false,\n"
        "\t\t},\n"
        "\t}\n"
        "}\n",
        "signature rejected",
        4,
        tests_probe.NAME,
    ),
    (  # ministryofjustice/opg-modernising-lpa internal/page/csrf_test.go
        "internal/page/csrf_test.go",
        "func TestPostValidateCsrfInvalid(t *testing.T) {\n\tw := httptest.NewRecorder()\n}\n",
        "CSRF rejected",
        1,
        tests_probe.NAME,
    ),
    (  # hmrc/bootstrap-play JsonErrorHandlerSpec.scala
        "test/uk/gov/hmrc/play/http/JsonErrorHandlerSpec.scala",
        'class JsonErrorHandlerSpec extends AnyWordSpec {\n  "onServerError" should {\n'
        '    "convert an AuthorisationException to Unauthorized response" in {\n'
        "      status(result) shouldEqual UNAUTHORIZED\n"
        "    }\n  }\n}\n",
        "access denied (401/403)",
        4,
        tests_probe.NAMED_ASSERTION,
    ),
    (  # Gherkin
        "features/sign_in.feature",
        "Feature: Sign in\n  Scenario: Unauthenticated users are sent to sign in\n"
        "    When I visit /cases\n    Then the response status should be 401\n",
        "access denied (401/403)",
        4,
        tests_probe.NAMED_ASSERTION,
    ),
]


@pytest.mark.parametrize(
    ("path", "text", "category", "line", "strength"),
    TRUE_POSITIVES,
    ids=[t[0].rpartition("/")[2] for t in TRUE_POSITIVES],
)
def test_test_names_and_assertions_count(
    path: str, text: str, category: str, line: int, strength: int
) -> None:
    found = tests_probe.scan_text(path, text)
    assert found is not None
    assert (found.category, found.line, found.strength) == (category, line, strength)


# (path, text): words of security in a test file that show no security behaviour.
FALSE_POSITIVES = [
    (  # the issue: an import, a comment
        "tests/test_errors.py",
        "from werkzeug.exceptions import Forbidden, Unauthorized  # 403\n\n\n"
        "def test_renders_error_page(client):\n"
        "    # 403: forbidden pages get the layout too\n"
        "    assert client.get('/').status_code == 200\n",
    ),
    (  # a multi-line import of the exceptions
        "tests/test_views.py",
        "from django.core.exceptions import (\n    PermissionDenied,\n    SuspiciousOperation,\n)\n\n"
        "def test_home(client):\n    assert client.get('/').status_code == 200\n",
    ),
    (  # the issue: a relative path is not path traversal
        "cypress/e2e/journey.cy.ts",
        "import '../../support/e2e'\n"
        "const fixtures = require('../../fixtures/forbidden/403.json')\n"
        "it('completes the journey', () => {\n"
        "  expect(load('../../content-security-policy/httponly.txt')).to.exist\n"
        "})\n",
    ),
    (  # alphagov/pay-frontend: card payments are authorised, which is no access control
        "test/controllers/charge.controller.test.js",
        "it('should show the authorisation success page', () => {\n"
        "  expect(charge.status).toBe('AUTHORISATION SUCCESS')\n"
        "  sinon.assert.calledWith(res.render, 'errors/auth-failure', authErrorObj)\n"
        "})\n",
    ),
    (  # block and line comments in C-family files
        "src/test/java/uk/gov/example/CasesTest.java",
        "class CasesTest {\n  /* returns 403 when forbidden;\n     assertEquals(403, status) */\n"
        "  @Test\n  void listsCases() {\n    // assertEquals(HttpStatus.FORBIDDEN, status)\n"
        "    assertEquals(200, status);\n  }\n}\n",
    ),
    (  # zizmorcore/zizmor: a security tool's detection snapshots are its function
        "crates/zizmor/tests/integration/audit/forbidden_uses.rs",
        "use crate::common::{input_under_test, zizmor};\n\n#[test]\n"
        "fn test_deny_all() -> Result<()> {\n    insta::assert_snapshot!(\n"
        '        zizmor().input(input_under_test("forbidden-uses/menagerie.yml")).run()?,\n'
        '        @"error[forbidden-uses]: forbidden action used; 403 unauthorized"\n'
        "    );\n    Ok(())\n}\n\n#[test]\n"
        "fn test_template_injection_static_matrix() -> Result<()> {\n    Ok(())\n}\n\n#[test]\n"
        "fn test_cant_retrieve_no_gh_token() -> Result<()> {\n    Ok(())\n}\n",
    ),
    (  # ministryofjustice/opg-modernising-lpa cypress smoke test: NOT 403 is no denial
        "cypress/smoke/smoke.cy.js",
        "it('request signing and base URL are configured correctly', () => {\n"
        "  cy.request({ url: '/', failOnStatusCode: false }).then((response) => {\n"
        "    expect(response.status).not.to.eq(403)\n"
        "  })\n"
        "})\n",
    ),
    (  # ministryofjustice/hmpps-template-typescript: a route that requires no role
        "server/middleware/authorisationMiddleware.test.ts",
        "it('should return next when no required roles', () => {\n"
        "  authorisationMiddleware()(req, res, next)\n"
        "  expect(next).toHaveBeenCalled()\n"
        "})\n",
    ),
    (  # UKHomeOffice/hocs-frontend csrf.spec.js: setting up CSRF is not rejecting without it
        "server/middleware/__tests__/csrf.spec.js",
        "describe('CSRF middleware', () => {\n"
        "  it('should add the csrf cookie', async () => {\n"
        "    expect(res.cookie).toHaveBeenCalled()\n"
        "  })\n"
        "})\n",
    ),
    (  # OWASP/pytm: string.Template escaping of dollar signs
        "tests/test_pytmfunc.py",
        "def test_report_escapes_dollar_signs(self):\n    assert '$$' not in output\n",
    ),
    (  # dependency injection is no injection attack
        "src/container.test.ts",
        "it('resolves services by dependency injection', () => {\n"
        "  expect(container.get(Service)).toBeDefined()\n"
        "})\n",
    ),
    (  # Go: an import block and a comment
        "internal/api/api_test.go",
        'package api\n\nimport (\n\t"net/http"\n\t"example.org/forbidden/csrf"\n)\n\n'
        "// TestList returns 403 when the user is unauthorized\n"
        "func TestList(t *testing.T) {\n\tassert.Equal(t, http.StatusOK, rec.Code)\n}\n",
    ),
    (  # Ruby: require and comments
        "spec/models/case_spec.rb",
        "require 'rails_helper'\nrequire_relative '../../support/forbidden_helper'\n"
        "# expect(response).to have_http_status(:forbidden)\n"
        "=begin\nassert_response :unauthorized\n=end\n"
        "RSpec.describe Case do\n  it 'has a title' do\n    expect(Case.new.title).to eq('')\n"
        "  end\nend\n",
    ),
    (  # a helper that asserts, being defined, is not a test of anything
        "test/helpers.js",
        "const assertForbidden = (res) => {\n  return res\n}\n",
    ),
]


@pytest.mark.parametrize(
    ("path", "text"), FALSE_POSITIVES, ids=[t[0].rpartition("/")[2] for t in FALSE_POSITIVES]
)
def test_words_that_show_no_security_behaviour_do_not_count(path: str, text: str) -> None:
    assert tests_probe.scan_text(path, text) is None


def test_tests_of_example_apps_are_not_product_tests() -> None:
    """expressjs/express test/acceptance/*.js test the apps in examples/ (pattern 6): set aside
    with the examples, unless the policy puts the examples back."""
    files: dict[str, str | bytes] = {
        "examples/auth/index.js": "var express = require('../../');\n",
        "test/acceptance/auth.js": (
            "var app = require('../../examples/auth')\nvar request = require('supertest')\n"
            "describe('auth', function () {\n  it('should respond with 403', function (done) {\n"
            "    request(app).get('/restricted').expect(403, done)\n  })\n})\n"
        ),
        # a require on its own line after another: `var a = require(x)\n  , app = require(y)`
        "test/acceptance/downloads.js": (
            "var request = require('supertest')\n  , app = require('../../examples/downloads');\n"
            "it('should respond with 403', function (done) {\n"
            "  request(app).get('/files/../index.js').expect(403, done)\n})\n"
        ),
        "examples/downloads/index.js": "module.exports = app\n",
        "test/app.router.js": "it('should route', function (done) {\n  done()\n})\n",
        "lib/express.js": "module.exports = createApplication\n",
    }
    found = tests_probe.search(facts_of(files))
    assert found.evidence == []
    assert found.examples == [
        ("test/acceptance/auth.js", "examples/auth"),
        ("test/acceptance/downloads.js", "examples/downloads"),
    ]
    (negative,) = tests_probe.run(facts_of(files))
    assert negative.outcome is Outcome.NEGATIVE
    assert "set aside: tests of example apps, not the product: test/acceptance/auth.js tests " in (
        negative.message
    )
    # The policy's `include` makes the examples part of the product: their tests count.
    policy = dataclasses.replace(default_policy(), include=("examples/*",))
    evidence, _read, _total = tests_probe.find_evidence(facts_of(files, policy))
    assert [e.path for e in evidence] == ["test/acceptance/auth.js", "test/acceptance/downloads.js"]


def test_tests_inside_examples_are_not_read() -> None:
    files: dict[str, str | bytes] = {
        "examples/tutorial/tests/test_blog.py": (
            "def test_author_required(client):\n"
            "    assert client.post('/1/update').status_code == 403\n"
        ),
        "src/app.py": "app = 1\n",
    }
    assert tests_probe.test_files(facts_of(files)) == []


def test_only_infrastructure_and_its_tests_leave_nothing_to_test() -> None:
    """A Terraform module whose only other code is its terratest: the infrastructure part decides
    (modernisation-platform-terraform-s3-bucket's module_test.go)."""
    files: dict[str, str | bytes] = {
        "main.tf": 'resource "aws_s3_bucket" "b" {}\n',
        "test/module_test.go": "package test\n\nfunc TestModule(t *testing.T) {}\n",
    }
    (found,) = tests_probe.run(facts_of(files))
    assert found.outcome is Outcome.NOT_APPLICABLE
    assert found.message == (
        "no application code: only infrastructure code and tests of it (go), whose security the "
        "infrastructure checks test"
    )


def test_infrastructure_statuses(make_repo: MakeRepo) -> None:
    # Policy tests (conftest/OPA) count.
    got = result(scan(make_repo("terraform-ecr-policy")), "security-tests")
    assert outcomes(got, "infrastructure-security-tested") == [Outcome.POSITIVE]
    # A scanner in pre-commit only is partial.
    got = result(scan(make_repo("sa-polyglot-partial")), "security-tests")
    assert outcomes(got, "infrastructure-security-tested") == [Outcome.PARTIAL]
    # checkov in CI covers Terraform and Kubernetes.
    ci = workflow("- uses: bridgecrewio/checkov-action@v12\n  with:\n    directory: .")
    files = {".github/workflows/iac.yml": ci, "k8s/deployment.yaml": "kind: Deployment\n"}
    got = result(scan(make_repo("sa-polyglot-partial", files)), "security-tests")
    infra_findings = [f for f in got.findings if f.probe == "infrastructure-security-tested"]
    assert [(f.values["language"], f.outcome) for f in infra_findings] == [
        ("terraform", Outcome.POSITIVE),
        ("kubernetes", Outcome.POSITIVE),
    ]
    assert infra_findings[0].location.path == ".github/workflows/iac.yml"  # type: ignore[union-attr]
    # Nothing: negative, naming the code.
    csrf_test = "def test_post_without_csrf_token_is_rejected(client):\n    assert r == 403\n"
    got = result(
        scan(make_repo(None, {"main.tf": 'resource "aws_s3_bucket" "b" {}\n', "app.py": "x = 1\n",
                              "tests/test_x.py": csrf_test})),
        "security-tests",
    )  # fmt: skip
    assert got.status is Status.PARTIAL
    assert "terraform code (e.g. main.tf) is not security-tested" in got.summary


def test_tflint_counts_only_with_a_ruleset_plugin() -> None:
    ci = workflow("- run: tflint --recursive")
    plugin = 'plugin "aws" {\n  enabled = true\n  version = "0.34.0"\n  source  = "github.com/terraform-linters/tflint-ruleset-aws"\n}\n'
    with_rules = facts_of({"main.tf": "", ".github/workflows/ci.yml": ci, ".tflint.hcl": plugin})
    assert [f.outcome for f in infra.run(with_rules)] == [Outcome.POSITIVE]
    without = facts_of(
        {
            "main.tf": "",
            ".github/workflows/ci.yml": ci,
            ".tflint.hcl": 'plugin "terraform" {\n  enabled = true\n}\n',
        }
    )
    assert [f.outcome for f in infra.run(without)] == [Outcome.NEGATIVE]


# --- the catalogue's patterns ---------------------------------------------------------------------


def test_catalogue_patterns_are_lower_case_and_compile() -> None:
    """The text is lower-cased once and matched without case: a capital in a pattern would never
    match (an escape such as `\\w` is lower case already)."""
    import re

    for name, spec in tests_probe._config()["categories"].items():
        for key, pattern in spec.items():
            assert re.sub(r"\\.", "", pattern) == re.sub(r"\\.", "", pattern).lower(), (name, key)
            re.compile(pattern)


# --- hostile input and the property that matters ---------------------------------------------------

SUFFIXES = [".py", ".js", ".ts", ".kt", ".java", ".rb", ".go", ".rs", ".scala", ".php", ".feature"]


@PROPERTY
@given(st.sampled_from(SUFFIXES), st.text(max_size=2000))
def test_scan_never_raises(suffix: str, text: str) -> None:
    found = tests_probe.scan_text(f"tests/test_x{suffix}", text)
    if found is not None:
        assert 1 <= found.line <= text.count("\n") + 1


_WORDS = [
    "403", "401", "Forbidden", "unauthorized", "Unauthorised", "csrf", "CSRF_TOKEN_INVALID",
    "content-security-policy", "Strict-Transport-Security", "&lt;script&gt;", "\\u003cscript",
    "httponly", "samesite", "secure cookie", "path traversal", "invalid signature", "hmac mismatch",
    "sql injection rejected", "access denied", "permission_denied", "isForbidden", "StatusForbidden",
    "expect(res.status).toBe(403)", "assert r.status_code == 401", ".expect(401)", "x",
]  # fmt: skip
_WORD = st.sampled_from(_WORDS)
_NAME = st.sampled_from(["forbidden", "csrf", "auth", "security", "x", "403", "headers"])
_PATH = st.builds(
    lambda up, a, b: "../" * up + f"{a}/{b}", st.integers(1, 3), _NAME, _NAME
)  # a relative path
_TEXT = st.lists(_WORD, min_size=1, max_size=6).map(" ".join)

# Lines that are only an import, a comment or a relative path, per language family, with security
# words in them; `{t}` comment text, `{p}` a relative path, `{n}` a name.
_ONLY_NOISE = {
    ".py": [
        "import {n}", "from {n}.{n} import {n}", "from {n} import (\n    {n},\n    {n},\n)",
        "# {t}", "x = '{p}'", "assert open('{p}')  # {t}", "def test_x():\n    pass  # {t}",
    ],
    ".ts": [
        "import {{ {n} }} from '{p}'", "import '{p}'", "const {n} = require('{p}')", "// {t}",
        "/* {t} */", "/*\n {t}\n*/", "expect(load('{p}')) // {t}", "it('works', () => {{}}) // {t}",
    ],
    ".kt": ["import org.{n}.{n}", "package org.{n}", "// {t}", "/* {t} */", "val p = \"{p}\""],
    ".java": ["import static org.{n}.{n};", "// {t}", "/** {t} */", "String p = \"{p}\";"],
    ".rb": ["require '{n}'", "require_relative '{p}'", "# {t}", "=begin\n{t}\n=end", "p = '{p}'"],
    ".go": ["import (\n\t\"{p}\"\n\t\"net/{n}\"\n)", "import \"{p}\"", "// {t}", "/* {t} */"],
    ".rs": ["use crate::{n}::{n};", "// {t}", "/* {t} */", "let p = \"{p}\";"],
}  # fmt: skip


@st.composite
def _noise(draw: st.DrawFn) -> tuple[str, str]:
    suffix = draw(st.sampled_from(sorted(_ONLY_NOISE)))
    templates = st.sampled_from(_ONLY_NOISE[suffix])
    lines = [
        draw(templates).format(t=draw(_TEXT), p=draw(_PATH), n=draw(_NAME))
        for _ in range(draw(st.integers(1, 12)))
    ]
    return f"tests/test_noise{suffix}", "\n".join(lines) + "\n"


@PROPERTY
@given(_noise())
def test_imports_comments_and_relative_paths_alone_never_count(
    path_and_text: tuple[str, str],
) -> None:
    path, text = path_and_text
    assert tests_probe.scan_text(path, text) is None, text


def test_scan_is_fast_on_hostile_text() -> None:
    hostile = [
        ("status " + "a" * 5000 + " ") * 50 + "x" * 100_000,
        "expect(" * 20_000 + "403",
        "/*" + "x" * 200_000,  # an unterminated comment
        '"' + "x\\" * 100_000,  # an unterminated string
        '"""' + "403\n" * 50_000,
        "it('" + "a" * 300 + "')\n" * 5_000,
        "csrf" * 50_000,
        ("4" * 1000 + "\n") * 100,
        "\n".join(["assert x == 403"] * 20_000),
    ]
    for text in hostile:
        start = time.perf_counter()
        tests_probe.scan_text("tests/test_x.py", text)
        tests_probe.scan_text("test/x.test.js", text)
        assert time.perf_counter() - start < 2, text[:40]


def test_lexing_keeps_lines_in_place() -> None:
    text = "import x\n# 403\ns = '''a\nb'''\n/* c */\nassert r == 403\n"
    source = lexing.read("tests/test_x.py", text)
    assert source.code.count("\n") == text.count("\n") == source.bare.count("\n")
    assert source.bare.split("\n")[5] == "assert r == 403"
    assert "403" not in source.bare.split("\n")[1]


def test_weaker_evidence_stops_the_reading_a_bounded_number_of_files_later() -> None:
    files: dict[str, str | bytes] = {
        "tests/test_a.py": "def test_unauthenticated_user_is_redirected():\n    pass\n"
    }
    files.update({f"tests/test_m{i:03}.py": "def test_x():\n    assert 1\n" for i in range(300)})
    evidence, read, total = tests_probe.find_evidence(facts_of(files))
    upgrade = int(tests_probe._config()["upgrade_reads"])
    assert (len(evidence), read, total) == (1, 1 + upgrade, 301)
