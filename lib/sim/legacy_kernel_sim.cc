// SPDX-License-Identifier: Apache-2.0
//
// The rules R1..R9 are listed, with their sources, in legacy_kernel_sim.h and
// docs/simulation.md; the comments below name the rule each branch models.
// Over 500 lines on purpose: one model of one kernel's memory controller,
// whose rules refer to each other; WriteControl is one switch over the
// control files, as mem_cgroup_write and its siblings are in 3.10.

#include "kmemguard/sim/legacy_kernel_sim.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "kmemguard/core/status.h"

namespace kmemguard {
namespace {

// The control files of a 3.10 memory cgroup (Documentation/cgroups/memory.txt
// of 3.10, section 2-5 "Files"; plus the cgroup core's files).
enum class File {
  kCloneChildren,
  kEventControl,
  kProcs,
  kSaneBehavior,  // root only
  kFailcnt,
  kForceEmpty,
  kKmemFailcnt,
  kKmemLimit,
  kKmemMaxUsage,
  kKmemSlabinfo,
  kKmemTcpFailcnt,
  kKmemTcpLimit,
  kKmemTcpMaxUsage,
  kKmemTcpUsage,
  kKmemUsage,
  kLimit,
  kMaxUsage,
  kMemswFailcnt,
  kMemswLimit,
  kMemswMaxUsage,
  kMemswUsage,
  kMoveChargeAtImmigrate,
  kNumaStat,
  kOomControl,
  kPressureLevel,
  kSoftLimit,
  kStat,
  kSwappiness,
  kUsage,
  kUseHierarchy,
  kNotifyOnRelease,
  kReleaseAgent,  // root only
  kTasks,
};

struct FileEntry {
  absl::string_view name;
  File file;
};

// Sorted by name for binary search.
constexpr FileEntry kFiles[] = {
    {"cgroup.clone_children", File::kCloneChildren},
    {"cgroup.event_control", File::kEventControl},
    {"cgroup.procs", File::kProcs},
    {"cgroup.sane_behavior", File::kSaneBehavior},
    {"memory.failcnt", File::kFailcnt},
    {"memory.force_empty", File::kForceEmpty},
    {"memory.kmem.failcnt", File::kKmemFailcnt},
    {"memory.kmem.limit_in_bytes", File::kKmemLimit},
    {"memory.kmem.max_usage_in_bytes", File::kKmemMaxUsage},
    {"memory.kmem.slabinfo", File::kKmemSlabinfo},
    {"memory.kmem.tcp.failcnt", File::kKmemTcpFailcnt},
    {"memory.kmem.tcp.limit_in_bytes", File::kKmemTcpLimit},
    {"memory.kmem.tcp.max_usage_in_bytes", File::kKmemTcpMaxUsage},
    {"memory.kmem.tcp.usage_in_bytes", File::kKmemTcpUsage},
    {"memory.kmem.usage_in_bytes", File::kKmemUsage},
    {"memory.limit_in_bytes", File::kLimit},
    {"memory.max_usage_in_bytes", File::kMaxUsage},
    {"memory.memsw.failcnt", File::kMemswFailcnt},
    {"memory.memsw.limit_in_bytes", File::kMemswLimit},
    {"memory.memsw.max_usage_in_bytes", File::kMemswMaxUsage},
    {"memory.memsw.usage_in_bytes", File::kMemswUsage},
    {"memory.move_charge_at_immigrate", File::kMoveChargeAtImmigrate},
    {"memory.numa_stat", File::kNumaStat},
    {"memory.oom_control", File::kOomControl},
    {"memory.pressure_level", File::kPressureLevel},
    {"memory.soft_limit_in_bytes", File::kSoftLimit},
    {"memory.stat", File::kStat},
    {"memory.swappiness", File::kSwappiness},
    {"memory.usage_in_bytes", File::kUsage},
    {"memory.use_hierarchy", File::kUseHierarchy},
    {"notify_on_release", File::kNotifyOnRelease},
    {"release_agent", File::kReleaseAgent},
    {"tasks", File::kTasks},
};

bool IsMemsw(File f) {
  return f == File::kMemswFailcnt || f == File::kMemswLimit ||
         f == File::kMemswMaxUsage || f == File::kMemswUsage;
}

// Returns the file `name` names in a cgroup (root or not), or nullptr.
const FileEntry* LookupFile(absl::string_view name, bool is_root,
                            bool swap_accounting) {
  const FileEntry* end = kFiles + sizeof(kFiles) / sizeof(kFiles[0]);
  const FileEntry* it = std::lower_bound(
      kFiles, end, name,
      [](const FileEntry& e, absl::string_view n) { return e.name < n; });
  if (it == end || it->name != name) return nullptr;
  if (!is_root &&
      (it->file == File::kSaneBehavior || it->file == File::kReleaseAgent)) {
    return nullptr;
  }
  if (!swap_accounting && IsMemsw(it->file)) return nullptr;
  return it;
}

constexpr uint64_t kPageSize = 4096;

// 3.10 res_counter_memparse_write_strategy: "-1" is unlimited; otherwise
// memparse (base-0 number, optional K/M/G/T/P/E suffix), page aligned.
bool ParseMemparse(absl::string_view text, uint64_t resource_max,
                   uint64_t* out) {
  if (text == "-1") {
    *out = resource_max;
    return true;
  }
  if (text.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(text[0])))
    return false;
  size_t digits = 0;
  while (digits < text.size() &&
         absl::ascii_isdigit(static_cast<unsigned char>(text[digits]))) {
    ++digits;
  }
  uint64_t value = 0;
  if (!absl::SimpleAtoi(text.substr(0, digits), &value)) return false;
  absl::string_view rest = text.substr(digits);
  int shift = 0;
  if (!rest.empty()) {
    switch (absl::ascii_tolower(static_cast<unsigned char>(rest[0]))) {
      case 'e': shift += 10; [[fallthrough]];
      case 'p': shift += 10; [[fallthrough]];
      case 't': shift += 10; [[fallthrough]];
      case 'g': shift += 10; [[fallthrough]];
      case 'm': shift += 10; [[fallthrough]];
      case 'k': shift += 10; break;
      default: return false;
    }
    if (rest.size() != 1) return false;
  }
  if (shift > 0) {
    if (value > (resource_max >> shift)) {
      value = resource_max;
    } else {
      value <<= shift;
    }
  }
  if (value > resource_max - (kPageSize - 1)) {
    value = resource_max;
  } else {
    value = (value + kPageSize - 1) / kPageSize * kPageSize;
  }
  *out = value;
  return true;
}

// The cgroup core's write_u64 handlers: the whole (stripped) text must be a
// number (simple_strtoull with base 0 in 3.10; decimal here).
bool ParseU64(absl::string_view text, uint64_t* out) {
  if (text.empty() || text[0] == '-' || text[0] == '+') return false;
  return absl::SimpleAtoi(text, out);
}

}  // namespace

