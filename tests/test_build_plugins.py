"""Analysers a JVM build applies (issue 11 §2): a Gradle plugin, a Maven plugin execution or an
sbt plugin runs when CI runs the build's lifecycle, not because it is declared."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from test_ci_facts import PROPERTY, facts_of, workflow
from test_recognised_tools import covered, matrix

from secposture.facts import build_plugins, tools
from secposture.probes.static_analysis_coverage import impl as static_probe

# Modelled on the HMPPS Kotlin template: the convention plugin applies ktlint to `check`.
HMPPS_KOTLIN: dict[str, str | bytes] = {
    "build.gradle.kts": (
        "plugins {\n"
        '  id("uk.gov.justice.hmpps.gradle-spring-boot") version "10.5.4"\n'
        '  kotlin("plugin.spring") version "2.4.0"\n'
        "}\n\n"
        "dependencies {\n"
        '  implementation("org.springframework.boot:spring-boot-starter-webflux")\n'
        "}\n"
    ),
    "settings.gradle.kts": 'rootProject.name = "hmpps-template-kotlin"\n',
    "src/main/kotlin/uk/gov/justice/digital/hmpps/App.kt": "fun main() {}\n",
}

# Modelled on spring-petclinic: checkstyle bound to `validate` by an execution with goal check.
PETCLINIC_POM = """\
<project>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-checkstyle-plugin</artifactId>
        <version>${maven-checkstyle.version}</version>
        <dependencies>
          <dependency>
            <groupId>com.puppycrawl.tools</groupId>
            <artifactId>checkstyle</artifactId>
          </dependency>
        </dependencies>
        <executions>
          <execution>
            <id>nohttp-checkstyle-validation</id>
            <goals>
              <goal>check</goal>
            </goals>
            <phase>validate</phase>
          </execution>
        </executions>
      </plugin>
    </plugins>
  </build>
