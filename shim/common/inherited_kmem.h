// SPDX-License-Identifier: Apache-2.0
//
// Is kmem accounting already active above a container's cgroup? Asked by
// the runtime before it creates a cgroup (a guard cannot help a cgroup that
// inherits accounting) and by the hook after the runtime did. In the shared
// part so that neither program includes the other's headers.

#ifndef KMEMGUARD_SHIM_COMMON_INHERITED_KMEM_H_
#define KMEMGUARD_SHIM_COMMON_INHERITED_KMEM_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "kmemguard/core/cgroupfs.h"

namespace kmemguard::shim {

// Whether a kernel release is one where kmem accounting is off until a
// kmem limit is written (before 4.6, b313aeee2509), i.e. where inheritance
// from an accounted parent leaks IDs.
bool KmemOptInKernel(absl::string_view release);

// Returns the ancestors of `path` (nearest first; `path` itself first with
// `include_self`) that have kmem accounting
// active (core's one check, InspectKmemState in kmemguard/core/memcg.h)
// and memory.use_hierarchy = 1.
std::vector<std::string> AccountedAncestors(CgroupFs& fs,
                                            const CgroupPath& path,
                                            bool include_self = false);

}  // namespace kmemguard::shim

#endif  // KMEMGUARD_SHIM_COMMON_INHERITED_KMEM_H_