LegacyKernelSim::LegacyKernelSim(LegacyKernelSimOptions options)
    : options_(std::move(options)) {
  nodes_.emplace_back();
  Node& root = nodes_[0];
  root.in_use = true;
  root.use_hierarchy = options_.root_use_hierarchy;
  counters_.ids_in_use = 1;
  counters_.visible = 1;
  counters_.peak_ids_in_use = 1;
}

uint32_t LegacyKernelSim::Find(const CgroupPath& dir) const {
  uint32_t index = 0;
  for (const std::string& c : dir.components()) {
    const auto& children = nodes_[index].children;
    auto it = children.find(c);
    if (it == children.end()) return kNoNode;
    index = it->second;
  }
  return index;
}

uint32_t LegacyKernelSim::NewNode() {
  if (!free_nodes_.empty()) {
    uint32_t index = free_nodes_.back();
    free_nodes_.pop_back();
    nodes_[index] = Node();
    return index;
  }
  nodes_.emplace_back();
  return static_cast<uint32_t>(nodes_.size() - 1);
}

std::string LegacyKernelSim::DisplayPath(const CgroupPath& dir,
                                         absl::string_view name) const {
  std::string out = options_.display_root;
  for (const std::string& c : dir.components()) absl::StrAppend(&out, "/", c);
  if (!name.empty()) absl::StrAppend(&out, "/", name);
  return out;
}

void LegacyKernelSim::Sleep(absl::Duration) { ++sleeps_; }

