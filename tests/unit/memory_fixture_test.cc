// SPDX-License-Identifier: Apache-2.0
//
// MemoryController on fixture trees: the real RealCgroupFs on a plain temp
// directory, wrapped in RecordingCgroupFs so every operation is recorded in
// order and any one can be made to fail with a chosen errno.
//
// The first half ports the behaviours of runc@4d6e672
// libcontainer/cgroups/fs/memory_test.go and utils_test.go (Set and
// GetStats on a pre-filled directory). The second half covers what runc
// never tested: Apply under each KmemPolicy, the join order, rollback,
// kernel refusals, EINTR, Remove's back-off, and the seam itself.
//
// How Apply is observed on a plain tree. On cgroupfs the kernel fills a new
// directory with control files as part of mkdir; on a plain tree a freshly
// mkdir'ed directory is empty, so every kmem write would be ENOENT and
// Apply would (correctly) report kSkippedNoFile, and we could never see the
// kmem-enabling path succeed. KernelLikeFs below closes that gap: it
// forwards everything to the RealCgroupFs and, after a successful MakeDir
// only, writes the V1MemoryFiles into the new directory, as the kernel
// would. The controller still makes every decision itself ("created" comes
// from mkdir's own result), and RecordingCgroupFs sits outside KernelLikeFs,
// so the records show exactly the controller's operations, and injected
// faults never reach the tree. A pre-existing cgroup is a FixtureTree::Dir
// with the same files; a kernel without kmem is KernelLikeFs with
// V1Options{.kmem = false}, which yields a real ENOENT.

#include <cerrno>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "boost/filesystem.hpp"
#include "catch2/catch.hpp"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/core/memory.h"
#include "kmemguard/core/resources.h"
#include "kmemguard/core/status.h"
#include "testing/fixture_tree.h"
#include "testing/kernel_like_fs.h"
#include "testing/recording_cgroup_fs.h"
#include "testing/status_matchers.h"

namespace kmemguard {
namespace {

using testing::FixtureTree;
using testing::Files;
using testing::kUnlimited;
using testing::P;
using testing::V1MemoryFiles;
using testing::V1Options;

using testing::KernelLikeFs;

// One fixture tree with the stack Recording(KernelLike(Real)).
class Rig {
 public:
  explicit Rig(V1Options options = {})
      : files_(V1MemoryFiles(options)),
        real_(tree_.OpenFs()),
        kernel_(real_.get(), &tree_, files_),
        fs_(&kernel_) {
    fs_.set_real_sleep(false);
  }

  FixtureTree& tree() { return tree_; }
  RecordingCgroupFs& fs() { return fs_; }
  KernelLikeFs& kernel() { return kernel_; }
  const Files& files() const { return files_; }
  // A pre-existing cgroup with the control files.
  void Cgroup(const std::string& rel) { tree_.Dir(rel, files_); }
  std::string Full(const std::string& rel) const {
    return rel.empty() ? tree_.root() : tree_.root() + "/" + rel;
  }

  // Every recorded operation as "op path[=value][!ERRNO]", the path
  // relative to the tree root.
  std::vector<std::string> Ops() const {
    std::vector<std::string> out;
    for (const FsRecord& r : fs_.records()) out.push_back(Show(r));
    return out;
  }
  // Only the operations of the given kinds.
  std::vector<std::string> Ops(std::initializer_list<FsOp> kinds) const {
    std::vector<std::string> out;
    for (const FsRecord& r : fs_.records()) {
      for (FsOp k : kinds) {
        if (r.op == k) out.push_back(Show(r));
      }
    }
    return out;
  }
  bool AnyWrite() const {
    for (const FsRecord& r : fs_.records()) {
      if (r.op == FsOp::kWrite) return true;
    }
    return false;
  }

 private:
  std::string Show(const FsRecord& r) const {
    std::string path = r.path;
    if (absl::StartsWith(path, tree_.root())) {
      path = path.substr(tree_.root().size());
      if (absl::StartsWith(path, "/")) path = path.substr(1);
    }
    std::string out = absl::StrCat(FsOpName(r.op), " ", path);
    if (r.op == FsOp::kWrite || r.op == FsOp::kSleep) {
      absl::StrAppend(&out, r.op == FsOp::kSleep ? "" : "=", r.value);
    }
    if (r.err != 0) absl::StrAppend(&out, "!", ErrnoName(r.err));
    return out;
  }

