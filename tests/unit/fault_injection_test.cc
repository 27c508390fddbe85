// SPDX-License-Identifier: Apache-2.0
//
// Fault injection through the filesystem seam: every single filesystem
// operation of Apply(+Set), Set, Remove and the wrapper's create path is
// made to fail, one at a time, with each of ENOSPC, EBUSY, EINVAL, EIO,
// EACCES and EINTR. Every run must end with either success (EINTR retried;
// a fault the code tolerates, such as EBUSY on an rmdir it retries) or a
// clear one-line error naming the errno and the path, and must leave no
// directory it created behind.

#include <cerrno>
#include <cstdio>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "boost/filesystem.hpp"
#include "catch2/catch.hpp"
#include "common/shim_config.h"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/core/memory.h"
#include "kmemguard/core/status.h"
#include "runtime/wrapper.h"
#include "testing/fixture_tree.h"
#include "testing/kernel_like_fs.h"
#include "testing/recording_cgroup_fs.h"
#include "testing/status_matchers.h"

namespace kmemguard {
namespace {

using testing::FixtureTree;
using testing::KernelLikeFs;
using testing::P;

constexpr int kErrnos[] = {ENOSPC, EBUSY, EINVAL, EIO, EACCES, EINTR};

struct World {
  FixtureTree tree;
  testing::Files files = testing::V1MemoryFiles();
  std::unique_ptr<RealCgroupFs> real = tree.OpenFs();
  KernelLikeFs kernel{real.get(), &tree, files};
  RecordingCgroupFs fs{&kernel};
  World() { fs.set_real_sleep(false); }
  void Cgroup(const std::string& rel) { tree.Dir(rel, files); }
  std::set<std::string> Dirs() const {
    std::set<std::string> out;
    namespace fs = boost::filesystem;
    for (auto& e : fs::recursive_directory_iterator(tree.root())) {
      if (fs::is_directory(e.status())) {
        out.insert(fs::relative(e.path(), tree.root()).string());
      }
    }
    return out;
  }
};

struct Scenario {
  std::string name;
  bool creates;  // the operation creates directories it must not leave
  std::function<void(World&)> setup;
  std::function<absl::Status(World&)> run;
};

MemoryResources Typical() {
  MemoryResources r;
  r.limit_bytes = 64 << 20;
  r.memsw_limit_bytes = 128 << 20;
  r.reservation_bytes = 32 << 20;
  r.kernel_limit_bytes = 16 << 20;
  r.swappiness = 10;
  r.oom_kill_disable = true;
  return r;
}

std::vector<Scenario> Scenarios() {
  return {
      {"ApplyAndSet guarded, new cgroup with a kernel limit", true,
       [](World& w) { w.Cgroup("pods"); },
       [](World& w) {
         MemoryController mc(&w.fs, KmemPolicy::kGuarded);
         return mc.ApplyAndSet(P("pods/ctr"), Typical(), -1).status();
       }},
      {"ApplyAndSet legacy, new parent and cgroup, with a pid", true,
       [](World&) {},
       [](World& w) {
         MemoryController mc(&w.fs, KmemPolicy::kLegacy);
         MemoryResources r;
         r.limit_bytes = 1 << 20;
         return mc.ApplyAndSet(P("kubepods/ctr"), r, 4242).status();
       }},
      {"Set growing memory and memsw", false,
       [](World& w) {
         w.Cgroup("ctr");
         w.tree.Write("ctr/memory.limit_in_bytes", "1048576\n");
       },
       [](World& w) {
         MemoryController mc(&w.fs, KmemPolicy::kGuarded);
         MemoryResources r;
         r.limit_bytes = 64 << 20;
         r.memsw_limit_bytes = 128 << 20;
         r.reservation_bytes = 1 << 20;
         return mc.Set(P("ctr"), r).status();
       }},
      {"Remove with children and force_empty", false,
       [](World& w) {
         w.Cgroup("ctr");
         w.Cgroup("ctr/a");
         w.Cgroup("ctr/b");
       },
       [](World& w) {
         MemoryController mc(&w.fs, KmemPolicy::kGuarded);
         return mc.Remove(P("ctr"), RemoveOptions{.force_empty = true});
       }},
      {"Remove with children", false,
       [](World& w) {
         w.Cgroup("ctr");
         w.Cgroup("ctr/a");
       },
       [](World& w) {
         MemoryController mc(&w.fs, KmemPolicy::kGuarded);
         return mc.Remove(P("ctr"));
       }},
      {"wrapper create path on a 3.10 kernel under kubepods/burstable", true,
       [](World& w) {
         w.Cgroup("kubepods");
         w.Cgroup("kubepods/burstable");
       },
       [](World& w) {
         shim::ShimConfig config;
         shim::RuntimeLog log("", "", "", "kmemguard-runtime");
         return shim::GuardContainerCgroup(
                    w.fs, P("kubepods/burstable/pod1"), Typical(), config,
                    log, "3.10.0-957.el7.x86_64")
             .status();
       }},
  };
}

TEST_CASE("Every single failed filesystem operation ends in a clear error or "
          "a correct retry, and leaves nothing behind",
          "[fixture]") {
  int points = 0;
  std::set<std::string> distinct;
  for (const Scenario& sc : Scenarios()) {
    World base;
    sc.setup(base);
    const std::set<std::string> before = base.Dirs();
    REQUIRE_OK(sc.run(base));
    const std::set<std::string> after_ok = base.Dirs();
    const std::vector<FsRecord> ops = base.fs.records();
    REQUIRE_FALSE(ops.empty());
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].op == FsOp::kSleep) continue;  // a sleep cannot fail
      for (int err : kErrnos) {
        World w;
        sc.setup(w);
        w.fs.FailOperationAt(i, err);
        absl::Status s = sc.run(w);
        ++points;
        std::string op = absl::StrCat(FsOpName(ops[i].op), " ",
                                      ops[i].path.substr(ops[i].path.rfind('/') + 1));
        distinct.insert(absl::StrCat(sc.name, "|", op, "|", ErrnoName(err)));
        INFO(sc.name << ": operation " << i << " (" << op << ") fails with "
                     << ErrnoName(err) << " -> " << s.ToString());
        if (err == EINTR) {
          CHECK(s.ok());  // retried
        }
        if (s.ok()) {
          CHECK(w.Dirs() == after_ok);
        } else {
          // One line, naming the errno and the full path.
          CHECK(s.message().find('\n') == absl::string_view::npos);
          CHECK(absl::StrContains(s.message(), ErrnoName(err)));
          CHECK(absl::StrContains(s.message(), w.tree.root()));
          if (sc.creates) CHECK(w.Dirs() == before);
        }
      }
    }
  }
  std::printf("fault injection: %d (operation, errno) points over %zu distinct "
              "(scenario, operation, errno) triples\n",
              points, distinct.size());
  CHECK(points > 200);
}

}  // namespace
}  // namespace kmemguard