absl::Status LegacyKernelSim::MakeDir(const CgroupPath& dir) {
  if (dir.IsRoot()) return ErrnoError(EEXIST, "mkdir", DisplayPath(dir));
  uint32_t parent = Find(dir.Parent());
  if (parent == kNoNode) return ErrnoError(ENOENT, "mkdir", DisplayPath(dir));
  std::string leaf(dir.Leaf());
  if (nodes_[parent].children.count(leaf) != 0) {
    return ErrnoError(EEXIST, "mkdir", DisplayPath(dir));
  }
  // R1: one ID per memory cgroup, zombies included.
  if (counters_.ids_in_use >= options_.id_limit) {
    ++counters_.mkdir_failures;
    return ErrnoError(options_.exhausted_errno, "mkdir", DisplayPath(dir));
  }
  uint32_t index = NewNode();
  Node& p = nodes_[parent];  // after NewNode: nodes_ may have moved
  Node& n = nodes_[index];
  n.in_use = true;
  n.parent = parent;
  n.name = leaf;
  // 3.10 mem_cgroup_css_online copies use_hierarchy, oom_kill_disable and
  // swappiness from the parent.
  n.use_hierarchy = p.use_hierarchy;
  n.oom_kill_disable = p.oom_kill_disable;
  n.swappiness = p.swappiness;
  // R4: memcg_propagate_kmem, only through a hierarchical parent.
  n.kmem_active = p.use_hierarchy && p.kmem_active;
  p.children.emplace(std::move(leaf), index);
  ++counters_.ids_in_use;
  ++counters_.visible;
  counters_.peak_ids_in_use =
      std::max(counters_.peak_ids_in_use, counters_.ids_in_use);
  return absl::OkStatus();
}

absl::Status LegacyKernelSim::RemoveDir(const CgroupPath& dir) {
  uint32_t index = Find(dir);
  if (index == kNoNode) return ErrnoError(ENOENT, "rmdir", DisplayPath(dir));
  // R8: the cgroup core refuses rmdir with tasks or children.
  if (dir.IsRoot() || !nodes_[index].tasks.empty() ||
      !nodes_[index].children.empty()) {
    return ErrnoError(EBUSY, "rmdir", DisplayPath(dir));
  }
  Node& n = nodes_[index];
  Node& parent = nodes_[n.parent];
  // R5 (kmem zombie) and R6 (pinned by a zombie descendant).
  const bool objects = n.kernel_objects ||
                       options_.kernel_objects == KernelObjects::kAlways;
  bool zombie = (n.kmem_active && objects) ||
                (options_.zombies_pin_parents && n.zombie_children > 0);
  parent.children.erase(n.name);
  --counters_.visible;
  if (zombie) {
    ++counters_.zombies;
    // The child holds its parent's memcg only when the parent was
    // hierarchical at creation; use_hierarchy cannot change once it has
    // children, so the parent's current value is that value.
    if (parent.use_hierarchy) ++parent.zombie_children;
  } else {
    --counters_.ids_in_use;
  }
  // The node's record is no longer needed: a zombie is only a count.
  n.in_use = false;
  free_nodes_.push_back(index);
  return absl::OkStatus();
}

absl::StatusOr<bool> LegacyKernelSim::Exists(const CgroupPath& dir,
                                             absl::string_view name) {
  uint32_t index = Find(dir);
  if (name.empty()) return index != kNoNode;
  if (index == kNoNode) return ErrnoError(ENOENT, "open", DisplayPath(dir));
  return LookupFile(name, dir.IsRoot(), options_.swap_accounting) != nullptr;
}

absl::StatusOr<std::vector<std::string>> LegacyKernelSim::ListDirs(
    const CgroupPath& dir) {
  uint32_t index = Find(dir);
  if (index == kNoNode) return ErrnoError(ENOENT, "open", DisplayPath(dir));
  std::vector<std::string> out;
  out.reserve(nodes_[index].children.size());
  for (const auto& [name, child] : nodes_[index].children) {
    out.push_back(name);
  }
  return out;  // std::map keeps them sorted
}

