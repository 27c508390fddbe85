// SPDX-License-Identifier: Apache-2.0
//
// CountCgroups skips listing leaves by their link count.

#include <algorithm>

#include "catch2/catch.hpp"
#include "kmemguard/doctor/doctor.h"
#include "testing/fixture_tree.h"
#include "testing/recording_cgroup_fs.h"
#include "testing/status_matchers.h"

namespace kmemguard {
namespace {

TEST_CASE("CountCgroups counts every cgroup but lists only non-leaves",
          "[fixture]") {
  testing::FixtureTree tree;
  tree.Dir("a/x");
  tree.Dir("a/y");
  tree.Dir("b");
  tree.Dir("system.slice/run-r1.scope");
  tree.Dir("system.slice/run-r2.scope");
  auto real = tree.OpenFs();
  RecordingCgroupFs fs(real.get());
  int64_t scopes = 0;
  absl::StatusOr<int64_t> n = CountCgroups(&fs, CgroupPath(), &scopes);
  REQUIRE_OK(n);
  CHECK(*n == 8);  // root, a, a/x, a/y, b, system.slice and its 2 scopes
  CHECK(scopes == 2);
  auto lists = std::count_if(fs.records().begin(), fs.records().end(),
                             [](const FsRecord& r) { return r.op == FsOp::kList; });
  CHECK(lists == 3);  // the root, a and system.slice; never a leaf

  // A filesystem that cannot tell link counts falls back to listing all.
  struct NoLinks : CgroupFs {
    CgroupFs* inner;
    explicit NoLinks(CgroupFs* i) : inner(i) {}
    absl::Status MakeDir(const CgroupPath& d) override { return inner->MakeDir(d); }
    absl::Status RemoveDir(const CgroupPath& d) override { return inner->RemoveDir(d); }
    absl::StatusOr<std::string> ReadFile(const CgroupPath& d, absl::string_view f) override {
      return inner->ReadFile(d, f);
    }
    absl::Status WriteFile(const CgroupPath& d, absl::string_view f,
                           absl::string_view v) override {
      return inner->WriteFile(d, f, v);
    }
    absl::StatusOr<bool> Exists(const CgroupPath& d, absl::string_view f) override {
      return inner->Exists(d, f);
    }
    absl::StatusOr<std::vector<std::string>> ListDirs(const CgroupPath& d) override {
      return inner->ListDirs(d);
    }
    void Sleep(absl::Duration) override {}
    std::string DisplayPath(const CgroupPath& d, absl::string_view f) const override {
      return inner->DisplayPath(d, f);
    }
  } plain(real.get());
  absl::StatusOr<int64_t> m = CountCgroups(&plain);
  REQUIRE_OK(m);
  CHECK(*m == 8);
}

}  // namespace
}  // namespace kmemguard
