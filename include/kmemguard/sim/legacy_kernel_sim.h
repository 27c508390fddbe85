// SPDX-License-Identifier: Apache-2.0
//
// LegacyKernelSim: an in-memory CgroupFs that MODELS the cgroup v1 memory
// hierarchy of a 3.10-era kernel (upstream 3.8-3.10, and RHEL/CentOS 7's
// 3.10.0-xxx, which behaves the same for what is modelled here). It is a
// model, not an emulator: only the behaviour behind the memcg-ID leak of
// Kubernetes issue #61937 is modelled faithfully; usage counters are zero and
// no memory is ever charged. docs/simulation.md lists every rule with its
// source; the short form, with the section of
// ../shared/docs/runc-memory-spec.md ("spec") or the kernel source cited:
//
//  R1 ID space. Every memory cgroup, the root included, holds one 16-bit ID
//     from creation until it is freed: CSS_ID_MAX (65535) in 3.10
//     kernel/cgroup.c, MEM_CGROUP_ID_MAX = USHRT_MAX later (spec §6.3).
//     `id_limit` is configurable. mkdir fails with ENOSPC when no ID is left
//     (spec §6.3, #61937; Linux 6.x reports EBUSY instead, spec §9).
//  R2 Activation. kmem accounting is off per cgroup until a value other than
//     -1 (RESOURCE_MAX) is written to memory.kmem.limit_in_bytes; -1 on an
//     inactive cgroup only sets the limit (3.10 mm/memcontrol.c
//     memcg_update_kmem_limit; spec §2.6, §6.3).
//  R3 EBUSY. That activating write fails with EBUSY when the cgroup has tasks,
//     or has children and use_hierarchy=1 (memcg_update_kmem_limit:
//     cgroup_task_count() || memcg_has_children(); runc's EBUSY text, spec
//     §2.6, §6.3). Writes to an already active cgroup only set the limit.
//  R4 Inheritance. A cgroup created under a kmem-active parent with
//     use_hierarchy=1 starts kmem-active (3.10 memcg_propagate_kmem copies
//     the parent's kmem_account_flags; parent_mem_cgroup() is NULL without
//     use_hierarchy).
//  R5 Zombie. rmdir of a kmem-active cgroup that allocated kernel objects
//     (the model: a task ever joined it, or kernel_objects = kAlways, or
//     MarkKernelObjects) hides the directory but keeps the memcg, and its ID,
//     forever: 3.10 cannot reclaim or reparent per-memcg slab caches, so
//     kmem usage never drops to zero (spec §6.3, RH bugzilla 1507149,
//     runc #1725, kubernetes #61937).
//  R6 Pinned ancestors. With use_hierarchy=1 a child memcg holds a reference
//     on its parent's memcg until the child is freed (3.10
//     mem_cgroup_css_online: mem_cgroup_get(parent); released in
//     __mem_cgroup_put). So a removed cgroup with a zombie descendant is a
//     zombie too. (From the 3.10 source; not measured; see docs.)
//  R7 No other zombies. rmdir of any other cgroup frees its ID at once: 3.10
//     reparents page-cache charges on rmdir (mem_cgroup_reparent_charges),
//     so the page-cache zombies measured on Linux 6.18 (spec §9) are not
//     modelled. memory.force_empty reclaims user pages only and so never
//     prevents a kmem zombie (3.10 mem_cgroup_force_empty excludes kmem
//     usage from its loop).
//  R8 Validation. limit > memsw is EINVAL in either write order
//     (mem_cgroup_resize_limit / _memsw_limit; spec §2.7); limits on the root
//     are EINVAL; sizes are memparse'd ("-1", digits with k/m/g) and page
//     aligned; swappiness > 100 is EINVAL, and swappiness or oom_control
//     writes under a use_hierarchy=1 parent, or with children, are EINVAL
//     (3.10 mem_cgroup_swappiness_write: "If under hierarchy, only
//     empty-root can set this value"); use_hierarchy change with
//     children is EBUSY, under a hierarchical parent EINVAL; rmdir of a
//     cgroup with tasks or children is EBUSY; a missing control file is
//     ENOENT; writing a read-only file is EINVAL.
//  R9 Counting. /proc/cgroups num_cgroups counts every cgroup holding an ID,
//     zombies included (spec §6.3, §9).
//
// Sleep() does not wait. Not thread-safe.

#ifndef KMEMGUARD_SIM_LEGACY_KERNEL_SIM_H_
#define KMEMGUARD_SIM_LEGACY_KERNEL_SIM_H_

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "kmemguard/core/cgroupfs.h"