absl::StatusOr<std::string> LegacyKernelSim::ReadFile(const CgroupPath& dir,
                                                      absl::string_view name) {
  uint32_t index = Find(dir);
  if (index == kNoNode) {
    return ErrnoError(ENOENT, "open", DisplayPath(dir, name));
  }
  const FileEntry* entry =
      LookupFile(name, dir.IsRoot(), options_.swap_accounting);
  if (entry == nullptr) {
    return ErrnoError(ENOENT, "open", DisplayPath(dir, name));
  }
  const Node& n = nodes_[index];
  auto line = [](uint64_t v) { return absl::StrCat(v, "\n"); };
  switch (entry->file) {
    case File::kLimit: return line(n.limit);
    case File::kMemswLimit: return line(n.memsw_limit);
    case File::kKmemLimit: return line(n.kmem_limit);
    case File::kKmemTcpLimit: return line(n.kmem_tcp_limit);
    case File::kSoftLimit: return line(n.soft_limit);
    case File::kUsage: case File::kMaxUsage: case File::kFailcnt:
    case File::kMemswUsage: case File::kMemswMaxUsage:
    case File::kMemswFailcnt: case File::kKmemUsage:
    case File::kKmemMaxUsage: case File::kKmemFailcnt:
    case File::kKmemTcpUsage: case File::kKmemTcpMaxUsage:
    case File::kKmemTcpFailcnt:
      // Nothing is ever charged in the model.
      return std::string("0\n");
    case File::kSwappiness: return line(n.swappiness);
    case File::kUseHierarchy: return line(n.use_hierarchy ? 1 : 0);
    case File::kOomControl:
      return absl::StrCat("oom_kill_disable ", n.oom_kill_disable ? 1 : 0,
                          "\nunder_oom 0\n");
    case File::kMoveChargeAtImmigrate: case File::kCloneChildren:
    case File::kNotifyOnRelease: case File::kSaneBehavior:
      return std::string("0\n");
    case File::kReleaseAgent: return std::string("\n");
    case File::kProcs: case File::kTasks: {
      std::string out;
      for (int64_t pid : n.tasks) absl::StrAppend(&out, pid, "\n");
      return out;
    }
    case File::kKmemSlabinfo:
      // 3.10 mem_cgroup_slabinfo_read: EIO unless kmem is active.
      if (!n.kmem_active) {
        return ErrnoError(EIO, "read", DisplayPath(dir, name));
      }
      return std::string(
          "slabinfo - version: 2.1\n# name            <active_objs> "
          "<num_objs> <objsize> <objperslab> <pagesperslab> : tunables "
          "<limit> <batchcount> <sharedfactor> : slabdata <active_slabs> "
          "<num_slabs> <sharedavail>\n");
    case File::kNumaStat:
      return std::string(
          "total=0 N0=0\nfile=0 N0=0\nanon=0 N0=0\nunevictable=0 N0=0\n");
    case File::kStat: {
      // 3.10 memcg_stat_show: local counters, hierarchical limits, totals.
      uint64_t limit = n.limit, memsw = n.memsw_limit;
      for (uint32_t i = index; nodes_[i].parent != kNoNode &&
                               nodes_[nodes_[i].parent].use_hierarchy;) {
        i = nodes_[i].parent;
        limit = std::min(limit, nodes_[i].limit);
        memsw = std::min(memsw, nodes_[i].memsw_limit);
      }
      static constexpr const char* kKeys[] = {
          "cache", "rss", "rss_huge", "mapped_file", "swap", "pgpgin",
          "pgpgout", "pgfault", "pgmajfault", "inactive_anon", "active_anon",
          "inactive_file", "active_file", "unevictable"};
      std::string out;
      for (const char* k : kKeys) {
        if (!options_.swap_accounting && absl::string_view(k) == "swap")
          continue;
        absl::StrAppend(&out, k, " 0\n");
      }
      absl::StrAppend(&out, "hierarchical_memory_limit ", limit, "\n");
      if (options_.swap_accounting) {
        absl::StrAppend(&out, "hierarchical_memsw_limit ", memsw, "\n");
      }
      for (const char* k : kKeys) {
        if (!options_.swap_accounting && absl::string_view(k) == "swap")
          continue;
        absl::StrAppend(&out, "total_", k, " 0\n");
      }
      return out;
    }
    case File::kForceEmpty: case File::kEventControl:
    case File::kPressureLevel:
      // No read handler: the cgroup core answers EINVAL.
      return ErrnoError(EINVAL, "read", DisplayPath(dir, name));
  }
  return ErrnoError(EINVAL, "read", DisplayPath(dir, name));
}

