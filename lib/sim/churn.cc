// SPDX-License-Identifier: Apache-2.0

#include "kmemguard/sim/churn.h"

#include <algorithm>
#include <deque>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "kmemguard/core/cgroupfs.h"
#include "kmemguard/core/memory.h"
#include "kmemguard/core/status.h"

namespace kmemguard {
namespace {

bool IsIdExhaustion(const absl::Status& s, int exhausted_errno) {
  std::optional<int> err = ErrnoOf(s);
  return err.has_value() && *err == exhausted_errno;
}

// Node allocatable: what the kubelet writes to kubepods (and, in this model,
// to kubepods/burstable).
constexpr int64_t kNodeAllocatableBytes = int64_t{30} << 30;

struct Pod {
  CgroupPath path;
  std::vector<CgroupPath> containers;
};

class ChurnRun {
 public:
  ChurnRun(LegacyKernelSim& sim, const ChurnOptions& options)
      : sim_(sim),
        options_(options),
        kubelet_(&sim, options.kubelet_policy.value_or(options.policy)),
        runtime_(&sim, options.policy) {
    pod_resources_.limit_bytes = options.pod_limit_bytes;
    container_resources_.limit_bytes = options.container_limit_bytes;
    container_resources_.memsw_limit_bytes = options.container_memsw_bytes;
    container_resources_.reservation_bytes =
        options.container_reservation_bytes;
  }

  absl::StatusOr<ChurnResult> Run();

 private:
  absl::Status SetUpNode();
  // Starts pod number `n`; on failure removes what it created.
  absl::Status StartPod(int64_t n, Pod* pod);
  absl::Status StopPod(const Pod& pod);
  void Sample(int64_t pods_started, ChurnResult* result) const;