  FixtureTree tree_;
  Files files_;
  std::unique_ptr<RealCgroupFs> real_;
  KernelLikeFs kernel_;
  RecordingCgroupFs fs_;
};

using Ops = std::vector<std::string>;

#define CHECK_OPS(got, ...)                                   \
  do {                                                        \
    const Ops kmg_want_ = __VA_ARGS__;                        \
    const Ops kmg_got_ = (got);                               \
    INFO("got:  " << absl::StrJoin(kmg_got_, " | "));         \
    INFO("want: " << absl::StrJoin(kmg_want_, " | "));        \
    CHECK(kmg_got_ == kmg_want_);                             \
  } while (0)

MemoryResources Limit(int64_t limit) {
  MemoryResources r;
  r.limit_bytes = limit;
  return r;
}

// ========================================================================
// Set (runc memory_test.go)
// ========================================================================

TEST_CASE("Set writes the memory limit as bare decimal bytes", "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<SetResult> r = mc.Set(P("ctr"), Limit(1024));
  REQUIRE_OK(r);
  CHECK(rig.tree().Read("ctr/memory.limit_in_bytes") == "1024");
  CHECK_OPS(rig.Ops(), {"write ctr/memory.limit_in_bytes=1024"});
  CHECK(r->effective == Limit(1024));
  CHECK(r->warnings.empty());
}

TEST_CASE("Set writes memory and memsw limits, limit first when shrinking",
          "[fixture]") {
  // The fresh cgroup's limit is "unlimited", larger than the new memsw.
  Rig rig;
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  MemoryResources r;
  r.limit_bytes = 1024;
  r.memsw_limit_bytes = 2048;
  REQUIRE_OK(mc.Set(P("ctr"), r));
  CHECK(rig.tree().Read("ctr/memory.limit_in_bytes") == "1024");
  CHECK(rig.tree().Read("ctr/memory.memsw.limit_in_bytes") == "2048");
  // The current limit is read (runc reads all four memory.* data files and
  // uses only this one), then the limit goes first.
  CHECK_OPS(rig.Ops(), {"read ctr/memory.limit_in_bytes",
                        "write ctr/memory.limit_in_bytes=1024",
                        "write ctr/memory.memsw.limit_in_bytes=2048"});
}

TEST_CASE("Set with only a memsw limit writes memory.memsw.limit_in_bytes "
          "(runc TestMemorySetMemoryswap)",
          "[fixture]") {
  // runc's test starts from a memsw limit of 300M and sets 500M. On a real
  // kernel memsw may not go below the memory limit, so the tree starts with
  // a 200M limit (KernelLikeFs enforces the rule).
  Rig rig;
  rig.Cgroup("ctr");
  rig.tree().Write("ctr/memory.limit_in_bytes", "209715200\n");
  rig.tree().Write("ctr/memory.memsw.limit_in_bytes", "314572800\n");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  MemoryResources r;
  r.memsw_limit_bytes = 524288000;
  REQUIRE_OK(mc.Set(P("ctr"), r));
  CHECK(rig.tree().Read("ctr/memory.memsw.limit_in_bytes") == "524288000");
  CHECK(rig.tree().Read("ctr/memory.limit_in_bytes") == "209715200\n");
  CHECK_OPS(rig.Ops({FsOp::kWrite}),
            {"write ctr/memory.memsw.limit_in_bytes=524288000"});
}

TEST_CASE("Set writes memsw first when growing past the current limit",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.tree().Write("ctr/memory.limit_in_bytes", "1024\n");
  rig.tree().Write("ctr/memory.memsw.limit_in_bytes", "2048\n");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  MemoryResources r;
  r.limit_bytes = 4096;
  r.memsw_limit_bytes = 8192;
  REQUIRE_OK(mc.Set(P("ctr"), r));
  CHECK_OPS(rig.Ops({FsOp::kWrite}),
            {"write ctr/memory.memsw.limit_in_bytes=8192",
             "write ctr/memory.limit_in_bytes=4096"});
  CHECK(rig.tree().Read("ctr/memory.limit_in_bytes") == "4096");
  CHECK(rig.tree().Read("ctr/memory.memsw.limit_in_bytes") == "8192");
}

TEST_CASE("Set with memsw fails before writing when the current limit is "
          "unreadable",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.tree().Write("ctr/memory.limit_in_bytes", "lots\n");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  MemoryResources r;
  r.limit_bytes = 1024;
  r.memsw_limit_bytes = 2048;
  absl::StatusOr<SetResult> s = mc.Set(P("ctr"), r);
  REQUIRE_FALSE(s.ok());
  CHECK(absl::StrContains(s.status().message(),
                          "failed to parse memory.limit_in_bytes - "));
  CHECK_FALSE(rig.AnyWrite());
}

TEST_CASE("Set writes the kernel memory limit and reads it back", "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  MemoryResources r;
  r.kernel_limit_bytes = 16384;
  absl::StatusOr<SetResult> s = mc.Set(P("ctr"), r);
  REQUIRE_OK(s);
  CHECK(rig.tree().Read("ctr/memory.kmem.limit_in_bytes") == "16384");
  CHECK_OPS(rig.Ops(), {"write ctr/memory.kmem.limit_in_bytes=16384",
                        "read ctr/memory.kmem.limit_in_bytes"});
  CHECK(s->warnings.empty());
}

TEST_CASE("Set warns when the kernel accepts but ignores a kernel memory "
          "limit",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.kernel().set_ignore_kmem_limit_writes(true);
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  MemoryResources r;
  r.kernel_limit_bytes = 16384;
  absl::StatusOr<SetResult> s = mc.Set(P("ctr"), r);
  REQUIRE_OK(s);
  REQUIRE(s->warnings.size() == 1);
  CHECK(absl::StrContains(s->warnings[0], "16384"));
  CHECK(absl::StrContains(s->warnings[0], kUnlimited));
  CHECK(absl::StrContains(s->warnings[0],
                          rig.Full("ctr/memory.kmem.limit_in_bytes")));
}

TEST_CASE("Set writes the kernel TCP limit, reservation, oom_control and "
          "swappiness",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  MemoryResources r;
  r.kernel_tcp_limit_bytes = 65536;
  r.reservation_bytes = 524288;
  r.oom_kill_disable = true;
  r.swappiness = 0;
  REQUIRE_OK(mc.Set(P("ctr"), r));
  CHECK(rig.tree().Read("ctr/memory.kmem.tcp.limit_in_bytes") == "65536");
  CHECK(rig.tree().Read("ctr/memory.soft_limit_in_bytes") == "524288");
  CHECK(rig.tree().Read("ctr/memory.oom_control") == "1");
  CHECK(rig.tree().Read("ctr/memory.swappiness") == "0");
  CHECK_OPS(rig.Ops(), {"write ctr/memory.soft_limit_in_bytes=524288",
                        "write ctr/memory.kmem.tcp.limit_in_bytes=65536",
                        "write ctr/memory.oom_control=1",
                        "write ctr/memory.swappiness=0"});
}

TEST_CASE("Set with swappiness 101 fails before any write", "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  MemoryResources r;
  r.limit_bytes = 1024;  // runc would have written this before failing
  r.swappiness = 101;
  absl::StatusOr<SetResult> s = mc.Set(P("ctr"), r);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.status().message() ==
        "invalid value:101. valid memory swappiness range is 0-100");
  CHECK(rig.fs().records().empty());
  CHECK(rig.tree().Read("ctr/memory.limit_in_bytes") ==
        std::string(kUnlimited) + "\n");
  CHECK(rig.tree().Read("ctr/memory.swappiness") == "60\n");
}

TEST_CASE("Set with swappiness at the -1 sentinel leaves swappiness alone",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  MemoryResources r;
  r.swappiness = UINT64_MAX;
  REQUIRE_OK(mc.Set(P("ctr"), r));
  CHECK(rig.fs().records().empty());
  CHECK(rig.tree().Read("ctr/memory.swappiness") == "60\n");
}

TEST_CASE("Set with an unlimited memory limit forces memsw to -1 when the "
          "memsw file exists",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.tree().Write("ctr/memory.limit_in_bytes", "1024\n");
  rig.tree().Write("ctr/memory.memsw.limit_in_bytes", "2048\n");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  MemoryResources r;
  r.limit_bytes = -1;
  r.memsw_limit_bytes = 1 << 20;  // overridden, as runc@4d6e672 does
  absl::StatusOr<SetResult> s = mc.Set(P("ctr"), r);
  REQUIRE_OK(s);
  CHECK(s->effective.memsw_limit_bytes == -1);
  CHECK(rig.tree().Read("ctr/memory.memsw.limit_in_bytes") == "-1");
  CHECK(rig.tree().Read("ctr/memory.limit_in_bytes") == "-1");
  CHECK_OPS(rig.Ops({FsOp::kStat, FsOp::kWrite}),
            {"stat ctr/memory.memsw.limit_in_bytes",
             "write ctr/memory.memsw.limit_in_bytes=-1",
             "write ctr/memory.limit_in_bytes=-1"});
}

TEST_CASE("Set with an unlimited memory limit and no memsw file writes only "
          "the limit",
          "[fixture]") {
  Rig rig(V1Options{.memsw = false});
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<SetResult> s = mc.Set(P("ctr"), Limit(-1));
  REQUIRE_OK(s);
  CHECK(s->effective.memsw_limit_bytes == 0);
  CHECK_OPS(rig.Ops(), {"stat ctr/memory.memsw.limit_in_bytes",
                        "write ctr/memory.limit_in_bytes=-1"});
  CHECK_FALSE(rig.tree().Exists("ctr/memory.memsw.limit_in_bytes"));
}

TEST_CASE("An all-zero Set touches nothing, even on an empty directory",
          "[fixture]") {
  Rig rig;
  rig.tree().Dir("empty");
  MemoryController mc(&rig.fs(), KmemPolicy::kLegacy);
  absl::StatusOr<SetResult> s = mc.Set(P("empty"), MemoryResources{});
  REQUIRE_OK(s);
  CHECK(rig.fs().records().empty());
  CHECK(s->effective == MemoryResources{});
}

TEST_CASE("Set under the disabled policy refuses a kernel limit before any "
          "write",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kDisabled);
  MemoryResources r = Limit(1024);
  r.kernel_limit_bytes = 4096;
  absl::StatusOr<SetResult> s = mc.Set(P("ctr"), r);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(rig.fs().records().empty());
}

TEST_CASE("Set with sizes below -1 fails before any write", "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  MemoryResources r = Limit(1024);
  r.reservation_bytes = -2;
  absl::StatusOr<SetResult> s = mc.Set(P("ctr"), r);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(rig.fs().records().empty());
}

// ------------------------------------------------- Set: kernel refusals

TEST_CASE("Set with a kernel limit and no kmem file is FailedPrecondition",
          "[fixture]") {
  Rig rig(V1Options{.kmem = false});
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  MemoryResources r;
  r.kernel_limit_bytes = 4096;
  absl::StatusOr<SetResult> s = mc.Set(P("ctr"), r);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(s.status().message(),
                          rig.Full("ctr/memory.kmem.limit_in_bytes")));
  CHECK(absl::StrContains(s.status().message(), "4096"));
  // Never created by the write.
  CHECK_FALSE(rig.tree().Exists("ctr/memory.kmem.limit_in_bytes"));
}