absl::Status LegacyKernelSim::WriteFile(const CgroupPath& dir,
                                        absl::string_view name,
                                        absl::string_view value) {
  uint32_t index = Find(dir);
  if (index == kNoNode) {
    return ErrnoError(ENOENT, "open", DisplayPath(dir, name), value);
  }
  return WriteControl(index, dir, name, value);
}

void LegacyKernelSim::RemoveTask(int64_t pid) {
  auto it = task_owner_.find(pid);
  if (it == task_owner_.end()) return;
  std::vector<int64_t>& tasks = nodes_[it->second].tasks;
  tasks.erase(std::find(tasks.begin(), tasks.end(), pid));
  task_owner_.erase(it);
}

absl::Status LegacyKernelSim::WriteControl(uint32_t index,
                                           const CgroupPath& dir,
                                           absl::string_view name,
                                           absl::string_view value) {
  const bool is_root = dir.IsRoot();
  const FileEntry* entry = LookupFile(name, is_root, options_.swap_accounting);
  auto fail = [&](int err) {
    return ErrnoError(err, "write", DisplayPath(dir, name), value);
  };
  if (entry == nullptr) {
    return ErrnoError(ENOENT, "open", DisplayPath(dir, name), value);
  }
  // The cgroup core strips the buffer before the handler sees it.
  absl::string_view text = absl::StripAsciiWhitespace(value);
  Node& n = nodes_[index];
  const Node* parent = n.parent == kNoNode ? nullptr : &nodes_[n.parent];
  const bool has_children = !n.children.empty();
  uint64_t v = 0;
  switch (entry->file) {
    case File::kLimit:
    case File::kMemswLimit:
    case File::kKmemLimit:
    case File::kKmemTcpLimit:
    case File::kSoftLimit: {
      if (!ParseMemparse(text, kResourceMax, &v)) return fail(EINVAL);
      // R8: mem_cgroup_write refuses limits on the root.
      if (is_root && entry->file != File::kSoftLimit) return fail(EINVAL);
      switch (entry->file) {
        case File::kLimit:
          // R8: mem_cgroup_resize_limit keeps limit <= memsw.
          if (v > n.memsw_limit) return fail(EINVAL);
          n.limit = v;
          return absl::OkStatus();
        case File::kMemswLimit:
          if (v < n.limit) return fail(EINVAL);
          n.memsw_limit = v;
          return absl::OkStatus();
        case File::kKmemLimit:
          // R2/R3: memcg_update_kmem_limit. Only a value other than
          // RESOURCE_MAX activates, and only while the cgroup is empty.
          if (!n.kmem_active && v != kResourceMax) {
            if (!n.tasks.empty() || (n.use_hierarchy && has_children)) {
              return fail(EBUSY);
            }
            n.kmem_active = true;
          }
          n.kmem_limit = v;
          return absl::OkStatus();
        case File::kKmemTcpLimit:
          n.kmem_tcp_limit = v;
          return absl::OkStatus();
        default:
          n.soft_limit = v;
          return absl::OkStatus();
      }
    }
    case File::kProcs:
    case File::kTasks: {
      if (!ParseU64(text, &v) || v > 0x7fffffffULL) return fail(EINVAL);
      int64_t pid = static_cast<int64_t>(v);
      RemoveTask(pid);
      n.tasks.push_back(pid);
      task_owner_.emplace(pid, index);
      // R5: a task in a kmem-active cgroup allocates kernel objects charged
      // to it (dentries, inodes, sockets: per-memcg slab caches).
      if (n.kmem_active &&
          options_.kernel_objects == KernelObjects::kWhenTasksJoined) {
        n.kernel_objects = true;
      }
      return absl::OkStatus();
    }
    case File::kSwappiness:
      if (!ParseU64(text, &v) || v > 100 || is_root) return fail(EINVAL);
      // 3.10 mem_cgroup_swappiness_write: "If under hierarchy, only
      // empty-root can set this value".
      if (parent->use_hierarchy || (n.use_hierarchy && has_children)) {
        return fail(EINVAL);
      }
      n.swappiness = static_cast<uint32_t>(v);
      return absl::OkStatus();
    case File::kOomControl:
      // 3.10 mem_cgroup_oom_control_write: same restriction.
      if (!ParseU64(text, &v) || v > 1 || is_root) return fail(EINVAL);
      if (parent->use_hierarchy || (n.use_hierarchy && has_children)) {
        return fail(EINVAL);
      }
      n.oom_kill_disable = v == 1;
      return absl::OkStatus();
    case File::kUseHierarchy:
      // 3.10 mem_cgroup_hierarchy_write.
      if (!ParseU64(text, &v) || v > 1) return fail(EINVAL);
      if ((v == 1) == n.use_hierarchy) return absl::OkStatus();
      if (parent != nullptr && parent->use_hierarchy) return fail(EINVAL);
      if (has_children) return fail(EBUSY);
      n.use_hierarchy = v == 1;
      return absl::OkStatus();
    case File::kForceEmpty:
      // R7: 3.10 mem_cgroup_force_empty reclaims user pages only; kmem
      // charges stay, so a later rmdir is still a zombie.
      if (is_root) return fail(EINVAL);
      if (!n.tasks.empty() || has_children) return fail(EBUSY);
      return absl::OkStatus();
    case File::kMoveChargeAtImmigrate:
      if (!ParseU64(text, &v) || v > 3) return fail(EINVAL);
      return absl::OkStatus();
    case File::kFailcnt: case File::kMaxUsage: case File::kMemswFailcnt:
    case File::kMemswMaxUsage: case File::kKmemFailcnt:
    case File::kKmemMaxUsage: case File::kKmemTcpFailcnt:
    case File::kKmemTcpMaxUsage:
      // mem_cgroup_reset: any write resets the counter.
      return absl::OkStatus();
    case File::kCloneChildren: case File::kNotifyOnRelease:
      if (!ParseU64(text, &v)) return fail(EINVAL);
      return absl::OkStatus();
    case File::kReleaseAgent:
      return absl::OkStatus();
    case File::kEventControl:  // needs an eventfd, which the model lacks
    case File::kUsage: case File::kMemswUsage: case File::kKmemUsage:
    case File::kKmemTcpUsage: case File::kStat: case File::kNumaStat:
    case File::kKmemSlabinfo: case File::kPressureLevel:
    case File::kSaneBehavior:
      // No write handler: EINVAL from the cgroup core.
      return fail(EINVAL);
  }
  return fail(EINVAL);
}

