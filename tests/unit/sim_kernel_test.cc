// SPDX-License-Identifier: Apache-2.0
//
// LegacyKernelSim: each rule of the 3.10 model (R1..R9 in
// legacy_kernel_sim.h, docs/simulation.md), and MemoryController running on
// it under each kmem policy.

#include <cerrno>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/sim/legacy_kernel_sim.h"
#include "kmemguard/core/memory.h"
#include "kmemguard/core/resources.h"
#include "kmemguard/core/status.h"
#include "testing/status_matchers.h"

namespace kmemguard {
namespace {

CgroupPath P(const char* text) {
  absl::StatusOr<CgroupPath> p = CgroupPath::Parse(text);
  REQUIRE(p.ok());
  return *p;
}

int Errno(const absl::Status& s) { return ErrnoOf(s).value_or(0); }

// Activates kmem the way runc does (spec §2.6).
void Activate(LegacyKernelSim& sim, const CgroupPath& p) {
  REQUIRE_OK(sim.WriteFile(p, kKmemLimitInBytes, "1"));
  REQUIRE_OK(sim.WriteFile(p, kKmemLimitInBytes, "-1"));
}

TEST_CASE("sim: mkdir fails with ENOSPC once every memcg ID is used (R1)",
          "[unit]") {
  LegacyKernelSimOptions o;
  o.id_limit = 4;  // the root and three more
  LegacyKernelSim sim(o);
  REQUIRE_OK(sim.MakeDir(P("a")));
  REQUIRE_OK(sim.MakeDir(P("b")));
  REQUIRE_OK(sim.MakeDir(P("c")));
  absl::Status s = sim.MakeDir(P("d"));
  CHECK(Errno(s) == ENOSPC);
  CHECK(absl::StrContains(s.message(), "/sys/fs/cgroup/memory/d"));
  CHECK(sim.counters().ids_in_use == 4);
  CHECK(sim.counters().mkdir_failures == 1);
  // An rmdir without a zombie frees the ID at once (R7).
  REQUIRE_OK(sim.RemoveDir(P("c")));
  CHECK_OK(sim.MakeDir(P("d")));
  CHECK(absl::StrContains(sim.ProcCgroups(), "memory\t1\t4\t1"));
}

TEST_CASE("sim: the exhausted errno is configurable (EBUSY on 6.x)",
          "[unit]") {
  LegacyKernelSimOptions o;
  o.id_limit = 1;
  o.exhausted_errno = EBUSY;
  LegacyKernelSim sim(o);
  CHECK(Errno(sim.MakeDir(P("a"))) == EBUSY);
}

TEST_CASE("sim: mkdir reports EEXIST and ENOENT like the kernel", "[unit]") {
  LegacyKernelSim sim;
  REQUIRE_OK(sim.MakeDir(P("a")));
  CHECK(Errno(sim.MakeDir(P("a"))) == EEXIST);
  CHECK(Errno(sim.MakeDir(P("x/y"))) == ENOENT);
  CHECK(Errno(sim.MakeDir(CgroupPath())) == EEXIST);
}

TEST_CASE("sim: a kmem write activates accounting, -1 alone does not (R2)",
          "[unit]") {
  LegacyKernelSim sim;
  REQUIRE_OK(sim.MakeDir(P("a")));
  REQUIRE_OK(sim.WriteFile(P("a"), kKmemLimitInBytes, "-1"));
  CHECK_FALSE(*sim.IsKmemActive(P("a")));
  CHECK(Errno(sim.ReadFile(P("a"), "memory.kmem.slabinfo").status()) == EIO);
  REQUIRE_OK(sim.WriteFile(P("a"), kKmemLimitInBytes, "1"));
  CHECK(*sim.IsKmemActive(P("a")));
  // Page aligned, as res_counter_memparse_write_strategy does.
  CHECK(*sim.ReadFile(P("a"), kKmemLimitInBytes) == "4096\n");
  REQUIRE_OK(sim.WriteFile(P("a"), kKmemLimitInBytes, "-1"));
  CHECK(*sim.ReadFile(P("a"), kKmemLimitInBytes) ==
        "9223372036854775807\n");
  CHECK_OK(sim.ReadFile(P("a"), "memory.kmem.slabinfo"));
}

TEST_CASE("sim: the activating kmem write is EBUSY with tasks (R3)",
          "[unit]") {
  LegacyKernelSim sim;
  REQUIRE_OK(sim.MakeDir(P("a")));
  REQUIRE_OK(sim.WriteFile(P("a"), kCgroupProcs, "1234"));
  CHECK(Errno(sim.WriteFile(P("a"), kKmemLimitInBytes, "1")) == EBUSY);
  CHECK_FALSE(*sim.IsKmemActive(P("a")));
  // Once the tasks are gone the write succeeds.
  REQUIRE_OK(sim.ExitTasks(P("a")));
  CHECK_OK(sim.WriteFile(P("a"), kKmemLimitInBytes, "1"));
}

TEST_CASE("sim: the activating kmem write is EBUSY with children only under "
          "use_hierarchy=1 (R3)", "[unit]") {
  SECTION("hierarchical") {
    LegacyKernelSim sim;  // root use_hierarchy=1, inherited
    REQUIRE_OK(sim.MakeDir(P("a")));
    REQUIRE_OK(sim.MakeDir(P("a/b")));
    CHECK(Errno(sim.WriteFile(P("a"), kKmemLimitInBytes, "1")) == EBUSY);
  }
  SECTION("flat") {
    LegacyKernelSimOptions o;
    o.root_use_hierarchy = false;
    LegacyKernelSim sim(o);
    REQUIRE_OK(sim.MakeDir(P("a")));
    REQUIRE_OK(sim.MakeDir(P("a/b")));
    CHECK_OK(sim.WriteFile(P("a"), kKmemLimitInBytes, "1"));
  }
  SECTION("an already active cgroup takes any limit") {
    LegacyKernelSim sim;
    REQUIRE_OK(sim.MakeDir(P("a")));
    Activate(sim, P("a"));
    REQUIRE_OK(sim.MakeDir(P("a/b")));
    REQUIRE_OK(sim.WriteFile(P("a"), kCgroupProcs, "7"));
    CHECK_OK(sim.WriteFile(P("a"), kKmemLimitInBytes, "1g"));
    CHECK(*sim.ReadFile(P("a"), kKmemLimitInBytes) == "1073741824\n");
  }
}

TEST_CASE("sim: a child of an active hierarchical parent starts active (R4)",
          "[unit]") {
  SECTION("use_hierarchy=1") {
    LegacyKernelSim sim;
    REQUIRE_OK(sim.MakeDir(P("a")));
    Activate(sim, P("a"));
    REQUIRE_OK(sim.MakeDir(P("a/b")));
    CHECK(*sim.IsKmemActive(P("a/b")));
    // Its own activating write is then no longer needed: with a task in
    // it, a limit write succeeds.
    REQUIRE_OK(sim.WriteFile(P("a/b"), kCgroupProcs, "1"));
    CHECK_OK(sim.WriteFile(P("a/b"), kKmemLimitInBytes, "1"));
  }
  SECTION("use_hierarchy=0") {
    LegacyKernelSimOptions o;
    o.root_use_hierarchy = false;
    LegacyKernelSim sim(o);
    REQUIRE_OK(sim.MakeDir(P("a")));
    Activate(sim, P("a"));
    REQUIRE_OK(sim.MakeDir(P("a/b")));
    CHECK_FALSE(*sim.IsKmemActive(P("a/b")));
  }
}

TEST_CASE("sim: removing an active cgroup that had tasks leaves a zombie "
          "holding its ID (R5, R9)", "[unit]") {
  LegacyKernelSim sim;
  REQUIRE_OK(sim.MakeDir(P("a")));
  Activate(sim, P("a"));
  REQUIRE_OK(sim.WriteFile(P("a"), kCgroupProcs, "42"));
  CHECK(Errno(sim.RemoveDir(P("a"))) == EBUSY);  // tasks: rmdir refused
  REQUIRE_OK(sim.ExitTasks(P("a")));
  REQUIRE_OK(sim.RemoveDir(P("a")));
  CHECK_FALSE(*sim.Exists(P("a")));
  CHECK(sim.counters().zombies == 1);
  CHECK(sim.counters().visible == 1);
  CHECK(sim.counters().ids_in_use == 2);
  CHECK(absl::StrContains(sim.ProcCgroups(), "memory\t1\t2\t1"));
  // The name is free again, the ID is not.
  REQUIRE_OK(sim.MakeDir(P("a")));
  CHECK(sim.counters().ids_in_use == 3);
}

TEST_CASE("sim: no zombie without kmem, or without kernel objects (R5, R7)",
          "[unit]") {
  LegacyKernelSim sim;
  // Tasks but no kmem.
  REQUIRE_OK(sim.MakeDir(P("a")));
  REQUIRE_OK(sim.WriteFile(P("a"), kCgroupProcs, "1"));
  REQUIRE_OK(sim.ExitTasks(P("a")));
  REQUIRE_OK(sim.RemoveDir(P("a")));
  // kmem but never a task.
  REQUIRE_OK(sim.MakeDir(P("b")));
  Activate(sim, P("b"));
  REQUIRE_OK(sim.RemoveDir(P("b")));
  // Tasks that left before activation allocated nothing charged to it.
  REQUIRE_OK(sim.MakeDir(P("c")));
  REQUIRE_OK(sim.WriteFile(P("c"), kCgroupProcs, "2"));
  REQUIRE_OK(sim.ExitTasks(P("c")));
  Activate(sim, P("c"));
  REQUIRE_OK(sim.RemoveDir(P("c")));
  CHECK(sim.counters().zombies == 0);
  CHECK(sim.counters().ids_in_use == 1);
}

TEST_CASE("sim: kernel-object modes and MarkKernelObjects (R5)", "[unit]") {
  SECTION("kAlways: activation alone leaks") {
    LegacyKernelSimOptions o;
    o.kernel_objects = KernelObjects::kAlways;
    LegacyKernelSim sim(o);
    REQUIRE_OK(sim.MakeDir(P("a")));
    Activate(sim, P("a"));
    REQUIRE_OK(sim.RemoveDir(P("a")));
    CHECK(sim.counters().zombies == 1);
  }
  SECTION("kNever: tasks leak nothing unless marked") {
    LegacyKernelSimOptions o;
    o.kernel_objects = KernelObjects::kNever;
    LegacyKernelSim sim(o);
    REQUIRE_OK(sim.MakeDir(P("a")));
    REQUIRE_OK(sim.MakeDir(P("b")));
    Activate(sim, P("a"));
    Activate(sim, P("b"));
    REQUIRE_OK(sim.WriteFile(P("a"), kCgroupProcs, "1"));
    REQUIRE_OK(sim.ExitTasks(P("a")));
    REQUIRE_OK(sim.MarkKernelObjects(P("b")));
    REQUIRE_OK(sim.RemoveDir(P("a")));
    REQUIRE_OK(sim.RemoveDir(P("b")));
    CHECK(sim.counters().zombies == 1);
  }
}

TEST_CASE("sim: memory.force_empty does not prevent a kmem zombie (R7)",
          "[unit]") {
  LegacyKernelSim sim;
  REQUIRE_OK(sim.MakeDir(P("a")));
  Activate(sim, P("a"));
  REQUIRE_OK(sim.WriteFile(P("a"), kCgroupProcs, "9"));
  CHECK(Errno(sim.WriteFile(P("a"), kForceEmpty, "0")) == EBUSY);
  REQUIRE_OK(sim.ExitTasks(P("a")));
  REQUIRE_OK(sim.WriteFile(P("a"), kForceEmpty, "0"));
  REQUIRE_OK(sim.RemoveDir(P("a")));
  CHECK(sim.counters().zombies == 1);
  // The same through Remove's force_empty option.
  MemoryController ctl(&sim, KmemPolicy::kLegacy);
  MemoryResources limit;
  limit.limit_bytes = 1 << 20;
  REQUIRE_OK(ctl.Apply(P("b"), limit, 10));
  REQUIRE_OK(sim.ExitTasks(P("b")));
  RemoveOptions ro;
  ro.force_empty = true;
  REQUIRE_OK(ctl.Remove(P("b"), ro));
  CHECK(sim.counters().zombies == 2);
}

TEST_CASE("sim: a zombie child pins its removed hierarchical parent (R6)",
          "[unit]") {
  SECTION("pinned") {
    LegacyKernelSim sim;
    REQUIRE_OK(sim.MakeDir(P("pod")));
    Activate(sim, P("pod"));
    REQUIRE_OK(sim.MakeDir(P("pod/ctr")));
    REQUIRE_OK(sim.WriteFile(P("pod/ctr"), kCgroupProcs, "5"));
    REQUIRE_OK(sim.ExitTasks(P("pod/ctr")));
    REQUIRE_OK(sim.RemoveDir(P("pod/ctr")));
    REQUIRE_OK(sim.RemoveDir(P("pod")));
    CHECK(sim.counters().zombies == 2);
    CHECK(sim.counters().ids_in_use == 3);
  }
  SECTION("rule off") {
    LegacyKernelSimOptions o;
    o.zombies_pin_parents = false;
    LegacyKernelSim sim(o);
    REQUIRE_OK(sim.MakeDir(P("pod")));
    Activate(sim, P("pod"));
    REQUIRE_OK(sim.MakeDir(P("pod/ctr")));
    REQUIRE_OK(sim.WriteFile(P("pod/ctr"), kCgroupProcs, "5"));
    REQUIRE_OK(sim.ExitTasks(P("pod/ctr")));
    REQUIRE_OK(sim.RemoveDir(P("pod/ctr")));
    REQUIRE_OK(sim.RemoveDir(P("pod")));
    CHECK(sim.counters().zombies == 1);
  }
}

TEST_CASE("sim: limit validation follows mem_cgroup_resize_limit (R8)",
          "[unit]") {
  LegacyKernelSim sim;
  REQUIRE_OK(sim.MakeDir(P("a")));
  // memsw below the (unlimited) limit: EINVAL, so the limit goes first.
  CHECK(Errno(sim.WriteFile(P("a"), kMemswLimitInBytes, "100m")) == EINVAL);
  REQUIRE_OK(sim.WriteFile(P("a"), kLimitInBytes, "50m"));
  REQUIRE_OK(sim.WriteFile(P("a"), kMemswLimitInBytes, "100m"));
  CHECK(Errno(sim.WriteFile(P("a"), kLimitInBytes, "200m")) == EINVAL);
  CHECK(Errno(sim.WriteFile(P("a"), kMemswLimitInBytes, "10m")) == EINVAL);
  CHECK(*sim.ReadFile(P("a"), kLimitInBytes) == "52428800\n");
  CHECK(Errno(sim.WriteFile(P("a"), kLimitInBytes, "12x")) == EINVAL);
  CHECK(Errno(sim.WriteFile(P("a"), kLimitInBytes, "-2")) == EINVAL);
  // Trailing newline stripped like the cgroup core does.
  CHECK_OK(sim.WriteFile(P("a"), kLimitInBytes, "4096\n"));
  // Limits on the root are refused.
  CHECK(Errno(sim.WriteFile(CgroupPath(), kLimitInBytes, "1m")) == EINVAL);
  CHECK(Errno(sim.WriteFile(CgroupPath(), kKmemLimitInBytes, "1")) == EINVAL);
  // Missing and read-only files.
  CHECK(Errno(sim.WriteFile(P("a"), "memory.nope", "1")) == ENOENT);
  CHECK(Errno(sim.WriteFile(P("a"), "memory.usage_in_bytes", "1")) == EINVAL);
  CHECK(Errno(sim.ReadFile(P("a"), kForceEmpty).status()) == EINVAL);
  CHECK(Errno(sim.WriteFile(P("zz"), kLimitInBytes, "1")) == ENOENT);
}

TEST_CASE("sim: swappiness, oom_control and use_hierarchy rules (R8)",
          "[unit]") {
  LegacyKernelSimOptions o;
  o.root_use_hierarchy = false;
  LegacyKernelSim sim(o);
  REQUIRE_OK(sim.MakeDir(P("a")));
  CHECK(Errno(sim.WriteFile(P("a"), kSwappiness, "101")) == EINVAL);
  CHECK_OK(sim.WriteFile(P("a"), kSwappiness, "10"));
  CHECK_OK(sim.WriteFile(P("a"), kOomControl, "1"));
  CHECK(absl::StartsWith(*sim.ReadFile(P("a"), kOomControl),
                         "oom_kill_disable 1\n"));
  CHECK_OK(sim.WriteFile(P("a"), kUseHierarchy, "1"));
  REQUIRE_OK(sim.MakeDir(P("a/b")));
  // Under a hierarchical parent: "only empty-root can set this value".
  CHECK(Errno(sim.WriteFile(P("a/b"), kSwappiness, "10")) == EINVAL);
  CHECK(Errno(sim.WriteFile(P("a/b"), kOomControl, "1")) == EINVAL);
  CHECK(Errno(sim.WriteFile(P("a/b"), kUseHierarchy, "0")) == EINVAL);
  CHECK(Errno(sim.WriteFile(P("a"), kUseHierarchy, "0")) == EBUSY);
  CHECK(*sim.ReadFile(P("a/b"), kUseHierarchy) == "1\n");
  CHECK(*sim.ReadFile(P("a/b"), kSwappiness) == "10\n");
}

TEST_CASE("sim: rmdir, ListDirs, Exists and Sleep", "[unit]") {
  LegacyKernelSimOptions o;
  o.swap_accounting = false;
  LegacyKernelSim sim(o);
  REQUIRE_OK(sim.MakeDir(P("p")));
  REQUIRE_OK(sim.MakeDir(P("p/b")));
  REQUIRE_OK(sim.MakeDir(P("p/a")));
  CHECK(Errno(sim.RemoveDir(P("p"))) == EBUSY);
  CHECK(Errno(sim.RemoveDir(P("q"))) == ENOENT);
  CHECK(*sim.ListDirs(P("p")) == std::vector<std::string>{"a", "b"});
  CHECK(Errno(sim.ListDirs(P("q")).status()) == ENOENT);
  CHECK(*sim.Exists(P("p"), kLimitInBytes));
  CHECK_FALSE(*sim.Exists(P("p"), kMemswLimitInBytes));
  CHECK(*sim.Exists(CgroupPath(), "release_agent"));
  CHECK_FALSE(*sim.Exists(P("p"), "release_agent"));
  CHECK(Errno(sim.WriteFile(P("p"), kMemswLimitInBytes, "1")) == ENOENT);
  sim.Sleep(absl::Hours(1));
  CHECK(sim.sleeps() == 1);
  // A pid moves between cgroups.
  REQUIRE_OK(sim.WriteFile(P("p/a"), kCgroupProcs, "77"));
  REQUIRE_OK(sim.WriteFile(P("p/b"), kCgroupProcs, "77"));
  CHECK(sim.ReadFile(P("p/a"), kCgroupProcs)->empty());
  CHECK(*sim.ReadFile(P("p/b"), kCgroupProcs) == "77\n");
  CHECK_OK(sim.RemoveDir(P("p/a")));
}

// MemoryController, unchanged, on the simulated kernel.

MemoryResources ContainerConfig() {
  MemoryResources r;
  r.limit_bytes = 256 << 20;
  r.memsw_limit_bytes = 256 << 20;
  r.reservation_bytes = 128 << 20;
  return r;
}

// One container lifetime: ApplyAndSet with a pid, the task exits, Remove.
void RunContainer(LegacyKernelSim& sim, MemoryController& ctl,
                  const CgroupPath& p, int64_t pid) {
  REQUIRE_OK(ctl.ApplyAndSet(p, ContainerConfig(), pid));
  REQUIRE_OK(sim.ExitTasks(p));
  REQUIRE_OK(ctl.Remove(p));
}

TEST_CASE("sim: the legacy policy leaks one memcg ID per container",
          "[unit]") {
  LegacyKernelSim sim;
  MemoryController ctl(&sim, KmemPolicy::kLegacy);
  for (int i = 0; i < 10; ++i) {
    RunContainer(sim, ctl, P(("ctr" + std::to_string(i)).c_str()), 100 + i);
  }
  CHECK(sim.counters().zombies == 10);
  CHECK(sim.counters().ids_in_use == 11);
  // Set wrote the limits the kernel accepted (limit first: memsw is not
  // above the unlimited current limit).
  REQUIRE_OK(ctl.ApplyAndSet(P("x"), ContainerConfig(), -1));
  CHECK(*sim.ReadFile(P("x"), kMemswLimitInBytes) == "268435456\n");
  CHECK(*sim.ReadFile(P("x"), kSoftLimitInBytes) == "134217728\n");
  CHECK(*sim.IsKmemActive(P("x")));
}

TEST_CASE("sim: the guarded and disabled policies leak nothing", "[unit]") {
  for (KmemPolicy policy : {KmemPolicy::kGuarded, KmemPolicy::kDisabled}) {
    LegacyKernelSim sim;
    MemoryController ctl(&sim, policy);
    for (int i = 0; i < 10; ++i) {
      RunContainer(sim, ctl, P(("ctr" + std::to_string(i)).c_str()), 100 + i);
    }
    INFO(KmemPolicyName(policy));
    CHECK(sim.counters().zombies == 0);
    CHECK(sim.counters().ids_in_use == 1);
  }
}

TEST_CASE("sim: guarded enables kmem when a kernel limit is asked for, and "
          "then leaks", "[unit]") {
  LegacyKernelSim sim;
  MemoryController ctl(&sim, KmemPolicy::kGuarded);
  MemoryResources r = ContainerConfig();
  r.kernel_limit_bytes = 64 << 20;
  REQUIRE_OK(ctl.ApplyAndSet(P("k"), r, 5));
  CHECK(*sim.IsKmemActive(P("k")));
  CHECK(*sim.ReadFile(P("k"), kKmemLimitInBytes) == "67108864\n");
  REQUIRE_OK(sim.ExitTasks(P("k")));
  REQUIRE_OK(ctl.Remove(P("k")));
  CHECK(sim.counters().zombies == 1);
}

TEST_CASE("sim: joining a populated cgroup with legacy kmem is not EBUSY "
          "(runc #1083 stays fixed)", "[unit]") {
  LegacyKernelSim sim;
  REQUIRE_OK(sim.MakeDir(P("busy")));
  REQUIRE_OK(sim.WriteFile(P("busy"), kCgroupProcs, "1"));
  MemoryController ctl(&sim, KmemPolicy::kLegacy);
  // The directory exists, so Apply does not try to activate kmem.
  CHECK_OK(ctl.ApplyAndSet(P("busy"), ContainerConfig(), 2));
  CHECK_FALSE(*sim.IsKmemActive(P("busy")));
}

TEST_CASE("sim: Apply surfaces ENOSPC and leaves nothing behind", "[unit]") {
  LegacyKernelSimOptions o;
  o.id_limit = 2;
  LegacyKernelSim sim(o);
  MemoryController ctl(&sim, KmemPolicy::kLegacy);
  absl::StatusOr<MemoryController::CreateResult> r =
      ctl.ApplyAndSet(P("a/b"), ContainerConfig(), 3);
  REQUIRE_FALSE(r.ok());
  CHECK(Errno(r.status()) == ENOSPC);
  CHECK_FALSE(*sim.Exists(P("a")));
  CHECK(sim.counters().ids_in_use == 1);
}

}  // namespace
}  // namespace kmemguard