// Regression (was a bug, fixed): lib/core/memory.cc MemoryController::Set, EOPNOTSUPP branch of the kmem
// write: it returns Annotate(s, ...), which keeps the errno's status code
// (absl::ErrnoToStatusCode(EOPNOTSUPP) == kUnimplemented), while memory.h
// documents "an explicit kernel limit on a kernel ... refusing it is
// FailedPrecondition instead of ... a raw errno".
TEST_CASE("Set with a kernel limit the kernel refuses is FailedPrecondition",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.fs().AddFault({FsOp::kWrite, "/memory.kmem.limit_in_bytes", EOPNOTSUPP});
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  MemoryResources r;
  r.kernel_limit_bytes = 4096;
  absl::StatusOr<SetResult> s = mc.Set(P("ctr"), r);
  REQUIRE_FALSE(s.ok());
  CHECK(absl::StrContains(s.status().message(), "refuses kmem limits"));
  CHECK(ErrnoOf(s.status()) == EOPNOTSUPP);
  CHECK(s.status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("EBUSY on the kmem limit write gives runc's message", "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.fs().AddFault({FsOp::kWrite, "/memory.kmem.limit_in_bytes", EBUSY});
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  MemoryResources r;
  r.kernel_limit_bytes = 4096;
  absl::StatusOr<SetResult> s = mc.Set(P("ctr"), r);
  REQUIRE_FALSE(s.ok());
  CHECK(absl::StartsWith(
      s.status().message(),
      "failed to set memory.kmem.limit_in_bytes, because either tasks have "
      "already joined this cgroup or it has children"));
  CHECK(absl::StrContains(s.status().message(),
                          rig.Full("ctr/memory.kmem.limit_in_bytes")));
  CHECK(ErrnoOf(s.status()) == EBUSY);
}

TEST_CASE("EBUSY on the memory limit names current and peak usage",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.tree().Write("ctr/memory.usage_in_bytes", "5000\n");
  rig.tree().Write("ctr/memory.max_usage_in_bytes", "7000\n");
  rig.fs().AddFault({FsOp::kWrite, "/memory.limit_in_bytes", EBUSY});
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<SetResult> s = mc.Set(P("ctr"), Limit(4096));
  REQUIRE_FALSE(s.ok());
  CHECK(ErrnoOf(s.status()) == EBUSY);
  CHECK(absl::StrContains(s.status().message(),
                          "unable to set memory limit to 4096 (current usage: "
                          "5000, peak usage: 7000)"));
  CHECK(absl::StrContains(s.status().message(),
                          rig.Full("ctr/memory.limit_in_bytes")));
}

TEST_CASE("Set stops at the first failing write", "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.fs().AddFault({FsOp::kWrite, "/memory.soft_limit_in_bytes", EINVAL});
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  MemoryResources r = Limit(4096);
  r.reservation_bytes = 1024;
  r.swappiness = 10;
  absl::StatusOr<SetResult> s = mc.Set(P("ctr"), r);
  REQUIRE_FALSE(s.ok());
  CHECK(ErrnoOf(s.status()) == EINVAL);
  CHECK_OPS(rig.Ops({FsOp::kWrite}),
            {"write ctr/memory.limit_in_bytes=4096",
             "write ctr/memory.soft_limit_in_bytes=1024!EINVAL"});
  CHECK(rig.tree().Read("ctr/memory.swappiness") == "60\n");
}

TEST_CASE("A write interrupted once by EINTR is retried and succeeds",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.fs().AddFault({FsOp::kWrite, "/memory.limit_in_bytes", EINTR});
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  REQUIRE_OK(mc.Set(P("ctr"), Limit(1024)));
  CHECK_OPS(rig.Ops(), {"write ctr/memory.limit_in_bytes=1024!EINTR",
                        "write ctr/memory.limit_in_bytes=1024"});
  CHECK(rig.tree().Read("ctr/memory.limit_in_bytes") == "1024");
}

TEST_CASE("Reads and mkdirs interrupted by EINTR are retried too",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.fs().AddFault({FsOp::kRead, "/memory.stat", EINTR, 0, 2});
  rig.fs().AddFault({FsOp::kMkdir, "/new", EINTR});
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<MemoryStats> stats = mc.GetStats(P("ctr"));
  REQUIRE_OK(stats);
  CHECK(stats->present);
  absl::StatusOr<ApplyResult> a = mc.Apply(P("new"), Limit(1), -1);
  REQUIRE_OK(a);
  CHECK(a->created);
  CHECK(rig.tree().Exists("new"));
}

// ========================================================================
// GetStats (runc memory_test.go)
// ========================================================================

TEST_CASE("GetStats reads every family, cache and use_hierarchy", "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  FixtureTree& t = rig.tree();
  t.Write("ctr/memory.stat", "cache 512\nrss 1024\ntotal_rss 2048\n");
  t.Write("ctr/memory.usage_in_bytes", "2048\n");
  t.Write("ctr/memory.max_usage_in_bytes", "4096\n");
  t.Write("ctr/memory.failcnt", "100\n");
  t.Write("ctr/memory.limit_in_bytes", "8192\n");
  t.Write("ctr/memory.memsw.usage_in_bytes", "2049\n");
  t.Write("ctr/memory.memsw.max_usage_in_bytes", "4097\n");
  t.Write("ctr/memory.memsw.failcnt", "101\n");
  t.Write("ctr/memory.memsw.limit_in_bytes", "8193\n");
  t.Write("ctr/memory.kmem.usage_in_bytes", "2050\n");
  t.Write("ctr/memory.kmem.max_usage_in_bytes", "4098\n");
  t.Write("ctr/memory.kmem.failcnt", "102\n");
  t.Write("ctr/memory.kmem.limit_in_bytes", "8194\n");
  t.Write("ctr/memory.kmem.tcp.usage_in_bytes", "2051\n");
  t.Write("ctr/memory.kmem.tcp.max_usage_in_bytes", "4099\n");
  t.Write("ctr/memory.kmem.tcp.failcnt", "103\n");
  t.Write("ctr/memory.kmem.tcp.limit_in_bytes", "8195\n");
  t.Write("ctr/memory.use_hierarchy", "1\n");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<MemoryStats> s = mc.GetStats(P("ctr"));
  REQUIRE_OK(s);
  CHECK(s->present);
  CHECK(s->cache == 512);
  CHECK(s->stats == std::map<std::string, uint64_t>{
                        {"cache", 512}, {"rss", 1024}, {"total_rss", 2048}});
  auto check = [](const MemoryData& d, uint64_t base) {
    CHECK(d.usage == 2048 + base);
    CHECK(d.max_usage == 4096 + base);
    CHECK(d.failcnt == 100 + base);
    CHECK(d.limit == 8192 + base);
  };
  check(s->usage, 0);
  check(s->swap_usage, 1);
  check(s->kernel_usage, 2);
  check(s->kernel_tcp_usage, 3);
  CHECK(s->use_hierarchy);
  // Nothing is written to read stats.
  CHECK_FALSE(rig.AnyWrite());
}

TEST_CASE("GetStats reads use_hierarchy 0 as false and a missing cache as 0",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.tree().Write("ctr/memory.use_hierarchy", "0\n");
  rig.tree().Write("ctr/memory.stat", "rss 1\n");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<MemoryStats> s = mc.GetStats(P("ctr"));
  REQUIRE_OK(s);
  CHECK_FALSE(s->use_hierarchy);
  CHECK(s->cache == 0);
}

TEST_CASE("GetStats without memsw files reports zeros and no error",
          "[fixture]") {
  Rig rig(V1Options{.memsw = false});
  rig.Cgroup("ctr");
  rig.tree().Write("ctr/memory.usage_in_bytes", "2048\n");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<MemoryStats> s = mc.GetStats(P("ctr"));
  REQUIRE_OK(s);
  CHECK(s->usage.usage == 2048);
  CHECK(s->swap_usage.usage == 0);
  CHECK(s->swap_usage.max_usage == 0);
  CHECK(s->swap_usage.failcnt == 0);
  CHECK(s->swap_usage.limit == 0);
  CHECK(s->kernel_usage.limit == 9223372036854771712ULL);
}

TEST_CASE("GetStats discards a memsw family whose last file is missing",
          "[fixture]") {
  // runc returns all zeros when any of the four files is missing, even
  // after reading the others.
  Rig rig;
  rig.Cgroup("ctr");
  rig.tree().Write("ctr/memory.memsw.usage_in_bytes", "77\n");
  boost::filesystem::remove(rig.tree().root() + "/ctr/memory.memsw.limit_in_bytes");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<MemoryStats> s = mc.GetStats(P("ctr"));
  REQUIRE_OK(s);
  CHECK(s->swap_usage.usage == 0);
  CHECK(s->swap_usage.limit == 0);
}

TEST_CASE("GetStats without kmem files reports zeros for kmem and kmem.tcp",
          "[fixture]") {
  Rig rig(V1Options{.kmem = false, .kmem_tcp = false});
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<MemoryStats> s = mc.GetStats(P("ctr"));
  REQUIRE_OK(s);
  CHECK(s->kernel_usage.limit == 0);
  CHECK(s->kernel_usage.usage == 0);
  CHECK(s->kernel_tcp_usage.limit == 0);
  CHECK(s->swap_usage.limit == 9223372036854771712ULL);
  CHECK(s->present);
}

TEST_CASE("GetStats fails on a bad memory.stat line with runc's text",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.tree().Write("ctr/memory.stat", "cache 1\nrss 1 2\n");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<MemoryStats> s = mc.GetStats(P("ctr"));
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.status().message() ==
        "failed to parse memory.stat (\"rss 1 2\") - line is not a valid key "
        "value format");
}

TEST_CASE("GetStats fails on a bad usage file, naming file and contents",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.tree().Write("ctr/memory.usage_in_bytes", "bad\n");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<MemoryStats> s = mc.GetStats(P("ctr"));
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(s.status().message(),
                         "failed to parse memory.usage_in_bytes"));
  CHECK(absl::StrContains(
      s.status().message(),
      absl::StrCat("unable to parse \"bad\\n\" as a uint from Cgroup file \"",
                   rig.Full("ctr/memory.usage_in_bytes"), "\"")));
}

