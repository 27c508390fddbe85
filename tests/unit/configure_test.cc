// SPDX-License-Identifier: Apache-2.0
//
// configure --remove planning (pure); the file round trips for every engine
// are in tests/deploy/configure_roundtrip.sh.

#include <optional>
#include <string>

#include "catch2/catch.hpp"
#include "cli/cmd_configure.h"
#include "nlohmann/json.hpp"
#include "testing/status_matchers.h"

namespace kmemguard {
namespace {

using cli::ConfigureOptions;
using cli::ConfigureRecord;
using cli::FileChange;
using cli::PlanConfigureRemove;

ConfigureOptions Docker(bool set_as_default) {
  ConfigureOptions o;
  o.engine = "docker";
  o.set_as_default = set_as_default;
  return o;
}

TEST_CASE("configure --remove restores the original when nothing changed",
          "[unit]") {
  ConfigureRecord r;
  r.existed = true;
  r.original = "{\"a\":1}";  // not configure's formatting: bytes come back
  auto written = cli::RenderEngineConfig(Docker(true), r.original);
  REQUIRE_OK(written);
  r.written = *written;
  auto c = PlanConfigureRemove(Docker(true), *written, r);
  REQUIRE_OK(c);
  CHECK(c->action == FileChange::Action::kWrite);
  CHECK(c->content == "{\"a\":1}");
  CHECK(c->restores_original);  // with the recorded mode and owner

  r.existed = false;
  r.original.clear();
  c = PlanConfigureRemove(Docker(true), *written, r);
  REQUIRE_OK(c);
  CHECK(c->action == FileChange::Action::kRemove);
}

TEST_CASE("configure --remove takes out only configure's keys from an edited "
          "daemon.json",
          "[unit]") {
  ConfigureRecord r;
  r.existed = true;
  r.original = R"({"default-runtime": "nvidia", "runtimes": {"nvidia": {"path": "/n"}}})";
  r.written = "(something else)";
  const std::string edited =
      R"({"default-runtime": "kmemguard", "debug": true, "runtimes": {)"
      R"("nvidia": {"path": "/n"}, "kmemguard": {"path": "/k"}}})";
  auto c = PlanConfigureRemove(Docker(true), edited, r);
  REQUIRE_OK(c);
  REQUIRE(c->action == FileChange::Action::kWrite);
  auto j = nlohmann::json::parse(c->content);
  CHECK(j == nlohmann::json::parse(
                 R"({"default-runtime": "nvidia", "debug": true,)"
                 R"( "runtimes": {"nvidia": {"path": "/n"}}})"));
  // Somebody else's edit stays, so the file keeps its current mode and
  // owner, not the ones recorded before configure.
  CHECK_FALSE(c->restores_original);

  // No record and nothing of ours: nothing to do.
  c = PlanConfigureRemove(Docker(false), R"({"debug": true})", std::nullopt);
  REQUIRE_OK(c);
  CHECK(c->action == FileChange::Action::kKeep);
  // No record: "runtimes" emptied by us goes too.
  c = PlanConfigureRemove(
      Docker(false), R"({"runtimes": {"kmemguard": {"path": "/k"}}, "x": 1})",
      std::nullopt);
  REQUIRE_OK(c);
  CHECK(nlohmann::json::parse(c->content) == nlohmann::json::parse(R"({"x": 1})"));
  CHECK_FALSE(PlanConfigureRemove(Docker(false), "{oops", std::nullopt).ok());
}

TEST_CASE("configure --remove leaves drop-ins it did not write alone",
          "[unit]") {
  ConfigureOptions o;
  o.engine = "crio";
  auto c = PlanConfigureRemove(o, std::string("[crio.runtime]\n"), std::nullopt);
  REQUIRE_OK(c);
  CHECK(c->action == FileChange::Action::kKeep);
  CHECK_FALSE(c->note.empty());
  auto ours = cli::RenderEngineConfig(o, "");
  REQUIRE_OK(ours);
  c = PlanConfigureRemove(o, *ours + "# edited\n", std::nullopt);
  REQUIRE_OK(c);
  CHECK(c->action == FileChange::Action::kRemove);
}

TEST_CASE("configure records keep any bytes", "[unit]") {
  ConfigureRecord r;
  r.target = "/etc/x";
  r.existed = true;
  r.original = std::string("\xff\x00\xfe no UTF-8", 12);
  r.mode = 0640;
  r.written = "new\n";
  auto back = cli::ConfigureRecordFromJson(cli::ConfigureRecordToJson(r), "rec");
  REQUIRE_OK(back);
  CHECK(back->original == r.original);
  CHECK(back->written == r.written);
  CHECK(back->mode == 0640u);
  CHECK(back->existed);
  CHECK(back->uid == -1);  // not recorded: the owner is left alone
  r.uid = 0;
  r.gid = 112;
  back = cli::ConfigureRecordFromJson(cli::ConfigureRecordToJson(r), "rec");
  REQUIRE_OK(back);
  CHECK(back->uid == 0);
  CHECK(back->gid == 112);
  // A record written before the owner was kept.
  back = cli::ConfigureRecordFromJson(
      R"({"target": "/etc/x", "existed": true, "original_base64": "",)"
      R"( "mode": 416, "written_base64": ""})",
      "old.json");
  REQUIRE_OK(back);
  CHECK(back->mode == 0640u);
  CHECK(back->gid == -1);
  auto bad = cli::ConfigureRecordFromJson("{\"target\": 1}", "rec.json");
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().message().find("rec.json") != std::string::npos);
}

}  // namespace
}  // namespace kmemguard