  LegacyKernelSim& sim_;
  const ChurnOptions& options_;
  MemoryController kubelet_;
  MemoryController runtime_;
  MemoryResources pod_resources_;
  MemoryResources container_resources_;
  CgroupPath burstable_;
  int64_t next_pid_ = 1000;
};

absl::Status ChurnRun::SetUpNode() {
  absl::StatusOr<CgroupPath> kubepods = CgroupPath::Parse("kubepods");
  absl::StatusOr<CgroupPath> burstable =
      CgroupPath::Parse("kubepods/burstable");
  absl::StatusOr<CgroupPath> besteffort =
      CgroupPath::Parse("kubepods/besteffort");
  if (!kubepods.ok() || !burstable.ok() || !besteffort.ok()) {
    return absl::InternalError("bad built-in cgroup path");
  }
  burstable_ = *burstable;
  MemoryResources node;
  node.limit_bytes = kNodeAllocatableBytes;
  // The kubelet's Node Allocatable and QoS cgroups: Apply(-1) then Set, the
  // runc code path of Kubernetes 1.9 (spec §3.6).
  for (const CgroupPath* p : {&*kubepods, &*burstable}) {
    absl::StatusOr<MemoryController::CreateResult> r =
        kubelet_.ApplyAndSet(*p, node, -1);
    if (!r.ok()) {
      return Annotate(r.status(), "kubelet: create " + p->ToString());
    }
  }
  absl::StatusOr<MemoryController::CreateResult> r =
      kubelet_.ApplyAndSet(*besteffort, MemoryResources{}, -1);
  if (!r.ok()) return Annotate(r.status(), "kubelet: create besteffort");
  return absl::OkStatus();
}

absl::Status ChurnRun::StartPod(int64_t n, Pod* pod) {
  pod->path = burstable_.Child(absl::StrCat("pod", n));
  pod->containers.clear();
  absl::StatusOr<MemoryController::CreateResult> created =
      kubelet_.ApplyAndSet(pod->path, pod_resources_, -1);
  if (!created.ok()) return created.status();
  for (int c = 0; c < options_.containers_per_pod; ++c) {
    CgroupPath ctr = pod->path.Child(absl::StrCat("ctr", c));
    absl::StatusOr<MemoryController::CreateResult> r =
        runtime_.ApplyAndSet(ctr, container_resources_, next_pid_++);
    if (!r.ok()) {
      // Undo: what started of this pod stops again.
      absl::Status undo = StopPod(*pod);
      (void)undo;
      return r.status();
    }
    pod->containers.push_back(std::move(ctr));
  }
  return absl::OkStatus();
}

absl::Status ChurnRun::StopPod(const Pod& pod) {
  for (const CgroupPath& ctr : pod.containers) {
    absl::Status s = sim_.ExitTasks(ctr);
    if (!s.ok()) return s;
    s = runtime_.Remove(ctr);
    if (!s.ok()) return Annotate(s, "runtime: remove container");
  }
  absl::Status s = kubelet_.Remove(pod.path);
  if (!s.ok()) return Annotate(s, "kubelet: remove pod");
  return absl::OkStatus();
}

void ChurnRun::Sample(int64_t pods_started, ChurnResult* result) const {
  const SimCounters& c = sim_.counters();
  result->samples.push_back(ChurnSample{
      pods_started, static_cast<double>(pods_started) / options_.churn_per_hour,
      c.ids_in_use, c.zombies, c.visible});
}

absl::StatusOr<ChurnResult> ChurnRun::Run() {
  if (options_.pods_per_node < 1 || options_.containers_per_pod < 0 ||
      options_.churn_per_hour <= 0 || options_.total_pods < 0) {
    return absl::InvalidArgumentError(
        "pods per node must be >= 1, containers per pod >= 0, churn per hour "
        "> 0 and total pods >= 0");
  }
  ChurnResult result;
  result.policy = options_.policy;
  result.kubelet_policy = options_.kubelet_policy.value_or(options_.policy);
  absl::Status setup = SetUpNode();
  if (!setup.ok()) return setup;
  const int64_t every =
      options_.sample_every > 0
          ? options_.sample_every
          : std::max<int64_t>(1, options_.total_pods / 1000);
  std::deque<Pod> live;
  Sample(0, &result);
  for (int64_t n = 1; n <= options_.total_pods; ++n) {
    if (static_cast<int64_t>(live.size()) >= options_.pods_per_node) {
      absl::Status s = StopPod(live.front());
      if (!s.ok()) return s;
      live.pop_front();
    }
    ++result.pods_attempted;
    Pod pod;
    absl::Status s = StartPod(n, &pod);
    if (!s.ok()) {
      if (!IsIdExhaustion(s, options_.kernel.exhausted_errno)) return s;
      if (!result.first_failure_pod.has_value()) {
        result.first_failure_pod = n;
        result.first_failure_hours =
            static_cast<double>(n - 1) / options_.churn_per_hour;
        result.first_failure = s.ToString();
      }
      Sample(result.pods_started, &result);
      if (options_.stop_at_first_failure) break;
      continue;
    }
    ++result.pods_started;
    live.push_back(std::move(pod));
    if (result.pods_started % every == 0) Sample(result.pods_started, &result);
  }
  if (result.samples.back().pods_started != result.pods_started) {
    Sample(result.pods_started, &result);
  }
  result.final_counters = sim_.counters();
  return result;
}

}  // namespace

absl::StatusOr<ChurnResult> RunChurnOn(LegacyKernelSim& sim,
                                       const ChurnOptions& options) {
  ChurnRun run(sim, options);
  return run.Run();
}

absl::StatusOr<ChurnResult> RunChurn(const ChurnOptions& options) {
  LegacyKernelSim sim(options.kernel);
  return RunChurnOn(sim, options);
}

absl::StatusOr<SimulateReport> RunSimulation(const SimulateOptions& options) {
  SimulateReport report;
  report.churn = options.churn;
  std::vector<KmemPolicy> policies = options.policies;
  if (policies.empty()) {
    policies = {KmemPolicy::kLegacy, KmemPolicy::kGuarded,
                KmemPolicy::kDisabled};
  }
  for (KmemPolicy policy : policies) {
    ChurnOptions churn = options.churn;
    churn.policy = policy;
    absl::StatusOr<ChurnResult> r = RunChurn(churn);
    if (!r.ok()) {
      return Annotate(r.status(),
                      absl::StrCat("policy ", KmemPolicyName(policy)));
    }
    report.results.push_back(*std::move(r));
  }
  return report;
}

std::string FormatSimulationTable(const SimulateReport& report) {
  const ChurnOptions& c = report.churn;
  std::string out = absl::StrFormat(
      "simulated 3.10 kernel: %u memcg IDs; %d pods per node, %d containers "
      "per pod, %g pod starts per hour, up to %d pods\n",
      c.kernel.id_limit, c.pods_per_node, c.containers_per_pod,
      c.churn_per_hour, c.total_pods);
  absl::StrAppendFormat(&out, "%-9s %-9s %12s  %-26s %14s %10s\n", "policy",
                        "kubelet", "pods started", "first mkdir failure",
                        "peak IDs used", "zombies");
  for (const ChurnResult& r : report.results) {
    std::string failure = "none";
    if (r.first_failure_pod.has_value()) {
      failure = absl::StrFormat("pod %d, day %.1f", *r.first_failure_pod,
                                r.first_failure_hours / 24.0);
    }
    absl::StrAppendFormat(&out, "%-9s %-9s %12d  %-26s %14u %10u\n",
                          KmemPolicyName(r.policy),
                          KmemPolicyName(r.kubelet_policy), r.pods_started,
                          failure, r.final_counters.peak_ids_in_use,
                          r.final_counters.zombies);
  }
  return out;
}

std::string SimulationCsv(const SimulateReport& report) {
  std::string out = "policy,pods_started,hours,ids_in_use,zombies,visible\n";
  for (const ChurnResult& r : report.results) {
    for (const ChurnSample& s : r.samples) {
      absl::StrAppendFormat(&out, "%s,%d,%.3f,%u,%u,%u\n",
                            KmemPolicyName(r.policy), s.pods_started, s.hours,
                            s.ids_in_use, s.zombies, s.visible);
    }
  }
  return out;
}

}  // namespace kmemguard