// runc@4d6e672 getMemoryData: fmt.Errorf("failed to parse %s - %v").
TEST_CASE("GetStats words a bad usage file exactly as runc does",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.tree().Write("ctr/memory.usage_in_bytes", "bad\n");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<MemoryStats> s = mc.GetStats(P("ctr"));
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message() ==
        absl::StrCat("failed to parse memory.usage_in_bytes - unable to parse "
                     "\"bad\\n\" as a uint from Cgroup file \"",
                     rig.Full("ctr/memory.usage_in_bytes"), "\""));
}

TEST_CASE("GetStats fails on a bad memsw file even though a missing one is "
          "fine",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.tree().Write("ctr/memory.memsw.failcnt", "x\n");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<MemoryStats> s = mc.GetStats(P("ctr"));
  REQUIRE_FALSE(s.ok());
  CHECK(absl::StrContains(s.status().message(), "memory.memsw.failcnt"));
}

TEST_CASE("GetStats fails when a plain memory.* file is missing", "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  boost::filesystem::remove(rig.tree().root() + "/ctr/memory.max_usage_in_bytes");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<MemoryStats> s = mc.GetStats(P("ctr"));
  REQUIRE_FALSE(s.ok());
  CHECK(ErrnoOf(s.status()) == ENOENT);
  CHECK(absl::StrContains(s.status().message(),
                          rig.Full("ctr/memory.max_usage_in_bytes")));
}

// runc TestMemoryStatsNoUsageFile, TestMemoryStatsNoLimitInBytesFile: a
// cgroup with memory.stat but without one of the memory.* data files fails.
TEST_CASE("GetStats fails without memory.usage_in_bytes or "
          "memory.limit_in_bytes, naming the file",
          "[fixture]") {
  for (const char* file : {"memory.usage_in_bytes", "memory.limit_in_bytes"}) {
    INFO(file);
    Rig rig;
    rig.Cgroup("ctr");
    rig.tree().Write("ctr/memory.stat", "cache 512\nrss 1024\n");
    boost::filesystem::remove(rig.tree().root() + "/ctr/" + file);
    MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
    absl::StatusOr<MemoryStats> s = mc.GetStats(P("ctr"));
    REQUIRE_FALSE(s.ok());
    CHECK(ErrnoOf(s.status()) == ENOENT);
    CHECK(absl::StrContains(s.status().message(),
                            rig.Full(absl::StrCat("ctr/", file))));
  }
}

// runc TestMemoryStatsBadMaxUsageFile, TestMemoryStatsBadLimitInBytesFile:
// "bad" in either file fails with runc's wording.
TEST_CASE("GetStats fails on a bad memory.max_usage_in_bytes or "
          "memory.limit_in_bytes with runc's text",
          "[fixture]") {
  for (const char* file :
       {"memory.max_usage_in_bytes", "memory.limit_in_bytes"}) {
    INFO(file);
    Rig rig;
    rig.Cgroup("ctr");
    rig.tree().Write("ctr/memory.stat", "cache 512\nrss 1024\n");
    rig.tree().Write(absl::StrCat("ctr/", file), "bad");
    MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
    absl::StatusOr<MemoryStats> s = mc.GetStats(P("ctr"));
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.status().message() ==
          absl::StrCat("failed to parse ", file,
                       " - unable to parse \"bad\" as a uint from Cgroup "
                       "file \"",
                       rig.Full(absl::StrCat("ctr/", file)), "\""));
  }
}

TEST_CASE("GetStats fails when use_hierarchy is missing or unparsable",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("a");
  rig.Cgroup("b");
  boost::filesystem::remove(rig.tree().root() + "/a/memory.use_hierarchy");
  rig.tree().Write("b/memory.use_hierarchy", "yes\n");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<MemoryStats> a = mc.GetStats(P("a"));
  REQUIRE_FALSE(a.ok());
  CHECK(ErrnoOf(a.status()) == ENOENT);
  absl::StatusOr<MemoryStats> b = mc.GetStats(P("b"));
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().message() ==
        absl::StrCat("unable to parse \"yes\\n\" as a uint from Cgroup file \"",
                     rig.Full("b/memory.use_hierarchy"), "\""));
}

TEST_CASE("GetStats without memory.stat returns present=false and reads "
          "nothing else",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  boost::filesystem::remove(rig.tree().root() + "/ctr/memory.stat");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<MemoryStats> s = mc.GetStats(P("ctr"));
  REQUIRE_OK(s);
  CHECK_FALSE(s->present);
  CHECK(s->usage.limit == 0);
  CHECK(s->stats.empty());
  CHECK_OPS(rig.Ops(), {"read ctr/memory.stat!ENOENT"});
}

// ========================================================================
// Apply under each KmemPolicy
// ========================================================================

MemoryResources LimitAndKernel(int64_t limit, int64_t kernel) {
  MemoryResources r = Limit(limit);
  r.kernel_limit_bytes = kernel;
  return r;
}

TEST_CASE("Guarded Apply enables kmem on a new cgroup with a kernel limit",
          "[fixture]") {
  Rig rig;
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<ApplyResult> a =
      mc.Apply(P("ctr"), LimitAndKernel(1 << 20, 1 << 19), -1);
  REQUIRE_OK(a);
  CHECK(a->created);
  CHECK(a->kmem == KmemActivation::kEnabled);
  CHECK(a->joined_pid == -1);
  REQUIRE(a->created_dirs.size() == 1);
  CHECK(a->created_dirs[0] == P("ctr"));
  // mkdir, "1" then "-1"; no second mkdir for the join (the directory was
  // just created), no pid.
  CHECK_OPS(rig.Ops(), {"mkdir ctr", "write ctr/memory.kmem.limit_in_bytes=1",
                        "write ctr/memory.kmem.limit_in_bytes=-1"});
  CHECK(rig.tree().Read("ctr/memory.kmem.limit_in_bytes") == "-1");
}

TEST_CASE("Guarded Apply counts a kernel limit of -1 as requested",
          "[fixture]") {
  Rig rig;
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<ApplyResult> a =
      mc.Apply(P("ctr"), LimitAndKernel(1 << 20, -1), -1);
  REQUIRE_OK(a);
  CHECK(a->kmem == KmemActivation::kEnabled);
}

TEST_CASE("Guarded Apply leaves kmem alone without a kernel limit",
          "[fixture]") {
  Rig rig;
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<ApplyResult> a = mc.Apply(P("ctr"), Limit(1 << 20), -1);
  REQUIRE_OK(a);
  CHECK(a->created);
  CHECK(a->kmem == KmemActivation::kNotAttempted);
  CHECK_FALSE(rig.AnyWrite());
  CHECK(rig.tree().Read("ctr/memory.kmem.limit_in_bytes") ==
        std::string(kUnlimited) + "\n");
}

TEST_CASE("Guarded Apply leaves kmem alone on a pre-existing cgroup",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<ApplyResult> a =
      mc.Apply(P("ctr"), LimitAndKernel(1 << 20, 1 << 19), -1);
  REQUIRE_OK(a);
  CHECK_FALSE(a->created);
  CHECK(a->created_dirs.empty());
  CHECK(a->kmem == KmemActivation::kNotAttempted);
  CHECK_OPS(rig.Ops(), {"mkdir ctr!EEXIST", "mkdir ctr!EEXIST"});
}

TEST_CASE("Legacy Apply enables kmem on every new cgroup that touches memory",
          "[fixture]") {
  Rig rig;
  MemoryController mc(&rig.fs(), KmemPolicy::kLegacy);
  MemoryResources only_oom;
  only_oom.oom_kill_disable = true;
  absl::StatusOr<ApplyResult> a = mc.Apply(P("ctr"), only_oom, -1);
  REQUIRE_OK(a);
  CHECK(a->created);
  CHECK(a->kmem == KmemActivation::kEnabled);
  CHECK_OPS(rig.Ops({FsOp::kWrite}),
            {"write ctr/memory.kmem.limit_in_bytes=1",
             "write ctr/memory.kmem.limit_in_bytes=-1"});
}