namespace kmemguard {

// When a kmem-active cgroup counts as having allocated kernel objects (R5).
enum class KernelObjects {
  kWhenTasksJoined,  // once any pid was written to its cgroup.procs
  kAlways,           // as soon as kmem is active
  kNever,            // never: kmem activation alone leaks nothing
};

struct LegacyKernelSimOptions {
  // IDs available, the root's included (R1). 65535 on 3.10.
  uint32_t id_limit = 65535;
  // memory.use_hierarchy of the root. 0 is the kernel default; systemd hosts
  // (RHEL 7) and the kubelet's node set it to 1 before pods exist.
  bool root_use_hierarchy = true;
  // memory.memsw.* files exist (swapaccount=1; RHEL 7 default).
  bool swap_accounting = true;
  KernelObjects kernel_objects = KernelObjects::kWhenTasksJoined;
  // R6; off only to show what the ancestors' share of the leak is.
  bool zombies_pin_parents = true;
  // The errno of mkdir when no ID is left: ENOSPC on 3.10 (IDR), EBUSY on
  // 6.x (xarray; spec §9).
  int exhausted_errno = 28;  // ENOSPC
  // What DisplayPath() prefixes.
  std::string display_root = "/sys/fs/cgroup/memory";
};

// Counters of the simulated memory controller.
struct SimCounters {
  uint32_t ids_in_use = 0;  // visible + zombies, root included
  uint32_t visible = 0;     // directories under the mount, root included
  uint32_t zombies = 0;     // removed but still holding an ID
  uint64_t mkdir_failures = 0;  // mkdirs refused for want of an ID
  uint32_t peak_ids_in_use = 0;
};

class LegacyKernelSim final : public CgroupFs {
 public:
  explicit LegacyKernelSim(LegacyKernelSimOptions options = {});

  // CgroupFs. Errors carry the errno a 3.10 kernel returns (see rules).
  absl::Status MakeDir(const CgroupPath& dir) override;
  absl::Status RemoveDir(const CgroupPath& dir) override;
  absl::StatusOr<std::string> ReadFile(const CgroupPath& dir,
                                       absl::string_view name) override;
  absl::Status WriteFile(const CgroupPath& dir, absl::string_view name,
                         absl::string_view value) override;
  absl::StatusOr<bool> Exists(const CgroupPath& dir,
                              absl::string_view name = {}) override;
  absl::StatusOr<std::vector<std::string>> ListDirs(
      const CgroupPath& dir) override;
  // Counts the sleep; never waits.
  void Sleep(absl::Duration duration) override;
  std::string DisplayPath(const CgroupPath& dir,
                          absl::string_view name = {}) const override;

  // Every task in `dir` exits (its cgroup.procs becomes empty). NotFound
  // when `dir` does not exist.
  absl::Status ExitTasks(const CgroupPath& dir);
  // Records that `dir` allocated kernel objects (R5), whatever
  // `kernel_objects` says. NotFound when `dir` does not exist.
  absl::Status MarkKernelObjects(const CgroupPath& dir);
  // Whether kmem accounting is active on `dir` (R2, R4).
  absl::StatusOr<bool> IsKmemActive(const CgroupPath& dir) const;

  const SimCounters& counters() const { return counters_; }
  const LegacyKernelSimOptions& options() const { return options_; }
  uint64_t sleeps() const { return sleeps_; }
  // /proc/cgroups as a 3.10 kernel prints it, the memory row only.
  std::string ProcCgroups() const;

 private:
  static constexpr uint64_t kResourceMax = 0x7fffffffffffffffULL;
  static constexpr uint32_t kNoNode = 0xffffffffu;

  struct Node {
    uint32_t parent = kNoNode;
    std::string name;
    std::map<std::string, uint32_t, std::less<>> children;
    std::vector<int64_t> tasks;
    uint64_t limit = kResourceMax;
    uint64_t memsw_limit = kResourceMax;
    uint64_t kmem_limit = kResourceMax;
    uint64_t kmem_tcp_limit = kResourceMax;
    uint64_t soft_limit = kResourceMax;
    uint32_t swappiness = 60;
    uint32_t zombie_children = 0;  // zombies pinning this node (R6)
    bool use_hierarchy = false;
    bool oom_kill_disable = false;
    bool kmem_active = false;
    bool kernel_objects = false;
    bool in_use = false;
  };

  // Returns the node of `dir`, or kNoNode.
  uint32_t Find(const CgroupPath& dir) const;
  uint32_t NewNode();
  absl::Status WriteControl(uint32_t index, const CgroupPath& dir,
                            absl::string_view name, absl::string_view value);
  void RemoveTask(int64_t pid);

  LegacyKernelSimOptions options_;
  std::vector<Node> nodes_;  // nodes_[0] is the root
  std::vector<uint32_t> free_nodes_;
  std::unordered_map<int64_t, uint32_t> task_owner_;
  SimCounters counters_;
  uint64_t sleeps_ = 0;
};

}  // namespace kmemguard

#endif  // KMEMGUARD_SIM_LEGACY_KERNEL_SIM_H_