</project>
"""
JAVA = {"src/main/java/org/example/App.java": "class App {}\n"}


def ci(*lines: str) -> dict[str, str | bytes]:
    return {".github/workflows/build.yml": workflow(*(f"- run: {line}" for line in lines))}


def test_gradle_check_runs_the_plugins_the_build_applies() -> None:
    facts = facts_of({**HMPPS_KOTLIN, **ci("./gradlew assemble check")})
    uses = facts.get(tools.ci_uses)
    assert covered(uses, "ktlint") == {"kotlin"}
    ktlint = next(u for u in uses if u.tool.id == "ktlint")
    assert ktlint.location.path == ".github/workflows/build.yml"
    assert "applied by `uk.gov.justice.hmpps.gradle-spring-boot` at build.gradle.kts:2" in (
        ktlint.evidence
    )
    assert matrix(static_probe.run(facts))[("kotlin", "ci")] == "ktlint"
    # assemble and test do not run `check`.
    for line in ("./gradlew assemble", "./gradlew test --info", "gradle bootJar"):
        facts = facts_of({**HMPPS_KOTLIN, **ci(line)})
        assert "ktlint" not in {u.tool.id for u in facts.get(tools.ci_uses)}, line


def test_gradle_core_plugins_in_both_dsls_and_comments() -> None:
    groovy = "plugins {\n  id 'java'\n  id 'checkstyle'\n  id 'io.spring.javaformat' version '0.0.47'\n}\n"
    kotlin_dsl = "plugins {\n    java\n    pmd\n}\n"
    commented = "plugins {\n  id 'java'\n  // id 'checkstyle'\n  /* id 'pmd' */\n}\n"
    for build, expected in (
        ({"build.gradle": groovy}, {"checkstyle"}),
        ({"build.gradle.kts": kotlin_dsl}, {"pmd"}),
        ({"build.gradle": commented}, set()),
        ({"lib/build.gradle": "apply plugin: 'com.github.spotbugs'\n"}, {"spotbugs"}),
    ):
        facts = facts_of({**JAVA, **build, **ci("./gradlew build")})
        got = {u.tool.id for u in facts.get(tools.ci_uses)}
        assert got == expected, build


def test_maven_lifecycle_reaches_the_bound_phase() -> None:
    facts = facts_of({**JAVA, "pom.xml": PETCLINIC_POM, **ci("./mvnw -B verify")})
    uses = facts.get(tools.ci_uses)
    assert covered(uses, "checkstyle") == {"java"}
    assert "applied by `maven-checkstyle-plugin` at pom.xml:4" in next(
        u.evidence for u in uses if u.tool.id == "checkstyle"
    )
    # Bound to validate: `mvn compile` runs it too; a default (verify) binding needs verify.
    facts = facts_of({**JAVA, "pom.xml": PETCLINIC_POM, **ci("mvn -q compile")})
    assert covered(facts.get(tools.ci_uses), "checkstyle") == {"java"}
    unbound = PETCLINIC_POM.replace("<phase>validate</phase>", "")
    facts = facts_of({**JAVA, "pom.xml": unbound, **ci("mvn -q package")})
    assert "checkstyle" not in {u.tool.id for u in facts.get(tools.ci_uses)}
    facts = facts_of({**JAVA, "pom.xml": unbound, **ci("mvn -B install -DskipTests")})
    assert covered(facts.get(tools.ci_uses), "checkstyle") == {"java"}


def test_maven_plugins_that_run_nothing() -> None:
    no_execution = PETCLINIC_POM.replace("<goal>check</goal>", "<goal>help</goal>")
    managed = PETCLINIC_POM.replace("<plugins>", "<pluginManagement><plugins>").replace(
        "</plugins>", "</plugins></pluginManagement>"
    )
    commented = PETCLINIC_POM.replace("<plugin>", "<!-- <plugin>").replace(
        "</plugin>", "</plugin> -->"
    )
    reporting = PETCLINIC_POM.replace("<build>", "<reporting>").replace("</build>", "</reporting>")
    for pom in (no_execution, managed, commented, reporting):
        facts = facts_of({**JAVA, "pom.xml": pom, **ci("./mvnw verify")})
        assert "checkstyle" not in {u.tool.id for u in facts.get(tools.ci_uses)}


def test_sbt_wartremover_runs_when_compiling_with_warts_named() -> None:
    plugins = 'addSbtPlugin("org.wartremover" % "sbt-wartremover" % "3.2.5")\n'
    build = 'scalaVersion := "2.13.16"\nCompile / compile / wartremoverErrors ++= Warts.unsafe\n'
    files: dict[str, str | bytes] = {
        "project/plugins.sbt": plugins,
        "build.sbt": build,
        "src/main/scala/App.scala": "object App\n",
    }
    facts = facts_of({**files, **ci("sbt clean coverage test")})
    assert covered(facts.get(tools.ci_uses), "wartremover") == {"scala"}
    facts = facts_of({**files, **ci("sbt scalafmtCheckAll")})
    assert "wartremover" not in {u.tool.id for u in facts.get(tools.ci_uses)}
    files["build.sbt"] = 'scalaVersion := "2.13.16"\n'  # the plugin with no warts checks nothing
    facts = facts_of({**files, **ci("sbt test")})
    assert "wartremover" not in {u.tool.id for u in facts.get(tools.ci_uses)}


def test_no_build_command_reads_no_build_file() -> None:
    facts = facts_of({**JAVA, "pom.xml": PETCLINIC_POM, **ci("make docs")})
    facts.get(tools.ci_uses)
    assert "pom.xml" not in facts.files_read()


@PROPERTY
@given(st.text(max_size=300))
def test_build_commands_never_raise(text: str) -> None:
    facts = facts_of({**JAVA, "pom.xml": PETCLINIC_POM, "build.gradle": "id 'pmd'\n"})
    for plugin in build_plugins.runs(facts, text):
        assert plugin.tool in {"checkstyle", "pmd"}


@PROPERTY
@given(st.text(max_size=400) | st.binary(max_size=80))
def test_build_files_never_raise(content: str | bytes) -> None:
    facts = facts_of(
        {
            **JAVA,
            "pom.xml": content,
            "build.gradle.kts": content,
            "build.sbt": content,
            "project/plugins.sbt": content,
            **ci("./gradlew check", "mvn verify", "sbt test"),
        }
    )
    for use in facts.get(tools.ci_uses):
        assert use.languages
