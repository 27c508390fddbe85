// SPDX-License-Identifier: Apache-2.0
//
// A custom runtime's view of kmemguard: resolve a container's memory cgroup
// from its cgroupsPath, create it with the kmem guard (Apply + Set), read its
// statistics, and remove it.
//
//   custom_runtime /kmemguard-example/ctr-1
//
// Needs root and a cgroup v1 memory hierarchy; exits 77 without them.

#include <unistd.h>

#include <cstdio>
#include <memory>

#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/core/memory.h"
#include "kmemguard/core/paths.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CGROUPS_PATH\n", argv[0]);
    return 2;
  }
  kmemguard::CgroupLocation location;
  location.path = argv[1];
  absl::StatusOr<kmemguard::ResolvedCgroup> where =
      kmemguard::ResolveMemoryCgroupOnHost(location);
  if (!where.ok() || geteuid() != 0) {
    std::fprintf(stderr, "skipped: %s\n",
                 where.ok() ? "not root" : where.status().ToString().c_str());
    return 77;
  }
  auto fs = kmemguard::RealCgroupFs::Open(where->hierarchy_root,
                                          kmemguard::RootCheck::kRequireCgroupfs);
  if (!fs.ok()) {
    std::fprintf(stderr, "%s\n", fs.status().ToString().c_str());
    return 1;
  }
  kmemguard::MemoryController memory(fs->get(), kmemguard::KmemPolicy::kGuarded);

  kmemguard::MemoryResources resources;
  resources.limit_bytes = 64 << 20;
  resources.memsw_limit_bytes = 128 << 20;
  auto created = memory.ApplyAndSet(where->path, resources, /*pid=*/-1);
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
    return 1;
  }
  std::printf("%s %s, kmem accounting %s\n",
              created->apply.created ? "created" : "joined",
              where->full_path.c_str(),
              std::string(kmemguard::KmemActivationName(created->apply.kmem))
                  .c_str());

  auto stats = memory.GetStats(where->path);
  if (!stats.ok()) {
    std::fprintf(stderr, "%s\n", stats.status().ToString().c_str());
    return 1;
  }
  std::printf("limit %llu bytes, usage %llu bytes\n",
              static_cast<unsigned long long>(stats->usage.limit),
              static_cast<unsigned long long>(stats->usage.usage));

  kmemguard::RemoveOptions remove;
  remove.force_empty = true;
  absl::Status removed = memory.Remove(where->path, remove);
  // Remove the parent too when this example created it.
  if (removed.ok() && created->apply.created_dirs.size() > 1) {
    removed = memory.Remove(created->apply.created_dirs.front(), remove);
  }
  if (!removed.ok()) {
    std::fprintf(stderr, "%s\n", removed.ToString().c_str());
    return 1;
  }
  std::printf("removed\n");
  return 0;
}
