// SPDX-License-Identifier: Apache-2.0
//
// Benchmarks (not timed tests) of kmemguard against the floor (floor.c):
//   ApplySetRemove, Set, GetStats   on the real /sys/fs/cgroup/memory, in a
//                                   scratch parent cgroup made for the run;
//   SimChurn                        the simulator, 1,000,000 pods.
// bench/run runs this with repetitions and prints the ratios; see
// docs/benchmarks.md.
//
// The scratch parent is $KMEMGUARD_BENCH_SCRATCH (an absolute path of an
// existing empty cgroup that the caller created and removes), or else a
// fresh kmemguard-simbench-<pid> under /sys/fs/cgroup/memory created and
// removed here. Nothing outside it is touched. A run stops when
// /proc/cgroups shows more than kMaxMemoryCgroups memory cgroups, so a
// benchmark never comes near the 65,535-ID limit of the host.
//
// For strace: bench_kmemguard --ops OP DIR ITERATIONS runs OP (apply_set_remove,
// set, getstats) on cgroup DIR ITERATIONS times with kmemguard and exits.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "benchmark/benchmark.h"
#include "floor.h"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/sim/churn.h"
#include "kmemguard/core/memory.h"

namespace kmemguard {
namespace {

constexpr char kMemoryMount[] = "/sys/fs/cgroup/memory";
constexpr int64_t kMaxMemoryCgroups = 30000;

MemoryResources ContainerConfig() {
  MemoryResources r;
  r.limit_bytes = int64_t{256} << 20;
  r.memsw_limit_bytes = int64_t{256} << 20;
  r.reservation_bytes = int64_t{128} << 20;
  return r;
}

// num_cgroups of the memory row of /proc/cgroups, or -1.
int64_t MemoryCgroups() {
  absl::StatusOr<std::string> text = ReadHostFile("/proc/cgroups");
  if (!text.ok()) return -1;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    std::vector<absl::string_view> f = absl::StrSplit(line, '\t');
    int64_t n;
    if (f.size() >= 3 && f[0] == "memory" && absl::SimpleAtoi(f[2], &n)) {
      return n;
    }
  }
  return -1;
}

// The scratch parent: absolute path, and whether we created it.
struct Scratch {
  std::string path;
  bool owned = false;
  std::string error;  // why real-fs benchmarks are skipped
};

Scratch& GetScratch() {
  static Scratch* scratch = [] {
    auto* s = new Scratch;
    if (const char* env = std::getenv("KMEMGUARD_BENCH_SCRATCH")) {
      s->path = env;
      return s;
    }
    if (geteuid() != 0) {
      s->error = "needs root";
      return s;
    }
    absl::StatusOr<std::unique_ptr<RealCgroupFs>> root =
        RealCgroupFs::Open(kMemoryMount, RootCheck::kRequireCgroupfs);
    if (!root.ok()) {
      s->error = std::string(root.status().message());
      return s;
    }
    std::string name = absl::StrCat("kmemguard-simbench-", getpid());
    absl::Status made = (*root)->MakeDir(*CgroupPath::Parse(name));
    if (!made.ok()) {
      s->error = std::string(made.message());
      return s;
    }
    s->path = absl::StrCat(kMemoryMount, "/", name);
    s->owned = true;
    return s;
  }();
  return *scratch;
}

void RemoveScratch() {
  Scratch& s = GetScratch();
  if (!s.owned) return;
  absl::StatusOr<std::unique_ptr<RealCgroupFs>> root =
      RealCgroupFs::Open(kMemoryMount, RootCheck::kRequireCgroupfs);
  if (!root.ok()) return;
  MemoryController ctl(root->get(), KmemPolicy::kGuarded);
  absl::Status st =
      ctl.Remove(*CgroupPath::Parse(s.path.substr(sizeof(kMemoryMount))));
  if (!st.ok()) std::fprintf(stderr, "cleanup: %s\n", st.ToString().c_str());
}

// Opens the scratch parent, or skips the benchmark.
std::unique_ptr<RealCgroupFs> OpenScratch(benchmark::State& state) {
  Scratch& s = GetScratch();
  if (!s.error.empty()) {
    state.SkipWithError(s.error.c_str());
    return nullptr;
  }
  if (MemoryCgroups() > kMaxMemoryCgroups) {
    state.SkipWithError("too many memory cgroups on the host");
    return nullptr;
  }
  absl::StatusOr<std::unique_ptr<RealCgroupFs>> fs =
      RealCgroupFs::Open(s.path, RootCheck::kRequireCgroupfs);
  if (!fs.ok()) {
    state.SkipWithError(std::string(fs.status().message()).c_str());
    return nullptr;
  }
  return *std::move(fs);
}

bool HostIdsOk(benchmark::State& state, int64_t i) {
  if ((i & 1023) != 0 || MemoryCgroups() <= kMaxMemoryCgroups) return true;
  state.SkipWithError("too many memory cgroups on the host; stopping");
  return false;
}

const CgroupPath& Child() {
  static const CgroupPath* p = new CgroupPath(*CgroupPath::Parse("c"));
  return *p;
}

void BM_ApplySetRemove_Kmemguard(benchmark::State& state) {
  std::unique_ptr<RealCgroupFs> fs = OpenScratch(state);
  if (!fs) return;
  MemoryController ctl(fs.get(), KmemPolicy::kGuarded);
  const MemoryResources cfg = ContainerConfig();
  int64_t i = 0;
  for (auto _ : state) {
    if (!HostIdsOk(state, i++)) break;
    absl::StatusOr<MemoryController::CreateResult> r =
        ctl.ApplyAndSet(Child(), cfg, -1);
    absl::Status rm = ctl.Remove(Child());
    if (!r.ok() || !rm.ok()) {
      state.SkipWithError((r.ok() ? rm : r.status()).ToString().c_str());
      break;
    }
  }
}

void FloorApplySetRemove(benchmark::State& state, int runc_reads) {
  std::unique_ptr<RealCgroupFs> fs = OpenScratch(state);
  if (!fs) return;
  const std::string dir = GetScratch().path + "/c";
  int64_t i = 0;
  for (auto _ : state) {
    if (!HostIdsOk(state, i++)) break;
    int rc = floor_apply_set_remove(dir.c_str(), runc_reads);
    if (rc != 0) {
      state.SkipWithError(std::strerror(-rc));
      break;
    }
  }
}
void BM_ApplySetRemove_Floor(benchmark::State& state) {
  FloorApplySetRemove(state, 0);
}
void BM_ApplySetRemove_FloorRuncReads(benchmark::State& state) {
  FloorApplySetRemove(state, 1);
}

// Set and GetStats work on one existing cgroup made for the benchmark.
template <typename Fn>
void OnExisting(benchmark::State& state, Fn fn) {
  std::unique_ptr<RealCgroupFs> fs = OpenScratch(state);
  if (!fs) return;
  MemoryController ctl(fs.get(), KmemPolicy::kGuarded);
  absl::Status made = fs->MakeDir(Child());
  if (!made.ok()) {
    state.SkipWithError(made.ToString().c_str());
    return;
  }
  fn(state, ctl, GetScratch().path + "/c");
  absl::Status rm = ctl.Remove(Child());
  if (!rm.ok()) std::fprintf(stderr, "cleanup: %s\n", rm.ToString().c_str());
}

void BM_Set_Kmemguard(benchmark::State& state) {
  OnExisting(state, [](benchmark::State& st, MemoryController& ctl,
                       const std::string&) {
    const MemoryResources cfg = ContainerConfig();
    for (auto _ : st) {
      absl::StatusOr<SetResult> r = ctl.Set(Child(), cfg);
      if (!r.ok()) {
        st.SkipWithError(r.status().ToString().c_str());
        break;
      }
    }
  });
}

void BM_Set_Floor(benchmark::State& state) {
  OnExisting(state, [](benchmark::State& st, MemoryController&,
                       const std::string& dir) {
    for (auto _ : st) {
      int rc = floor_set(dir.c_str());
      if (rc != 0) {
        st.SkipWithError(std::strerror(-rc));
        break;
      }
    }
  });
}

void BM_GetStats_Kmemguard(benchmark::State& state) {
  OnExisting(state, [](benchmark::State& st, MemoryController& ctl,
                       const std::string&) {
    for (auto _ : st) {
      absl::StatusOr<MemoryStats> r = ctl.GetStats(Child());
      if (!r.ok()) {
        st.SkipWithError(r.status().ToString().c_str());
        break;
      }
      benchmark::DoNotOptimize(r->usage.limit);
    }
  });
}

void BM_GetStats_Floor(benchmark::State& state) {
  OnExisting(state, [](benchmark::State& st, MemoryController&,
                       const std::string& dir) {
    for (auto _ : st) {
      int rc = floor_getstats(dir.c_str());
      if (rc != 0) {
        st.SkipWithError(std::strerror(-rc));
        break;
      }
    }
  });
}

// The simulator: 1,000,000 pods of churn through the real MemoryController.
// range(0): 0 guarded, 1 legacy (with an ID space large enough never to
// fill, so all pods run and every one leaks).
void BM_SimChurn(benchmark::State& state) {
  ChurnOptions o;
  o.policy = state.range(0) == 1 ? KmemPolicy::kLegacy : KmemPolicy::kGuarded;
  o.total_pods = 1000000;
  o.kernel.id_limit = 4000000;
  o.sample_every = 10000;
  int64_t pods = 0;
  for (auto _ : state) {
    absl::StatusOr<ChurnResult> r = RunChurn(o);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    pods += r->pods_started;
  }
  state.counters["pods_per_second"] =
      benchmark::Counter(static_cast<double>(pods), benchmark::Counter::kIsRate);
  state.SetLabel(KmemPolicyName(o.policy).data());
}

BENCHMARK(BM_ApplySetRemove_Floor);
BENCHMARK(BM_ApplySetRemove_FloorRuncReads);
BENCHMARK(BM_ApplySetRemove_Kmemguard);
BENCHMARK(BM_Set_Floor);
BENCHMARK(BM_Set_Kmemguard);
BENCHMARK(BM_GetStats_Floor);
BENCHMARK(BM_GetStats_Kmemguard);
BENCHMARK(BM_SimChurn)->Arg(0)->Arg(1)->Iterations(1)->Unit(
    benchmark::kSecond);

// --ops OP DIR N: N iterations of OP with kmemguard, for strace -c.
int RunOps(const std::string& op, const std::string& dir, long n) {
  std::string parent = dir.substr(0, dir.rfind('/'));
  std::string leaf = dir.substr(dir.rfind('/') + 1);
  absl::StatusOr<std::unique_ptr<RealCgroupFs>> fs =
      RealCgroupFs::Open(parent, RootCheck::kRequireCgroupfs);
  if (!fs.ok()) {
    std::fprintf(stderr, "%s\n", fs.status().ToString().c_str());
    return 1;
  }
  MemoryController ctl(fs->get(), KmemPolicy::kGuarded);
  CgroupPath path = *CgroupPath::Parse(leaf);
  const MemoryResources cfg = ContainerConfig();
  for (long i = 0; i < n; ++i) {
    absl::Status s;
    if (op == "apply_set_remove") {
      s = ctl.ApplyAndSet(path, cfg, -1).status();
      if (s.ok()) s = ctl.Remove(path);
    } else if (op == "set") {
      s = ctl.Set(path, cfg).status();
    } else if (op == "getstats") {
      s = ctl.GetStats(path).status();
    } else {
      std::fprintf(stderr, "unknown op %s\n", op.c_str());
      return 2;
    }
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace kmemguard

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "--ops") == 0) {
    return kmemguard::RunOps(argv[2], argv[3], std::strtol(argv[4], nullptr, 10));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  kmemguard::RemoveScratch();
  return 0;
}