TEST_CASE("Legacy Apply does not enable kmem when memory is not assigned",
          "[fixture]") {
  // The join creates the directory then, never with kmem (runc §2.5 step 4).
  Rig rig;
  MemoryController mc(&rig.fs(), KmemPolicy::kLegacy);
  MemoryResources none;
  none.memsw_limit_bytes = -1;  // -1 alone does not count
  absl::StatusOr<ApplyResult> a = mc.Apply(P("ctr"), none, -1);
  REQUIRE_OK(a);
  CHECK(a->created);
  CHECK(a->created_dirs == std::vector<CgroupPath>{P("ctr")});
  CHECK(a->kmem == KmemActivation::kNotAttempted);
  CHECK_OPS(rig.Ops(), {"mkdir ctr"});
}

TEST_CASE("Legacy Apply leaves kmem alone on a pre-existing cgroup",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kLegacy);
  absl::StatusOr<ApplyResult> a = mc.Apply(P("ctr"), Limit(1 << 20), -1);
  REQUIRE_OK(a);
  CHECK_FALSE(a->created);
  CHECK(a->kmem == KmemActivation::kNotAttempted);
  CHECK_FALSE(rig.AnyWrite());
}

TEST_CASE("Disabled Apply never enables kmem", "[fixture]") {
  Rig rig;
  MemoryController mc(&rig.fs(), KmemPolicy::kDisabled);
  absl::StatusOr<ApplyResult> a = mc.Apply(P("ctr"), Limit(1 << 20), 42);
  REQUIRE_OK(a);
  CHECK(a->created);
  CHECK(a->kmem == KmemActivation::kNotAttempted);
  CHECK_OPS(rig.Ops({FsOp::kWrite}), {"write ctr/cgroup.procs=42"});
}

TEST_CASE("Disabled Apply refuses a kernel limit before creating anything",
          "[fixture]") {
  Rig rig;
  MemoryController mc(&rig.fs(), KmemPolicy::kDisabled);
  for (int64_t kernel : {int64_t{1} << 20, int64_t{-1}}) {
    INFO(kernel);
    absl::StatusOr<ApplyResult> a =
        mc.Apply(P("ctr"), LimitAndKernel(1 << 20, kernel), 42);
    REQUIRE_FALSE(a.ok());
    CHECK(a.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(rig.fs().records().empty());
    CHECK_FALSE(rig.tree().Exists("ctr"));
  }
}

TEST_CASE("Apply writes the pid to cgroup.procs after the kmem writes",
          "[fixture]") {
  Rig rig;
  MemoryController mc(&rig.fs(), KmemPolicy::kLegacy);
  absl::StatusOr<ApplyResult> a = mc.Apply(P("ctr"), Limit(1 << 20), 4242);
  REQUIRE_OK(a);
  CHECK(a->joined_pid == 4242);
  CHECK_OPS(rig.Ops(), {"mkdir ctr", "write ctr/memory.kmem.limit_in_bytes=1",
                        "write ctr/memory.kmem.limit_in_bytes=-1",
                        "write ctr/cgroup.procs=4242"});
  CHECK(rig.tree().Read("ctr/cgroup.procs") == "4242");
}

TEST_CASE("Apply joins a pre-existing cgroup and reports created=false",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<ApplyResult> a = mc.Apply(P("ctr"), MemoryResources{}, 7);
  REQUIRE_OK(a);
  CHECK_FALSE(a->created);
  CHECK(a->created_dirs.empty());
  CHECK(a->joined_pid == 7);
  CHECK_OPS(rig.Ops(), {"mkdir ctr!EEXIST", "write ctr/cgroup.procs=7"});
}

TEST_CASE("Apply creates missing parents, parents first", "[fixture]") {
  Rig rig;
  rig.Cgroup("kubepods");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<ApplyResult> a = mc.Apply(
      P("kubepods/burstable/pod1"), LimitAndKernel(1 << 20, 1 << 19), -1);
  REQUIRE_OK(a);
  CHECK(a->created);
  CHECK(a->created_dirs == std::vector<CgroupPath>{P("kubepods/burstable"),
                                                    P("kubepods/burstable/pod1")});
  // kmem is enabled on the cgroup itself, not on the parents it created.
  CHECK_OPS(rig.Ops(),
            {"mkdir kubepods/burstable/pod1!ENOENT", "mkdir kubepods/burstable",
             "mkdir kubepods/burstable/pod1",
             "write kubepods/burstable/pod1/memory.kmem.limit_in_bytes=1",
             "write kubepods/burstable/pod1/memory.kmem.limit_in_bytes=-1"});
}

TEST_CASE("Apply refuses the hierarchy root", "[fixture]") {
  Rig rig;
  MemoryController mc(&rig.fs(), KmemPolicy::kLegacy);
  absl::StatusOr<ApplyResult> a = mc.Apply(CgroupPath(), Limit(1), 1);
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(rig.fs().records().empty());
}

// ------------------------------------------------- Apply: kernel answers

TEST_CASE("A kernel without the kmem file skips enabling and succeeds",
          "[fixture]") {
  Rig rig(V1Options{.kmem = false});
  MemoryController mc(&rig.fs(), KmemPolicy::kLegacy);
  absl::StatusOr<ApplyResult> a = mc.Apply(P("ctr"), Limit(1 << 20), 9);
  REQUIRE_OK(a);
  CHECK(a->kmem == KmemActivation::kSkippedNoFile);
  CHECK(a->created);
  CHECK_OPS(rig.Ops({FsOp::kWrite}),
            {"write ctr/memory.kmem.limit_in_bytes=1!ENOENT",
             "write ctr/cgroup.procs=9"});
  // The missing file was not created by the attempt.
  CHECK_FALSE(rig.tree().Exists("ctr/memory.kmem.limit_in_bytes"));
  CHECK(rig.tree().Exists("ctr"));
}

TEST_CASE("A kernel refusing kmem limits (EOPNOTSUPP) skips enabling and "
          "succeeds",
          "[fixture]") {
  Rig rig;
  rig.fs().AddFault(
      {FsOp::kWrite, "/memory.kmem.limit_in_bytes", EOPNOTSUPP, 0, -1});
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<ApplyResult> a =
      mc.Apply(P("ctr"), LimitAndKernel(1 << 20, 1 << 19), 9);
  REQUIRE_OK(a);
  CHECK(a->kmem == KmemActivation::kSkippedRefused);
  CHECK(a->created);
  CHECK(a->joined_pid == 9);
  // No "-1" after the refused "1".
  CHECK_OPS(rig.Ops({FsOp::kWrite}),
            {"write ctr/memory.kmem.limit_in_bytes=1!EOPNOTSUPP",
             "write ctr/cgroup.procs=9"});
  CHECK(rig.tree().Exists("ctr"));
}

TEST_CASE("EBUSY while enabling kmem gives runc's message and rolls back",
          "[fixture]") {
  Rig rig;
  rig.fs().AddFault({FsOp::kWrite, "/memory.kmem.limit_in_bytes", EBUSY});
  MemoryController mc(&rig.fs(), KmemPolicy::kLegacy);
  absl::StatusOr<ApplyResult> a = mc.Apply(P("ctr"), Limit(1 << 20), 9);
  REQUIRE_FALSE(a.ok());
  CHECK(ErrnoOf(a.status()) == EBUSY);
  CHECK(absl::StartsWith(a.status().message(),
                         "failed to set memory.kmem.limit_in_bytes, because "
                         "either tasks have already joined this cgroup or it "
                         "has children"));
  CHECK_FALSE(rig.tree().Exists("ctr"));
  CHECK_OPS(rig.Ops({FsOp::kMkdir, FsOp::kRmdir}), {"mkdir ctr", "rmdir ctr"});
}

TEST_CASE("A failed kmem write removes every directory Apply created and "
          "keeps pre-existing ones",
          "[fixture]") {
  const int err = GENERATE(EBUSY, EINVAL, ENOSPC);
  // Fail the "1" or the "-1".
  const int skip = GENERATE(0, 1);
  INFO("errno " << ErrnoName(err) << ", skip " << skip);
  Rig rig;
  rig.Cgroup("kubepods");
  rig.fs().AddFault({FsOp::kWrite, "/memory.kmem.limit_in_bytes", err, skip});
  MemoryController mc(&rig.fs(), KmemPolicy::kLegacy);
  absl::StatusOr<ApplyResult> a =
      mc.Apply(P("kubepods/burstable/pod1"), Limit(1 << 20), 9);
  REQUIRE_FALSE(a.ok());
  CHECK(ErrnoOf(a.status()) == err);
  CHECK(absl::StrContains(
      a.status().message(),
      rig.Full("kubepods/burstable/pod1/memory.kmem.limit_in_bytes")));
  CHECK_FALSE(rig.tree().Exists("kubepods/burstable"));
  CHECK(rig.tree().Exists("kubepods"));
  CHECK(rig.tree().Exists("kubepods/memory.limit_in_bytes"));
  // Deepest first; the pid was never written.
  CHECK_OPS(rig.Ops({FsOp::kRmdir}),
            {"rmdir kubepods/burstable/pod1", "rmdir kubepods/burstable"});
  for (const std::string& op : rig.Ops({FsOp::kWrite})) {
    CHECK_FALSE(absl::StrContains(op, "cgroup.procs"));
  }
}

TEST_CASE("A failed join removes the cgroup Apply created", "[fixture]") {
  const int err = GENERATE(EBUSY, EINVAL, ENOSPC);
  INFO("errno " << ErrnoName(err));
  Rig rig;
  rig.fs().AddFault({FsOp::kWrite, "/cgroup.procs", err});
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<ApplyResult> a = mc.Apply(P("a/ctr"), Limit(1 << 20), 9);
  REQUIRE_FALSE(a.ok());
  CHECK(ErrnoOf(a.status()) == err);
  CHECK(absl::StrContains(a.status().message(), rig.Full("a/ctr/cgroup.procs")));
  CHECK_FALSE(rig.tree().Exists("a"));
  CHECK_OPS(rig.Ops({FsOp::kRmdir}), {"rmdir a/ctr", "rmdir a"});
}

TEST_CASE("A failed join never removes a cgroup Apply did not create",
          "[fixture]") {
  // runc RemoveAll's the path here even when it pre-existed.
  Rig rig;
  rig.Cgroup("ctr");
  rig.fs().AddFault({FsOp::kWrite, "/cgroup.procs", ESRCH});
  MemoryController mc(&rig.fs(), KmemPolicy::kLegacy);
  absl::StatusOr<ApplyResult> a = mc.Apply(P("ctr"), Limit(1 << 20), 9);
  REQUIRE_FALSE(a.ok());
  CHECK(ErrnoOf(a.status()) == ESRCH);
  CHECK(rig.tree().Exists("ctr/memory.limit_in_bytes"));
  CHECK(rig.Ops({FsOp::kRmdir}).empty());
}

TEST_CASE("A failed mkdir goes through the mkdir error hook and leaves "
          "nothing behind",
          "[fixture]") {
  Rig rig;
  // Let the first mkdir through (ENOENT: "kp" is missing), so Apply
  // creates "kp" and then fails on "kp/pod1".
  rig.fs().AddFault({FsOp::kMkdir, "/pod1", ENOSPC, /*skip=*/1});
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  int hook_calls = 0;
  mc.set_mkdir_error_hook([&](const absl::Status& s) {
    ++hook_calls;
    CHECK(ErrnoOf(s) == ENOSPC);
    return Annotate(s, "memory cgroup IDs exhausted?");
  });
  absl::StatusOr<ApplyResult> a = mc.Apply(P("kp/pod1"), Limit(1), -1);
  REQUIRE_FALSE(a.ok());
  CHECK(hook_calls == 1);
  CHECK(absl::StartsWith(a.status().message(), "memory cgroup IDs exhausted?"));
  CHECK(absl::StrContains(a.status().message(), rig.Full("kp/pod1")));
  CHECK(ErrnoOf(a.status()) == ENOSPC);
  // The parent "kp" it made on the way is removed again.
  CHECK_FALSE(rig.tree().Exists("kp"));
}

TEST_CASE("Rollback notes a cleanup that failed too", "[fixture]") {
  Rig rig;
  rig.fs().AddFault({FsOp::kWrite, "/cgroup.procs", EINVAL});
  rig.fs().AddFault({FsOp::kRmdir, "/ctr", EBUSY});
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<ApplyResult> a = mc.Apply(P("ctr"), Limit(1), 9);
  REQUIRE_FALSE(a.ok());
  // The original error comes first and keeps its errno.
  CHECK(ErrnoOf(a.status()) == EINVAL);
  CHECK(absl::StrContains(a.status().message(), "cleanup also failed"));
  CHECK(absl::StrContains(a.status().message(), "EBUSY"));
}

// ========================================================================
// Join, ApplyAndSet
// ========================================================================

TEST_CASE("Join writes the pid to an existing cgroup and creates nothing",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kLegacy);
  absl::StatusOr<ApplyResult> j = mc.Join(P("ctr"), 11);
  REQUIRE_OK(j);
  CHECK(j->joined_pid == 11);
  CHECK_FALSE(j->created);
  CHECK_OPS(rig.Ops(), {"stat ctr", "write ctr/cgroup.procs=11"});
  absl::StatusOr<ApplyResult> missing = mc.Join(P("nope"), 11);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(missing.status().message(), rig.Full("nope")));
  CHECK_FALSE(rig.tree().Exists("nope"));
}

