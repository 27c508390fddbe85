// SPDX-License-Identifier: Apache-2.0
//
// The wrapper's and the hook's pure parts: the runtime argv parser, the
// config file, engine registration, hook stages, state records.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "catch2/catch.hpp"
#include "cli/cmd_configure.h"
#include "common/inherited_kmem.h"
#include "common/process.h"
#include "common/shim_config.h"
#include "common/toml_parser.h"
#include "hook/hook.h"
#include "kmemguard/core/memory.h"
#include "nlohmann/json.hpp"
#include "runtime/gc.h"
#include "runtime/runtime_args.h"
#include "runtime/verbs.h"
#include "runtime/wrapper.h"
#include "testing/fixture_tree.h"
#include "testing/status_matchers.h"

namespace kmemguard::shim {
namespace {

using Args = std::vector<std::string>;

RuntimeArgs Parse(const Args& a) {
  auto r = ParseRuntimeArgs(a);
  REQUIRE_OK(r);
  return *r;
}

TEST_CASE("The argv parser finds command, bundle and id in containerd's form",
          "[unit]") {
  Args a = {"--root", "/run/containerd/runc/k8s.io", "--log",
            "/b/log.json", "--log-format", "json", "--systemd-cgroup",
            "create", "--bundle", "/b", "--pid-file", "/b/init.pid",
            "--console-socket", "/s.sock", "--no-pivot", "ctr1"};
  RuntimeArgs r = Parse(a);
  CHECK(r.root == "/run/containerd/runc/k8s.io");
  CHECK(r.log == "/b/log.json");
  CHECK(r.log_format == "json");
  CHECK(r.systemd_cgroup);
  CHECK(r.command == "create");
  CHECK(r.bundle == "/b");
  CHECK(r.container_id == "ctr1");
  CHECK(r.passthrough == a);
}

TEST_CASE("The argv parser takes every flag form: -x, --x, --x=v, -x=v",
          "[unit]") {
  RuntimeArgs r = Parse({"-root=/r", "-log", "/l", "--debug", "run", "-b=/bb",
                         "-d", "id9"});
  CHECK(r.root == "/r");
  CHECK(r.log == "/l");
  CHECK(r.debug);
  CHECK(r.command == "run");
  CHECK(r.bundle == "/bb");
  CHECK(r.container_id == "id9");
  RuntimeArgs s = Parse({"--root=/x", "create", "--bundle=/y", "c"});
  CHECK(s.bundle == "/y");
  CHECK(s.container_id == "c");
}

TEST_CASE("A flag value equal to a subcommand name is a value", "[unit]") {
  RuntimeArgs r = Parse({"--root", "create", "--log", "run", "create",
                         "--bundle", "delete", "create"});
  CHECK(r.root == "create");
  CHECK(r.log == "run");
  CHECK(r.command == "create");
  CHECK(r.bundle == "delete");
  CHECK(r.container_id == "create");
}

TEST_CASE("A double dash ends the options: a dash-named id is the id",
          "[unit]") {
  RuntimeArgs r = Parse({"create", "--bundle", "/b", "--", "-weird-id"});
  CHECK(r.container_id == "-weird-id");
  CHECK(r.passthrough.back() == "-weird-id");
  RuntimeArgs g = Parse({"--", "state", "x"});
  CHECK(g.command == "state");
}

TEST_CASE("Unknown flags are passed through, never rejected", "[unit]") {
  Args a = {"--some-new-flag", "--other=1", "create", "--future-bool",
            "--bundle", "/b", "c1"};
  RuntimeArgs r = Parse(a);
  CHECK(r.command == "create");
  CHECK(r.container_id == "c1");
  CHECK(r.passthrough == a);
}

TEST_CASE("Our own flags are stripped before passing argv on", "[unit]") {
  RuntimeArgs r = Parse({"--kmemguard-config", "/etc/k.toml",
                         "--kmemguard-runtime=/usr/bin/crun", "--root", "/r",
                         "state", "c"});
  CHECK(r.kmemguard_config == "/etc/k.toml");
  CHECK(r.kmemguard_runtime == "/usr/bin/crun");
  CHECK(r.passthrough == Args{"--root", "/r", "state", "c"});
  CHECK_FALSE(ParseRuntimeArgs({"--kmemguard-config"}).ok());
}

TEST_CASE("crun's --cgroup-manager systemd means the systemd driver",
          "[unit]") {
  CHECK(Parse({"--cgroup-manager", "systemd", "create", "c"}).systemd_cgroup);
  CHECK_FALSE(
      Parse({"--cgroup-manager=cgroupfs", "create", "c"}).systemd_cgroup);
  CHECK(Parse({"--log-level", "debug", "create", "c"}).container_id == "c");
}

// Defect 8: "--x v create" made "v" the command and skipped the guard.
TEST_CASE("An unknown global flag with a value does not hide the command",
          "[unit]") {
  RuntimeArgs r = Parse({"--new-flag", "v", "create", "--bundle", "/b", "c1"});
  CHECK(r.command == "create");
  CHECK(r.container_id == "c1");
  CHECK(r.bundle == "/b");
  CHECK(r.passthrough ==
        Args{"--new-flag", "v", "create", "--bundle", "/b", "c1"});
  // An unknown boolean flag right before the command stays boolean.
  r = Parse({"--new-bool", "run", "c2"});
  CHECK(r.command == "run");
  CHECK(r.container_id == "c2");
  r = Parse({"--debug", "delete", "c3"});
  CHECK(r.command == "delete");
  CHECK(r.container_id == "c3");
}

TEST_CASE("crun's --cgroup-manager disabled is seen", "[unit]") {
  RuntimeArgs r = Parse({"--cgroup-manager", "disabled", "create", "c1"});
  CHECK(r.cgroup_manager_disabled);
  CHECK_FALSE(r.systemd_cgroup);
  CHECK_FALSE(Parse({"--cgroup-manager=cgroupfs", "create", "c1"})
                  .cgroup_manager_disabled);
}

TEST_CASE("No subcommand (runc --version) parses with an empty command",
          "[unit]") {
  RuntimeArgs r = Parse({"--version"});
  CHECK(r.command.empty());
  CHECK(r.passthrough == Args{"--version"});
  CHECK(Parse({}).command.empty());
}

TEST_CASE("Only create, run and restore create cgroups", "[unit]") {
  for (const char* c : {"create", "run", "restore"}) CHECK(CreatesCgroups(c));
  for (const char* c : {"start", "delete", "exec", "update", "features", ""}) {
    CHECK_FALSE(CreatesCgroups(c));
  }
  RuntimeArgs r = Parse({"restore", "--image-path", "/img", "--bundle", "/b",
                         "--tcp-established", "c7"});
  CHECK(r.bundle == "/b");
  CHECK(r.container_id == "c7");
}

TEST_CASE("Runtime verbs dispatch from one table", "[unit]") {
  auto handler = [](absl::string_view verb) {
    return std::string(VerbRowFor(verb).handler);
  };
  CHECK(handler("") == "no-verb");
  CHECK(handler("delete") == "delete");
  for (const char* v : {"create", "run", "restore"}) {
    CHECK(handler(v) == "create-like");
  }
  for (const char* v : {"start", "state", "kill", "update", "exec", "pause",
                        "events", "features", "checkpoint", "frobnicate",
                        "CREATE"}) {
    CHECK(handler(v) == "pass-through");
  }
  // The parser reads a bundle and an id for exactly the verbs whose handler
  // needs them.
  for (const VerbRow& row : VerbTable()) {
    INFO(row.verb);
    CHECK(CreatesCgroups(row.verb) == (std::string(row.handler) == "create-like"));
    CHECK(VerbRowFor(row.verb).run == row.run);
  }
}

TEST_CASE("The config file parses every key and rejects unknown ones",
          "[unit]") {
  auto c = ParseShimConfig(R"(
runtime = "/usr/sbin/runc"
kmem-policy = "legacy"
failure-policy = "fail-closed"
state-dir = "/run/k"
debug-log = "/var/log/k.log"
disabled = true
[hook]
cleanup = false
fail-on-kmem = true
warn-ratio = 0.8
)",
                           "t.toml");
  REQUIRE_OK(c);
  CHECK(c->runtime == "/usr/sbin/runc");
  CHECK(c->kmem_policy == KmemPolicy::kLegacy);
  CHECK(c->failure_policy == FailurePolicy::kFailClosed);
  CHECK(c->state_dir == "/run/k");
  CHECK(c->debug_log == "/var/log/k.log");
  CHECK(c->disabled);
  CHECK_FALSE(c->hook_cleanup);
  CHECK(c->hook_fail_on_kmem);
  CHECK(c->hook_warn_ratio == Approx(0.8));