absl::Status LegacyKernelSim::ExitTasks(const CgroupPath& dir) {
  uint32_t index = Find(dir);
  if (index == kNoNode) {
    return absl::NotFoundError(
        absl::StrCat("cgroup ", DisplayPath(dir), " does not exist"));
  }
  for (int64_t pid : nodes_[index].tasks) task_owner_.erase(pid);
  nodes_[index].tasks.clear();
  return absl::OkStatus();
}

absl::Status LegacyKernelSim::MarkKernelObjects(const CgroupPath& dir) {
  uint32_t index = Find(dir);
  if (index == kNoNode) {
    return absl::NotFoundError(
        absl::StrCat("cgroup ", DisplayPath(dir), " does not exist"));
  }
  nodes_[index].kernel_objects = true;
  return absl::OkStatus();
}

absl::StatusOr<bool> LegacyKernelSim::IsKmemActive(
    const CgroupPath& dir) const {
  uint32_t index = Find(dir);
  if (index == kNoNode) {
    return absl::NotFoundError(
        absl::StrCat("cgroup ", DisplayPath(dir), " does not exist"));
  }
  return nodes_[index].kmem_active;
}

std::string LegacyKernelSim::ProcCgroups() const {
  // R9: num_cgroups counts every cgroup holding an ID (3.10
  // proc_cgroupstats_show prints root->number_of_cgroups).
  return absl::StrCat("#subsys_name\thierarchy\tnum_cgroups\tenabled\n",
                      "memory\t1\t", counters_.ids_in_use, "\t1\n");
}

}  // namespace kmemguard