TEST_CASE("ApplyAndSet creates, enables kmem, joins and sets", "[fixture]") {
  Rig rig;
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  MemoryResources r = LimitAndKernel(1 << 20, 1 << 19);
  absl::StatusOr<MemoryController::CreateResult> c =
      mc.ApplyAndSet(P("ctr"), r, 5);
  REQUIRE_OK(c);
  CHECK(c->apply.created);
  CHECK(c->apply.kmem == KmemActivation::kEnabled);
  CHECK_OPS(rig.Ops({FsOp::kWrite}),
            {"write ctr/memory.kmem.limit_in_bytes=1",
             "write ctr/memory.kmem.limit_in_bytes=-1",
             "write ctr/cgroup.procs=5",
             "write ctr/memory.limit_in_bytes=1048576",
             "write ctr/memory.kmem.limit_in_bytes=524288"});
  CHECK(rig.tree().Read("ctr/memory.limit_in_bytes") == "1048576");
}

TEST_CASE("ApplyAndSet does not read back the limit of a cgroup it created",
          "[fixture]") {
  // A new cgroup's memory.limit_in_bytes is the kernel's initial
  // 9223372036854771712 (4 KiB pages); runc reads it anyway. The writes are
  // the same as with the read: the limit first, since memsw is below it.
  Rig rig;
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  MemoryResources r;
  r.limit_bytes = 256 << 20;
  r.memsw_limit_bytes = 256 << 20;
  r.reservation_bytes = 128 << 20;
  REQUIRE_OK(mc.ApplyAndSet(P("ctr"), r, -1));
  CHECK_OPS(rig.Ops(), {"mkdir ctr",
                        "write ctr/memory.limit_in_bytes=268435456",
                        "write ctr/memory.memsw.limit_in_bytes=268435456",
                        "write ctr/memory.soft_limit_in_bytes=134217728"});
  // On a cgroup that already existed the limit is read, as before.
  Rig again;
  again.Cgroup("ctr");
  again.tree().Write("ctr/memory.limit_in_bytes", "1048576\n");
  MemoryController mc2(&again.fs(), KmemPolicy::kGuarded);
  REQUIRE_OK(mc2.ApplyAndSet(P("ctr"), r, -1));
  CHECK_OPS(again.Ops({FsOp::kRead, FsOp::kWrite}),
            {"read ctr/memory.limit_in_bytes",
             "write ctr/memory.memsw.limit_in_bytes=268435456",
             "write ctr/memory.limit_in_bytes=268435456",
             "write ctr/memory.soft_limit_in_bytes=134217728"});
}

TEST_CASE("ReadFile returns files of any size whole, around the read buffer",
          "[fixture]") {
  // One read(2) when the content fits the 8 KiB buffer, more only when a
  // read fills it: sizes at and around the buffer must come back whole.
  Rig rig;
  rig.Cgroup("ctr");
  for (size_t size : {size_t{0}, size_t{1}, size_t{8191}, size_t{8192},
                      size_t{8193}, size_t{16384}, size_t{50000}}) {
    INFO(size);
    std::string content;
    for (size_t i = 0; i < size; ++i) content.push_back("0123456789\n"[i % 11]);
    rig.tree().Write("ctr/memory.stat", content);
    absl::StatusOr<std::string> got = rig.fs().ReadFile(P("ctr"), "memory.stat");
    REQUIRE_OK(got);
    CHECK(*got == content);
  }
}