  auto defaults = ParseShimConfig("", "empty");
  REQUIRE_OK(defaults);
  CHECK(defaults->runtime == "runc");
  CHECK(defaults->kmem_policy == KmemPolicy::kGuarded);
  CHECK(defaults->failure_policy == FailurePolicy::kFailOpen);

  for (const char* bad :
       {"runtim = \"x\"", "kmem-policy = \"sometimes\"",
        "failure-policy = \"maybe\"", "state-dir = \"relative\"",
        "disabled = \"yes\"", "[hook]\nwarn-ratio = 2.0", "[hook]\nnope = 1",
        "runtime = "}) {
    auto s = ParseShimConfig(bad, "bad.toml");
    INFO(bad);
    CHECK(absl::IsInvalidArgument(s.status()));
    CHECK(absl::StrContains(s.status().message(), "bad.toml"));
  }
}

// The lean path's config reader takes only what toml++ reads the same way.
TEST_CASE("The lean config reader agrees with the full parser or declines",
          "[unit]") {
  const char* kTaken[] = {
      "runtime = \"/usr/sbin/runc\"\n",
      "# kmemguard\n\n  runtime=\"/usr/bin/runc\"   # the real one\n"
      "state-dir = \"/run/kmemguard\"\nkmem-policy = \"guarded\"\n"
      "failure-policy = \"fail-closed\"\ndebug-log = \"\"\n"
      "disabled = false\n",
      "disabled=true#off\nruntime\t=\t\"/opt/runc bin/runc\"",
      "runtime = \"/x#not-a-comment\"\nkmem-policy = \"\"\n",
      "",                                   // the defaults: runc on PATH
      "state-dir = \"/run/k\"\n",
      "runtime = \"crun\"\n",
      "runtime = \"bin/runc\"\n",  // read alike; FindRealRuntime refuses it
  };
  for (const char* text : kTaken) {
    INFO(text);
    std::optional<absl::string_view> lean = LeanConfigRuntime(text);
    REQUIRE(lean.has_value());
    absl::StatusOr<ShimConfig> full = ParseShimConfig(text, "t.toml");
    REQUIRE_OK(full);
    CHECK(*lean == full->runtime);
  }
  CHECK(*LeanConfigRuntime(kTaken[2]) == "/opt/runc bin/runc");
  CHECK(*LeanConfigRuntime("") == kDefaultRuntime);
  // The file the packages install takes the lean path, commented out or
  // with its runtime line set.
  absl::StatusOr<std::string> packaged =
      ReadHostFile(KMEMGUARD_TESTS_DIR "/../packaging/config.toml");
  REQUIRE_OK(packaged);
  CHECK(LeanConfigRuntime(*packaged) == kDefaultRuntime);
  std::string set = absl::StrReplaceAll(
      *packaged, {{"#runtime = \"runc\"", "runtime = \"/usr/bin/runc\""}});
  REQUIRE(set != *packaged);
  CHECK(LeanConfigRuntime(set) == "/usr/bin/runc");
  CHECK(ParseShimConfig(set, "packaged")->runtime == "/usr/bin/runc");
  const char* kDeclined[] = {
      "runtime = \"\"\n",                             // empty
      "runtime = \"/a\"\nruntime = \"/b\"\n",          // repeated key
      "runtime = \"/a\"\n[hook]\ncleanup = true\n",     // a table
      "runtime = \"/a\\u0062\"\n",                     // an escape
      "runtime = '/a'\n",                            // a literal string
      "runtime = \"\"\"/a\"\"\"\n",                       // multi-line
      "runtime = \"/a\tb\"\n",                        // a tab inside
      "runtime = \"/a\"\r\n",                          // CRLF
      "runtime = \"/a\" x\n",                          // trailing text
      "\"runtime\" = \"/a\"\n",                        // a quoted key
      "runtime = \"/a\"\nruntim = \"/b\"\n",           // unknown key
      "runtime = \"/a\"\nkmem-policy = \"sometimes\"\n",
      "runtime = \"/a\"\nfailure-policy = \"maybe\"\n",
      "runtime = \"/a\"\nstate-dir = \"relative\"\n",
      "runtime = \"/a\"\ndisabled = \"yes\"\n",
      "runtime = \"/a\"\ndisabled = truest\n",
      "runtime = \"/a\"\ndisabled =\n",
      "runtime = \"/\xc3\xa9\"\n",                     // not ASCII
  };
  for (const char* text : kDeclined) {
    INFO(text);
    CHECK_FALSE(LeanConfigRuntime(text).has_value());
  }
}

// The lean path's command finder reads argv as ParseRuntimeArgs does.
TEST_CASE("The lean command finder agrees with the argv parser or declines",
          "[unit]") {
  auto lean = [](const Args& a) {
    std::vector<const char*> v;
    for (const std::string& s : a) v.push_back(s.c_str());
    return UnchangedCommand(v);
  };
  const Args kTaken[] = {
      {"state", "c1"},
      {"--root", "/run/runc", "start", "c1"},
      {"--root=/run/runc", "--log", "/l", "--log-format", "json", "kill",
       "c1", "9"},
      {"--debug", "--systemd-cgroup", "exec", "--pid-file", "p", "c1", "sh"},
      {"--root", "create", "state", "c1"},   // a value named like a command
      {"--x", "v", "update", "c1"},          // an unknown flag's value
      {"--x", "pause", "c1"},                // ... or not, before a command
      {"state", "--kmemguard-config", "f"},  // after the command: the runtime's
      {"--root", "/r", "create", "--bundle", "b", "c1"},
      {"delete", "--force", "c1"},
  };
  for (const Args& a : kTaken) {
    INFO(absl::StrJoin(a, " "));
    std::optional<absl::string_view> command = lean(a);
    REQUIRE(command.has_value());
    RuntimeArgs full = Parse(a);
    CHECK(*command == full.command);
    CHECK(full.passthrough == a);
  }
  const Args kDeclined[] = {
      {},
      {"--version"},
      {"--root", "/r"},
      {"--kmemguard-config", "/f", "state", "c1"},
      {"--kmemguard-runtime=/r", "state", "c1"},
      {"--", "state", "c1"},
  };
  for (const Args& a : kDeclined) {
    INFO(absl::StrJoin(a, " "));
    CHECK_FALSE(lean(a).has_value());
  }
  // Of those, the lean path takes only the verbs without a row of their own.
  for (const char* verb : {"state", "start", "kill", "exec", "update", "ps"}) {
    CHECK(PassesThrough(verb));
  }
  for (const char* verb : {"", "create", "run", "restore", "delete"}) {
    CHECK_FALSE(PassesThrough(verb));
  }
}

TEST_CASE("configure merges Docker's daemon.json without clobbering",
          "[unit]") {
  cli::ConfigureOptions o;
  o.engine = "docker";
  o.set_as_default = true;
  auto out = cli::RenderEngineConfig(
      o, R"({"log-driver": "json-file", "runtimes": {"nvidia": {"path": "/n"}}})");
  REQUIRE_OK(out);
  auto j = nlohmann::json::parse(*out);
  CHECK(j["log-driver"] == "json-file");
  CHECK(j["runtimes"]["nvidia"]["path"] == "/n");
  CHECK(j["runtimes"]["kmemguard"]["path"] == "/usr/local/bin/kmemguard-runtime");
  CHECK(j["default-runtime"] == "kmemguard");
  // Idempotent.
  auto again = cli::RenderEngineConfig(o, *out);
  REQUIRE_OK(again);
  CHECK(*again == *out);
  CHECK_FALSE(cli::RenderEngineConfig(o, "{not json").ok());
  CHECK_FALSE(cli::RenderEngineConfig(o, "[1]").ok());
}

TEST_CASE("configure writes valid TOML drop-ins for containerd, CRI-O and "
          "Podman",
          "[unit]") {
  for (const char* engine : {"containerd", "crio", "podman"}) {
    cli::ConfigureOptions o;
    o.engine = engine;
    o.set_as_default = true;
    auto out = cli::RenderEngineConfig(o, "");
    REQUIRE_OK(out);
    INFO(*out);
    toml::table t = toml::parse(*out);
    if (std::string(engine) == "containerd") {
      CHECK(t["version"].value<int64_t>() == 2);
      auto bin = t["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]
                  ["runtimes"]["kmemguard"]["options"]["BinaryName"]
                      .value<std::string>();
      CHECK(bin == "/usr/local/bin/kmemguard-runtime");
      CHECK(t["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]
             ["default_runtime_name"]
                 .value<std::string>() == "kmemguard");
    } else if (std::string(engine) == "crio") {
      CHECK(t["crio"]["runtime"]["runtimes"]["kmemguard"]["runtime_path"]
                .value<std::string>() == "/usr/local/bin/kmemguard-runtime");
      CHECK(t["crio"]["runtime"]["default_runtime"].value<std::string>() ==
            "kmemguard");
    } else {
      CHECK(t["engine"]["runtimes"]["kmemguard"][0].value<std::string>() ==
            "/usr/local/bin/kmemguard-runtime");
      auto json_list = t["engine"]["runtime_supports_json"].as_array();
      REQUIRE(json_list != nullptr);
      bool listed = false;
      for (auto& e : *json_list) listed |= e.value<std::string>() == "kmemguard";
      CHECK(listed);
    }
  }
  cli::ConfigureOptions o;
  o.engine = "lxc";
  CHECK_FALSE(cli::RenderEngineConfig(o, "").ok());
}

TEST_CASE("The hook stage comes from its argument, else from the state",
          "[unit]") {
  OciState creating;
  creating.status = "creating";
  creating.pid = 42;
  OciState stopped;
  stopped.status = "stopped";
  CHECK(*HookStageFrom({"createRuntime"}, stopped) == HookStage::kCreateRuntime);
  CHECK(*HookStageFrom({"prestart"}, stopped) == HookStage::kCreateRuntime);
  CHECK(*HookStageFrom({"poststop"}, creating) == HookStage::kPoststop);
  CHECK(*HookStageFrom({}, creating) == HookStage::kCreateRuntime);
  CHECK(*HookStageFrom({}, stopped) == HookStage::kPoststop);
  OciState unknown;
  unknown.pid = 7;
  CHECK(*HookStageFrom({}, unknown) == HookStage::kCreateRuntime);
  CHECK(absl::IsInvalidArgument(HookStageFrom({"later"}, creating).status()));
}

TEST_CASE("State records round-trip and are keyed by runtime root and id",
          "[unit]") {
  CreatedRecord r{"c1", "/run/runc", "/sys/fs/cgroup/memory", "k/c1",
                  {{"k", 11}, {"k/c1", 12}}, 4242, 987654, true};
  auto back = RecordFromJson(RecordToJson(r));
  REQUIRE_OK(back);
  CHECK(back->id == "c1");
  REQUIRE(back->created.size() == 2);
  CHECK(back->created[1].path == "k/c1");
  CHECK(back->created[1].inode == 12);
  CHECK(back->owner_pid == 4242);
  CHECK(back->owner_start == 987654);
  CHECK(back->confirmed);
  CHECK(RecordPath("/run/kmemguard", "/a", "c1") !=
        RecordPath("/run/kmemguard", "/b", "c1"));
  CHECK(absl::EndsWith(RecordPath("/run/kmemguard", "/a", "c1"), "/c1.json"));
  CHECK_FALSE(RecordFromJson("{}").ok());
  // A record naming an id or root out of shape is never acted on.
  r.id = "../x";
  CHECK_FALSE(RecordFromJson(RecordToJson(r)).ok());
  r.id = "c1";
  r.runtime_root = "relative";
  CHECK_FALSE(RecordFromJson(RecordToJson(r)).ok());
  CHECK(IsValidContainerId("abc-1.2_x+y"));
  for (const char* bad : {"", ".", "..", "a/b", "a b", "../x"}) {
    CHECK_FALSE(IsValidContainerId(bad));
  }
}

namespace {
uint64_t InodeAt(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}
}  // namespace

// The create path claims its record with O_EXCL and confirms it over the
// same open file: one pwrite instead of a temporary file and a rename.
TEST_CASE("A claimed record is confirmed in place, whole", "[fixture]") {
  testing::FixtureTree tree;
  const std::string path = tree.root() + "/state/0123/c1.json";
  CreatedRecord r{"c1", "/run/runc", "/sys/fs/cgroup/memory", "kubepods/c1",
                  {{"kubepods", 0}, {"kubepods/c1", 0}}, getpid(),
                  ProcessStartTime(getpid()), false};
  absl::StatusOr<ClaimedRecord> claim = ClaimRecord(path, r);
  REQUIRE_OK(claim);
  const uint64_t inode = InodeAt(path);
  REQUIRE(inode != 0);
  CHECK(claim->size == RecordToJson(r).size());
  // Its writer lives: a second claim is refused and the record kept.
  absl::StatusOr<ClaimedRecord> again = ClaimRecord(path, r);
  REQUIRE_FALSE(again.ok());
  CHECK(absl::StrContains(again.status().message(), "already has"));

  // Longer (inodes filled in): in place, the same file.
  r.created = {{"kubepods", 123456789}, {"kubepods/c1", 123456790}};
  r.confirmed = true;
  REQUIRE_OK(ConfirmRecord(*claim, r));
  CHECK(InodeAt(path) == inode);
  absl::StatusOr<std::string> text = ReadHostFile(path);
  REQUIRE_OK(text);
  CHECK(*text == RecordToJson(r));
  // Shorter: padded with whitespace over the old tail, still one record.
  r.cgroup = "k";
  REQUIRE_OK(ConfirmRecord(*claim, r));
  CHECK(InodeAt(path) == inode);
  text = ReadHostFile(path);
  REQUIRE_OK(text);
  CHECK(text->size() == claim->size);
  CHECK(absl::StartsWith(*text, RecordToJson(r)));
  absl::StatusOr<CreatedRecord> back = RecordFromJson(*text);
  REQUIRE_OK(back);
  CHECK(back->cgroup == "k");
  CHECK(back->confirmed);
  // More than one unsplittable write: a new file renamed into place.
  r.cgroup = std::string(kUnsplittableWrite, 'x');
  REQUIRE_OK(ConfirmRecord(*claim, r));
  CHECK(InodeAt(path) != inode);
  back = RecordFromJson(*ReadHostFile(path));
  REQUIRE_OK(back);
  CHECK(back->cgroup.size() == kUnsplittableWrite);
}

// Defect 7: --root /run/runc, /run/runc/ and none gave three record keys.
TEST_CASE("Every spelling of the runtime root gives one record key",
          "[unit]") {
  auto canon = [](const std::string& root, const std::string& runtime) {
    return CanonicalRuntimeRoot(root, runtime, "/home/u", true, "");
  };
  CHECK(canon("/run/runc", "/usr/bin/runc") == "/run/runc");
  CHECK(canon("/run/runc/", "/usr/bin/runc") == "/run/runc");
  CHECK(canon("", "/usr/bin/runc") == "/run/runc");
  CHECK(canon("//run/./x/../runc", "/usr/bin/runc") == "/run/runc");
  CHECK(canon("", "/usr/sbin/docker-runc") == "/run/runc");
  CHECK(canon("", "/usr/bin/crun") == "/run/crun");
  std::string key = RecordPath("/s", canon("", "/usr/bin/runc"), "c");
  CHECK(RecordPath("/s", canon("/run/runc/", "/usr/bin/runc"), "c") == key);
  CHECK(RecordPath("/s", canon("/run/runc", "/usr/bin/runc"), "c") == key);
  // Rootless: runc uses $XDG_RUNTIME_DIR/runc.
  CHECK(CanonicalRuntimeRoot("", "/usr/bin/runc", "/", false,
                             "/run/user/1000") == "/run/user/1000/runc");
  CHECK(CanonicalRuntimeRoot("", "/usr/bin/runc", "/", true,
                             "/run/user/1000") == "/run/runc");
}

// Defect 3: a relative --root was resolved against "/" by the watcher.
TEST_CASE("A relative runtime root is made absolute against the caller's "
          "directory", "[unit]") {
  CHECK(CanonicalRuntimeRoot("state", "/usr/bin/runc", "/home/u", true, "") ==
        "/home/u/state");
  CHECK(CanonicalRuntimeRoot("./a/../state/", "runc", "/w", true, "") ==
        "/w/state");
}

TEST_CASE("The start time comes from field 22 of /proc/<pid>/stat",
          "[unit]") {
  // A command name with spaces and parentheses, as the kernel writes it.
  std::string stat =
      "1234 (a b) c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
      "55667788 1000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1";
  CHECK(StartTimeFromStat(stat) == 55667788);
  CHECK(StartTimeFromStat("garbage") == 0);
  CHECK(StartTimeFromStat("1 (x) S 1 2") == 0);
  CHECK(ProcessStartTime(getpid()) != 0);
  CHECK(ProcessStartTime(0) == 0);
}

TEST_CASE("The process layer reads an fd to its end, a little past a limit",
          "[fixture]") {
  testing::FixtureTree tree;
  tree.Write("small", "hello\n");
  tree.Write("big", std::string(300000, 'x'));
  int fd = open((tree.root() + "/small").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  CHECK(ReadFd(fd, 1000) == "hello\n");
  close(fd);
  fd = open((tree.root() + "/big").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  std::string big = ReadFd(fd, 1000);
  close(fd);
  CHECK(big.size() > 1000);
  CHECK(big.size() <= 1000 + 65536);
}

TEST_CASE("The process layer reads and sets a file's owner", "[fixture]") {
  testing::FixtureTree tree;
  tree.Write("f", "x");
  const std::string f = tree.root() + "/f";
  REQUIRE(chmod(f.c_str(), 0640) == 0);
  absl::StatusOr<FileOwnership> own = OwnershipOf(f);
  REQUIRE(own.ok());
  CHECK(own->mode == 0640u);
  CHECK(own->uid == static_cast<int64_t>(geteuid()));
  CHECK(own->gid == static_cast<int64_t>(getegid()));
  // -1 leaves an id as it is; our own ids need no privilege.
  CHECK(ChangeOwner(f, -1, own->gid).ok());
  CHECK(OwnershipOf(f)->gid == own->gid);
  absl::StatusOr<FileOwnership> missing = OwnershipOf(tree.root() + "/nope");
  REQUIRE_FALSE(missing.ok());
  CHECK(absl::StrContains(missing.status().message(), tree.root() + "/nope"));
  absl::Status chown_missing = ChangeOwner(tree.root() + "/nope", -1, 0);
  REQUIRE_FALSE(chown_missing.ok());
  CHECK(absl::StrContains(chown_missing.message(), "chown"));
}

TEST_CASE("The runtime log writes runc's JSON and logrus text lines",
          "[unit]") {
  RuntimeLog json("", "json", "", "kmemguard-runtime");
  auto j = nlohmann::json::parse(json.Format("error", "it \"broke\""));
  CHECK(j["level"] == "error");
  CHECK(j["msg"] == "kmemguard-runtime: it \"broke\"");
  CHECK(j["time"].get<std::string>().size() >= 20);
  RuntimeLog text("", "text", "", "kmemguard-runtime");
  std::string line = text.Format("warning", "x");
  CHECK(absl::StartsWith(line, "time=\""));
  CHECK(absl::StrContains(line, " level=warning msg=\"kmemguard-runtime: x\""));
}

TEST_CASE("Kernels before 4.6 are the ones where kmem is opt-in", "[unit]") {
  CHECK(KmemOptInKernel("3.10.0-957.el7.x86_64"));
  CHECK(KmemOptInKernel("4.4.0-21-generic"));
  CHECK_FALSE(KmemOptInKernel("4.6.0"));
  CHECK_FALSE(KmemOptInKernel("6.18.44-fc-v857"));
  CHECK_FALSE(KmemOptInKernel("garbage"));
}

TEST_CASE("Accounted ancestors: kmem active with use_hierarchy=1 is found",
          "[fixture]") {
  using testing::FixtureTree;
  FixtureTree tree;
  auto files = testing::V1MemoryFiles();
  tree.Dir("kubepods", files);
  tree.Dir("kubepods/burstable", files);
  tree.Dir("kubepods/burstable/pod1", files);
  auto fs = tree.OpenFs();
  CHECK(AccountedAncestors(*fs, testing::P("kubepods/burstable/pod1/c")).empty());
  // runc's 1/-1 trick leaves the limit unlimited; kernel objects charged
  // since then show as kmem usage.
  tree.Write("kubepods/burstable/memory.kmem.usage_in_bytes", "40960\n");
  auto found = AccountedAncestors(*fs, testing::P("kubepods/burstable/pod1/c"));
  REQUIRE(found.size() == 1);
  CHECK(absl::EndsWith(found[0], "/kubepods/burstable"));
  // Without use_hierarchy the child does not inherit it.
  tree.Write("kubepods/burstable/memory.use_hierarchy", "0\n");
  CHECK(AccountedAncestors(*fs, testing::P("kubepods/burstable/pod1/c")).empty());
  // A limit below "unlimited" counts too.
  tree.Write("kubepods/memory.kmem.limit_in_bytes", "1073741824\n");
  CHECK(AccountedAncestors(*fs, testing::P("kubepods/burstable/pod1/c")).size() == 1);
  // With include_self the cgroup itself is judged too (the hook's view).
  tree.Write("kubepods/burstable/pod1/memory.kmem.usage_in_bytes", "4096\n");
  CHECK(AccountedAncestors(*fs, testing::P("kubepods/burstable/pod1")).size() == 1);
  CHECK(AccountedAncestors(*fs, testing::P("kubepods/burstable/pod1"), true).size() == 2);
}

TEST_CASE("AccountedAncestors takes a limit above 2^62 for a limit",
          "[fixture]") {
  // The wrapper once took every value from 1 << 62 up for "no limit"; the
  // one check (core/memcg.h) knows the kernel's exact reading.
  testing::FixtureTree tree;
  testing::Files files = testing::V1MemoryFiles();
  tree.Dir("kubepods", files);
  tree.Dir("kubepods/pod1", files);
  auto fs = tree.OpenFs();
  CHECK(AccountedAncestors(*fs, testing::P("kubepods/pod1/c")).empty());
  tree.Write("kubepods/memory.kmem.limit_in_bytes", "5000000000000000000\n");
  auto found = AccountedAncestors(*fs, testing::P("kubepods/pod1/c"));
  REQUIRE(found.size() == 1);
  CHECK(absl::EndsWith(found[0], "/kubepods"));
}

}  // namespace
}  // namespace kmemguard::shim
