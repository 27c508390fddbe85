// SPDX-License-Identifier: Apache-2.0
//
// Shared by the libFuzzer targets in tests/fuzz: the invariant check (a
// violation aborts, which libFuzzer reports as a crash) and fixed, realistic
// /proc texts for the targets that fuzz only one side of a resolution.

#ifndef KMEMGUARD_TESTS_FUZZ_FUZZ_COMMON_H_
#define KMEMGUARD_TESTS_FUZZ_FUZZ_COMMON_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "kmemguard/core/paths.h"

#define FUZZ_CHECK(cond)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "FUZZ INVARIANT VIOLATED: %s at %s:%d\n", #cond, \
                   __FILE__, __LINE__);                                    \
      std::abort();                                                        \
    }                                                                      \
  } while (0)

namespace kmemguard::fuzz {

// A v1/hybrid host (this machine's layout): memory mounted at
// /sys/fs/cgroup/memory with root "/", the caller in a child cgroup.
inline constexpr char kHostMountinfo[] =
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
    "rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
inline constexpr char kHostProcCgroup[] =
    "9:name=systemd:/\n"
    "4:memory:/process_api/71e50c7b60b51dee109c25d767c8f5eb\n"
    "1:cpu:/\n"
    "0::/\n";

// Inside a Docker container: the memory mount's root is the container's own
// cgroup, which /proc/self/cgroup also names (runc's nested case).
inline constexpr char kNestedMountinfo[] =
    "1090 1059 0:62 / / rw,relatime - overlay overlay rw\n"
    "1099 1090 0:66 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs rw,mode=755\n"
    "1104 1099 0:32 /docker/4f2c1a /sys/fs/cgroup/memory ro,nosuid - cgroup "
    "cgroup rw,memory\n"
    "1106 1099 0:27 /docker/4f2c1a /sys/fs/cgroup/systemd ro,nosuid - cgroup "
    "cgroup rw,xattr,name=systemd\n";
inline constexpr char kNestedProcCgroup[] =
    "12:memory:/docker/4f2c1a\n"
    "1:name=systemd:/docker/4f2c1a\n"
    "0::/\n";

inline bool HasDotDotComponent(absl::string_view p) {
  return p == ".." || absl::StartsWith(p, "../") || absl::EndsWith(p, "/..") ||
         absl::StrContains(p, "/../");
}

// The invariants of a successful resolution: the result lies in the memory
// hierarchy, and its CgroupPath can name nothing outside it.
inline void CheckResolved(const ResolvedCgroup& r) {
  const std::string& mnt = r.hierarchy_root;
  FUZZ_CHECK(!mnt.empty() && mnt[0] == '/');
  FUZZ_CHECK(r.full_path == mnt ||
             absl::StartsWith(r.full_path, mnt == "/" ? mnt : mnt + "/"));
  FUZZ_CHECK(!HasDotDotComponent(r.full_path));
  FUZZ_CHECK(r.full_path.find('\0') == std::string::npos);
  FUZZ_CHECK(r.explicit_path || !r.path.IsRoot());
  for (const std::string& c : r.path.components()) {
    FUZZ_CHECK(!c.empty() && c != "." && c != "..");
    FUZZ_CHECK(c.find('/') == std::string::npos);
    FUZZ_CHECK(c.find('\0') == std::string::npos);
    FUZZ_CHECK(c.size() <= 255);
  }
  FUZZ_CHECK(GoClean(GoJoin({mnt, r.path.ToString()})) == r.full_path);
}

}  // namespace kmemguard::fuzz

#endif  // KMEMGUARD_TESTS_FUZZ_FUZZ_COMMON_H_