TEST_CASE("ApplyAndSet removes what it created when Set fails", "[fixture]") {
  Rig rig;
  rig.Cgroup("kubepods");
  rig.fs().AddFault({FsOp::kWrite, "/memory.limit_in_bytes", EINVAL});
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<MemoryController::CreateResult> c =
      mc.ApplyAndSet(P("kubepods/pod1/ctr"), Limit(1 << 20), -1);
  REQUIRE_FALSE(c.ok());
  CHECK(ErrnoOf(c.status()) == EINVAL);
  CHECK(absl::StrContains(c.status().message(),
                          rig.Full("kubepods/pod1/ctr/memory.limit_in_bytes")));
  CHECK_FALSE(rig.tree().Exists("kubepods/pod1"));
  CHECK(rig.tree().Exists("kubepods"));
  CHECK_OPS(rig.Ops({FsOp::kRmdir}),
            {"rmdir kubepods/pod1/ctr", "rmdir kubepods/pod1"});
}

TEST_CASE("ApplyAndSet keeps a pre-existing cgroup when Set fails",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.fs().AddFault({FsOp::kWrite, "/memory.limit_in_bytes", EINVAL});
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::StatusOr<MemoryController::CreateResult> c =
      mc.ApplyAndSet(P("ctr"), Limit(1 << 20), -1);
  REQUIRE_FALSE(c.ok());
  CHECK(rig.tree().Exists("ctr/memory.limit_in_bytes"));
  CHECK(rig.Ops({FsOp::kRmdir}).empty());
}

TEST_CASE("ApplyAndSet with invalid resources creates nothing", "[fixture]") {
  Rig rig;
  MemoryController mc(&rig.fs(), KmemPolicy::kLegacy);
  MemoryResources r = Limit(1 << 20);
  r.swappiness = 200;
  absl::StatusOr<MemoryController::CreateResult> c =
      mc.ApplyAndSet(P("ctr"), r, 5);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message() ==
        "invalid value:200. valid memory swappiness range is 0-100");
  CHECK(rig.fs().records().empty());
  CHECK_FALSE(rig.tree().Exists("ctr"));
}

TEST_CASE("ApplyAndSet with an explicit path only joins", "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kLegacy);
  absl::StatusOr<MemoryController::CreateResult> c =
      mc.ApplyAndSet(P("ctr"), Limit(1 << 20), 5, /*explicit_path=*/true);
  REQUIRE_OK(c);
  CHECK_OPS(rig.Ops(), {"stat ctr", "write ctr/cgroup.procs=5"});
  CHECK(rig.tree().Read("ctr/memory.limit_in_bytes") ==
        std::string(kUnlimited) + "\n");
  absl::StatusOr<MemoryController::CreateResult> missing =
      mc.ApplyAndSet(P("other"), Limit(1 << 20), 5, /*explicit_path=*/true);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK_FALSE(rig.tree().Exists("other"));
}

// ========================================================================
// Remove
// ========================================================================

TEST_CASE("Remove retries 5 rounds with 10, 20, 40, 80 ms back-off and "
          "reports EBUSY",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.fs().AddFault({FsOp::kRmdir, "/ctr", EBUSY, 0, -1});
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::Status s = mc.Remove(P("ctr"));
  REQUIRE_FALSE(s.ok());
  CHECK(ErrnoOf(s) == EBUSY);
  CHECK(absl::StrContains(s.message(), rig.Full("ctr")));
  CHECK(absl::StrContains(s.message(), "after 5 attempts"));
  CHECK_OPS(rig.Ops({FsOp::kRmdir, FsOp::kSleep}),
            {"rmdir ctr!EBUSY", "sleep 10ms", "rmdir ctr!EBUSY", "sleep 20ms",
             "rmdir ctr!EBUSY", "sleep 40ms", "rmdir ctr!EBUSY", "sleep 80ms",
             "rmdir ctr!EBUSY"});
  CHECK(rig.tree().Exists("ctr"));
}

TEST_CASE("Remove stops retrying as soon as rmdir succeeds", "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.fs().AddFault({FsOp::kRmdir, "/ctr", EBUSY, 0, 2});
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  REQUIRE_OK(mc.Remove(P("ctr")));
  CHECK_OPS(rig.Ops({FsOp::kRmdir, FsOp::kSleep}),
            {"rmdir ctr!EBUSY", "sleep 10ms", "rmdir ctr!EBUSY", "sleep 20ms",
             "rmdir ctr"});
  CHECK_FALSE(rig.tree().Exists("ctr"));
}

TEST_CASE("Remove of a missing cgroup succeeds at once", "[fixture]") {
  Rig rig;
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  REQUIRE_OK(mc.Remove(P("nope/deeper")));
  // One rmdir answered ENOENT, and no retry.
  CHECK_OPS(rig.Ops({FsOp::kRmdir, FsOp::kSleep}),
            {"rmdir nope/deeper!ENOENT"});
}

TEST_CASE("Remove removes child cgroups first", "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.Cgroup("ctr/b");
  rig.Cgroup("ctr/a");
  rig.Cgroup("ctr/a/x");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  REQUIRE_OK(mc.Remove(P("ctr")));
  CHECK_FALSE(rig.tree().Exists("ctr"));
  // rmdir is tried first (the common, childless case); a refusal lists
  // the children and removes them deepest first.
  CHECK_OPS(rig.Ops({FsOp::kRmdir}),
            {"rmdir ctr!ENOTEMPTY", "rmdir ctr/a!ENOTEMPTY", "rmdir ctr/a/x",
             "rmdir ctr/a", "rmdir ctr/b", "rmdir ctr"});
  // No force_empty unless asked.
  CHECK_FALSE(rig.AnyWrite());
}

TEST_CASE("Remove with force_empty writes 0 before each rmdir, children "
          "first",
          "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  rig.Cgroup("ctr/b");
  rig.Cgroup("ctr/a");
  rig.Cgroup("ctr/a/x");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  REQUIRE_OK(mc.Remove(P("ctr"), RemoveOptions{.force_empty = true}));
  CHECK_OPS(rig.Ops({FsOp::kWrite, FsOp::kRmdir}),
            {"write ctr/a/x/memory.force_empty=0", "rmdir ctr/a/x",
             "write ctr/a/memory.force_empty=0", "rmdir ctr/a",
             "write ctr/b/memory.force_empty=0", "rmdir ctr/b",
             "write ctr/memory.force_empty=0", "rmdir ctr"});
  CHECK_FALSE(rig.tree().Exists("ctr"));
}

TEST_CASE("Remove with force_empty tolerates a missing force_empty file",
          "[fixture]") {
  Rig rig;
  rig.tree().Dir("ctr");  // no control files at all
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  REQUIRE_OK(mc.Remove(P("ctr"), RemoveOptions{.force_empty = true}));
  CHECK_OPS(rig.Ops({FsOp::kWrite, FsOp::kRmdir}),
            {"write ctr/memory.force_empty=0!ENOENT", "rmdir ctr"});
  CHECK_FALSE(rig.tree().Exists("ctr"));
}

TEST_CASE("Remove refuses the hierarchy root", "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  absl::Status s = mc.Remove(CgroupPath());
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(rig.fs().records().empty());
  CHECK(rig.tree().Exists("ctr"));
}

// ========================================================================
// Error messages
// ========================================================================

TEST_CASE("Every filesystem error names the full path", "[fixture]") {
  Rig rig;
  rig.Cgroup("ctr");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  struct Case {
    FsFault fault;
    std::string rel;
  };
  const Case cases[] = {
      {{FsOp::kWrite, "/memory.limit_in_bytes", EACCES},
       "ctr/memory.limit_in_bytes"},
      {{FsOp::kWrite, "/memory.swappiness", EROFS}, "ctr/memory.swappiness"},
      {{FsOp::kStat, "/memory.memsw.limit_in_bytes", EIO},
       "ctr/memory.memsw.limit_in_bytes"},
  };
  for (const Case& c : cases) {
    INFO(c.rel);
    rig.fs().AddFault(c.fault);
    MemoryResources r = Limit(-1);
    r.swappiness = 5;
    absl::StatusOr<SetResult> s = mc.Set(P("ctr"), r);
    REQUIRE_FALSE(s.ok());
    CHECK(absl::StrContains(s.status().message(), rig.Full(c.rel)));
    CHECK(ErrnoOf(s.status()) == c.fault.err);
    CHECK(absl::StrContains(s.status().message(), ErrnoName(c.fault.err)));
  }
  // A missing cgroup: the failed open names the directory.
  absl::StatusOr<SetResult> set = mc.Set(P("missing"), Limit(1));
  REQUIRE_FALSE(set.ok());
  CHECK(absl::StrContains(set.status().message(), rig.Full("missing")));
  CHECK(ErrnoOf(set.status()) == ENOENT);
}

