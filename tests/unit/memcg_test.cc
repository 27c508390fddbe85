// SPDX-License-Identifier: Apache-2.0
//
// The one "is kmem active?" check (kmemguard/core/memcg.h), shared by the
// wrapper, the hook and doctor, at the boundary values of both kernels'
// encodings of "no limit"; and the typed outcomes of target resolution and
// bundle loading (kmemguard/core/target.h).

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "kmemguard/core/memcg.h"
#include "kmemguard/core/status.h"
#include "kmemguard/core/target.h"
#include "testing/fixture_tree.h"
#include "testing/status_matchers.h"

namespace kmemguard {
namespace {

constexpr uint64_t k4K = 4096;
constexpr uint64_t k64K = 65536;
// 3.10-3.18 res_counter: RESOURCE_MAX.
constexpr uint64_t kResourceMax = 9223372036854775807ULL;
// 3.19+ page_counter: PAGE_COUNTER_MAX * PAGE_SIZE.
constexpr uint64_t kUnlimited4K = 9223372036854771712ULL;
constexpr uint64_t kUnlimited64K = 9223372036854710272ULL;

TEST_CASE("UnlimitedLimitBytes is LLONG_MAX rounded down to the page",
          "[unit]") {
  CHECK(UnlimitedLimitBytes(k4K) == kUnlimited4K);
  CHECK(UnlimitedLimitBytes(k64K) == kUnlimited64K);
  CHECK(UnlimitedLimitBytes(0) == kUnlimited4K);  // page size unknown
}

TEST_CASE("LimitIsSet at the boundaries of both encodings", "[unit]") {
  // res_counter (3.10): "no limit" reads RESOURCE_MAX.
  CHECK_FALSE(LimitIsSet(kResourceMax, k4K));
  // page_counter, 4 KiB pages: "no limit" and the largest real limit.
  CHECK_FALSE(LimitIsSet(kUnlimited4K, k4K));
  CHECK(LimitIsSet(kUnlimited4K - k4K, k4K));
  // 64 KiB pages (arm64, ppc64le): "no limit" reads lower than with 4 KiB
  // pages; the old doctor floor (9223372036854771712) took it for a limit.
  CHECK_FALSE(LimitIsSet(kUnlimited64K, k64K));
  CHECK(LimitIsSet(kUnlimited64K - k64K, k64K));
  // A limit above 2^62 is still a limit; the old wrapper floor (1 << 62)
  // took it for "no limit".
  CHECK(LimitIsSet((uint64_t{1} << 62) + k4K, k4K));
  CHECK(LimitIsSet(5000000000000000000ULL, k4K));
  // What runc's 1/-1 trick leaves behind is "no limit"; a small limit is one.
  CHECK(LimitIsSet(k4K, k4K));
  CHECK(LimitIsSet(0, k4K));
}

testing::Files KmemFiles(const std::string& limit, const std::string& usage,
                         const std::string& slabinfo) {
  testing::Files f = {{"memory.kmem.limit_in_bytes", limit + "\n"},
                      {"memory.kmem.usage_in_bytes", usage + "\n"}};
  if (!slabinfo.empty()) f["memory.kmem.slabinfo"] = slabinfo;
  return f;
}

TEST_CASE("InspectKmemState reads limit, usage and slabinfo", "[fixture]") {
  testing::FixtureTree tree;
  const std::string header = "slabinfo - version: 2.1\n# name <active_objs>\n";
  tree.Dir("res_counter", KmemFiles("9223372036854775807", "0", header));
  tree.Dir("unlimited4k", KmemFiles("9223372036854771712", "0", header));
  tree.Dir("unlimited64k", KmemFiles("9223372036854710272", "0", header));
  tree.Dir("limited", KmemFiles("9223372036854767616", "0", header));
  tree.Dir("above62", KmemFiles("5000000000000000000", "0", header));
  tree.Dir("used", KmemFiles("9223372036854771712", "8192", header));
  tree.Dir("slabs", KmemFiles("9223372036854771712", "0",
                              header + "dentry 10 10 192 21 1\n"));
  tree.Dir("nokmem");
  tree.Dir("garbage", KmemFiles("lots", "0", header));
  auto fs = tree.OpenFs();
  auto active = [&](const char* dir, uint64_t page) {
    return InspectKmemState(fs.get(), testing::P(dir), page).active;
  };
  CHECK_FALSE(active("res_counter", k4K));
  CHECK_FALSE(active("unlimited4k", k4K));
  CHECK_FALSE(active("unlimited64k", k64K));
  CHECK(active("unlimited64k", k4K));  // on a 4 KiB kernel it is a limit
  CHECK(active("limited", k4K));
  CHECK(active("above62", k4K));
  CHECK(active("used", k4K));
  CHECK(active("slabs", k4K));
  KmemState none = InspectKmemState(fs.get(), testing::P("nokmem"), k4K);
  CHECK_FALSE(none.active);
  CHECK(absl::StrContains(none.evidence, "no CONFIG_MEMCG_KMEM"));
  KmemState bad = InspectKmemState(fs.get(), testing::P("garbage"), k4K);
  CHECK_FALSE(bad.active);
  CHECK(absl::StrContains(bad.evidence, "not a number in"));
  CHECK(absl::StrContains(bad.evidence, "garbage/memory.kmem.limit_in_bytes"));
}

TEST_CASE("WalkCgroups opens leaves only when asked and visits each once",
          "[fixture]") {
  testing::FixtureTree tree;
  tree.Dir("a/x");
  tree.Dir("a/y");
  tree.Dir("b");
  auto fs = tree.OpenFs();
  std::vector<std::string> visited;
  CgroupVisitor v;
  v.open_leaf = [](const CgroupPath& leaf) { return leaf.ToString() == "a/y"; };
  v.visit = [&](const CgroupPath& p, const std::vector<CgroupFs::DirLinks>&) {
    visited.push_back(p.ToString());
  };
  absl::StatusOr<int64_t> n = WalkCgroups(fs.get(), CgroupPath(), v);
  REQUIRE_OK(n);
  CHECK(*n == 5);
  std::sort(visited.begin(), visited.end());
  CHECK(visited == std::vector<std::string>{"", "a", "a/y"});
}

TEST_CASE("error kinds travel as payloads, not message text", "[unit]") {
  absl::Status s = WithErrorKind(absl::FailedPreconditionError("x"),
                                 ErrorKind::kNoMemoryHierarchy);
  CHECK(ErrorKindOf(s) == ErrorKind::kNoMemoryHierarchy);
  CHECK(IsNoMemoryHierarchy(Annotate(s, "context")));
  CHECK(IsNoMemoryHierarchy(WithMessage(s, "other words")));
  // The words alone do not make the kind.
  CHECK_FALSE(IsNoMemoryHierarchy(
      absl::FailedPreconditionError("no cgroup v1 memory hierarchy")));
  CHECK(WithErrorKind(absl::OkStatus(), ErrorKind::kNoMemoryHierarchy).ok());
}

TEST_CASE("LoadBundleConfig names the file in every error", "[fixture]") {
  testing::FixtureTree tree;
  tree.Dir("bad");
  tree.Dir("good");
  tree.Write("bad/config.json", R"({"linux":{"resources":{"memory":[]}}})");
  tree.Write("good/config.json",
             R"({"linux":{"cgroupsPath":"/k/c1","resources":{"memory":)"
             R"({"limit":1048576}}}})");
  for (OciDecoder decoder : {OciDecoder::kFull, OciDecoder::kLean}) {
    std::string bad = tree.root() + "/bad";
    absl::StatusOr<OciCgroupConfig> parsed =
        LoadBundleConfig(bad, "c1", false, decoder);
    REQUIRE_FALSE(parsed.ok());
    CHECK(absl::IsInvalidArgument(parsed.status()));
    CHECK(parsed.status().message() ==
          bad + "/config.json: linux.resources.memory: [] is not an object");
    absl::StatusOr<OciCgroupConfig> missing =
        LoadBundleConfig(tree.root() + "/none", "c1", false, decoder);
    REQUIRE_FALSE(missing.ok());
    CHECK(ErrnoOf(missing.status()) == ENOENT);
    CHECK(absl::StrContains(missing.status().message(),
                            tree.root() + "/none/config.json"));
    absl::StatusOr<OciCgroupConfig> good =
        LoadBundleConfig(tree.root() + "/good", "c1", false, decoder);
    REQUIRE_OK(good);
    CHECK(good->cgroups_path == "/k/c1");
    CHECK(good->resources.limit_bytes == 1048576);
  }
}

}  // namespace
}  // namespace kmemguard
