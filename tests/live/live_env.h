// SPDX-License-Identifier: Apache-2.0
//
// The live tests' environment: the real v1 memory hierarchy and a uniquely
// named scratch parent in it, created by live_main.cc before any test runs
// and removed after the last one (also when tests fail). Tests create their
// cgroups only below the scratch parent.

#ifndef KMEMGUARD_TESTS_LIVE_ENV_H_
#define KMEMGUARD_TESTS_LIVE_ENV_H_

#include <string>

#include "kmemguard/core/cgroupfs.h"

namespace kmemguard::live {

inline constexpr char kMemoryMount[] = "/sys/fs/cgroup/memory";

// The scratch parent's path relative to kMemoryMount.
const CgroupPath& Scratch();
// A fresh child path of the scratch parent, unique per call.
CgroupPath FreshChild(const std::string& hint);
// The memory row of /proc/cgroups: num_cgroups.
long MemoryCgroupsInUse();
// Directories under the memory mount (the visible cgroups).
long VisibleMemoryCgroups();
// Reads a file of the real hierarchy ("" when missing).
std::string ReadMemoryFile(const std::string& rel);

}  // namespace kmemguard::live

#endif  // KMEMGUARD_TESTS_LIVE_ENV_H_