// ========================================================================
// RealCgroupFs on a fixture tree
// ========================================================================

TEST_CASE("RealCgroupFs never creates a missing control file", "[fixture]") {
  FixtureTree tree;
  tree.Dir("ctr", {{"memory.limit_in_bytes", "1\n"}});
  std::unique_ptr<RealCgroupFs> fs = tree.OpenFs();
  CHECK_FALSE(fs->is_cgroupfs());
  absl::Status s = fs->WriteFile(P("ctr"), "memory.kmem.limit_in_bytes", "1");
  REQUIRE_FALSE(s.ok());
  CHECK(ErrnoOf(s) == ENOENT);
  CHECK(s.code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(s.message(),
                          tree.root() + "/ctr/memory.kmem.limit_in_bytes"));
  CHECK(absl::StrContains(s.message(), "\"1\""));
  CHECK_FALSE(tree.Exists("ctr/memory.kmem.limit_in_bytes"));
  // Nor a missing directory.
  CHECK(ErrnoOf(fs->WriteFile(P("nope"), "cgroup.procs", "1")) == ENOENT);
  CHECK_FALSE(tree.Exists("nope"));
}

TEST_CASE("RealCgroupFs overwrites a control file with truncation",
          "[fixture]") {
  FixtureTree tree;
  tree.Dir("ctr", {{"memory.limit_in_bytes", "9223372036854771712\n"}});
  std::unique_ptr<RealCgroupFs> fs = tree.OpenFs();
  REQUIRE_OK(fs->WriteFile(P("ctr"), "memory.limit_in_bytes", "1024"));
  CHECK(tree.Read("ctr/memory.limit_in_bytes") == "1024");
  REQUIRE_OK(fs->WriteFile(P("ctr"), "memory.limit_in_bytes", "-1"));
  CHECK(tree.Read("ctr/memory.limit_in_bytes") == "-1");
  absl::StatusOr<std::string> back =
      fs->ReadFile(P("ctr"), "memory.limit_in_bytes");
  REQUIRE_OK(back);
  CHECK(*back == "-1");
}

TEST_CASE("RealCgroupFs MakeDir reports an existing directory as EEXIST",
          "[fixture]") {
  FixtureTree tree;
  std::unique_ptr<RealCgroupFs> fs = tree.OpenFs();
  REQUIRE_OK(fs->MakeDir(P("a")));
  absl::Status again = fs->MakeDir(P("a"));
  REQUIRE_FALSE(again.ok());
  CHECK(again.code() == absl::StatusCode::kAlreadyExists);
  CHECK(ErrnoOf(again) == EEXIST);
  CHECK(ErrnoOf(fs->MakeDir(P("x/y"))) == ENOENT);
  CHECK(ErrnoOf(fs->MakeDir(CgroupPath())) == EEXIST);
}

TEST_CASE("RealCgroupFs lists only subdirectories, sorted", "[fixture]") {
  FixtureTree tree;
  FixtureTree outside;
  tree.Dir("ctr/zeta");
  tree.Dir("ctr/alpha");
  tree.Dir("ctr/mid", {{"cgroup.procs", ""}});
  tree.Write("ctr/memory.stat", "");
  boost::filesystem::create_directory_symlink(outside.root(),
                                            tree.root() + "/ctr/link");
  std::unique_ptr<RealCgroupFs> fs = tree.OpenFs();
  absl::StatusOr<std::vector<std::string>> dirs = fs->ListDirs(P("ctr"));
  REQUIRE_OK(dirs);
  CHECK(*dirs == std::vector<std::string>{"alpha", "mid", "zeta"});
  CHECK(fs->DisplayPath(P("ctr/mid"), "cgroup.procs") ==
        tree.root() + "/ctr/mid/cgroup.procs");
  CHECK(fs->DisplayPath(CgroupPath()) == tree.root());
}

TEST_CASE("RealCgroupFs does not follow a symlinked directory in the tree",
          "[fixture]") {
  FixtureTree tree;
  FixtureTree outside;
  outside.Dir("target", {{"memory.limit_in_bytes", "orig"}});
  boost::filesystem::create_directory_symlink(outside.root() + "/target",
                                            tree.root() + "/evil");
  std::unique_ptr<RealCgroupFs> fs = tree.OpenFs();

  absl::Status w = fs->WriteFile(P("evil"), "memory.limit_in_bytes", "1");
  REQUIRE_FALSE(w.ok());
  CHECK((ErrnoOf(w) == ELOOP || ErrnoOf(w) == ENOTDIR));
  CHECK(outside.Read("target/memory.limit_in_bytes") == "orig");

  CHECK_FALSE(fs->ReadFile(P("evil"), "memory.limit_in_bytes").ok());
  CHECK_FALSE(fs->MakeDir(P("evil/sub")).ok());
  CHECK_FALSE(outside.Exists("target/sub"));
  CHECK_FALSE(fs->ListDirs(P("evil")).ok());

  absl::StatusOr<bool> exists = fs->Exists(P("evil"));
  REQUIRE_OK(exists);
  CHECK_FALSE(*exists);

  // Through MemoryController as well: Set and Apply fail, nothing outside
  // changes.
  MemoryController mc(fs.get(), KmemPolicy::kLegacy);
  CHECK_FALSE(mc.Set(P("evil"), Limit(1)).ok());
  CHECK_FALSE(mc.Apply(P("evil/ctr"), Limit(1), 1).ok());
  CHECK(outside.Read("target/memory.limit_in_bytes") == "orig");
  CHECK_FALSE(outside.Exists("target/ctr"));
}

TEST_CASE("RealCgroupFs does not follow a symlinked control file", "[fixture]") {
  FixtureTree tree;
  FixtureTree outside;
  outside.Write("secret", "orig");
  tree.Dir("ctr");
  boost::filesystem::create_symlink(outside.root() + "/secret",
                                  tree.root() + "/ctr/memory.limit_in_bytes");
  std::unique_ptr<RealCgroupFs> fs = tree.OpenFs();
  absl::Status w = fs->WriteFile(P("ctr"), "memory.limit_in_bytes", "1");
  REQUIRE_FALSE(w.ok());
  CHECK(ErrnoOf(w) == ELOOP);
  CHECK(outside.Read("secret") == "orig");
  CHECK_FALSE(fs->ReadFile(P("ctr"), "memory.limit_in_bytes").ok());
  // Exists sees the link itself, without following it.
  absl::StatusOr<bool> exists = fs->Exists(P("ctr"), "memory.limit_in_bytes");
  REQUIRE_OK(exists);
  CHECK(*exists);
}

TEST_CASE("Removing a cgroup holding a symlink leaves the link target intact",
          "[fixture]") {
  Rig rig;
  FixtureTree outside;
  outside.Dir("target", {{"keep", "data"}});
  rig.Cgroup("ctr");
  boost::filesystem::create_directory_symlink(outside.root() + "/target",
                                            rig.tree().root() + "/ctr/link");
  MemoryController mc(&rig.fs(), KmemPolicy::kGuarded);
  REQUIRE_OK(mc.Remove(P("ctr")));
  CHECK_FALSE(rig.tree().Exists("ctr"));
  CHECK(outside.Read("target/keep") == "data");
  // The link was not treated as a child cgroup.
  CHECK_OPS(rig.Ops({FsOp::kRmdir}), {"rmdir ctr"});
}

TEST_CASE("RealCgroupFs::Open refuses a relative or missing root, and a "
          "plain directory when cgroupfs is required",
          "[fixture]") {
  FixtureTree tree;
  CHECK(RealCgroupFs::Open("relative/dir", RootCheck::kAllowPlainDir)
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(ErrnoOf(RealCgroupFs::Open(tree.root() + "/nope",
                                   RootCheck::kAllowPlainDir)
                    .status()) == ENOENT);
  absl::StatusOr<std::unique_ptr<RealCgroupFs>> strict =
      RealCgroupFs::Open(tree.root(), RootCheck::kRequireCgroupfs);
  REQUIRE_FALSE(strict.ok());
  CHECK(strict.status().code() == absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<std::unique_ptr<RealCgroupFs>> trailing =
      RealCgroupFs::Open(tree.root() + "/", RootCheck::kAllowPlainDir);
  REQUIRE_OK(trailing);
  CHECK((*trailing)->root() == tree.root());
}

}  // namespace
}  // namespace kmemguard
