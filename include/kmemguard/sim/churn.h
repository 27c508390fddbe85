// SPDX-License-Identifier: Apache-2.0
//
// Pod churn on the simulated 3.10 kernel (LegacyKernelSim), through the real
// MemoryController code path: what a Kubernetes 1.9 node running a
// runc-based runtime does to the memory hierarchy, pod after pod, until
// mkdir fails. Used by `kmemguard simulate` and by bench/.
//
// One node, in the kubelet's cgroupfs layout (spec §3.6):
//   kubepods              kubelet: Apply(-1) + Set(node allocatable limit)
//   kubepods/burstable    kubelet: Apply(-1) + Set(limit)
//   kubepods/besteffort   kubelet: Apply(-1), no memory setting
//   kubepods/burstable/pod<N>          kubelet: Apply(-1) + Set(pod limit)
//   kubepods/burstable/pod<N>/ctr<M>   runtime: Apply(pid) + Set(limit,
//                                      memsw, reservation)
// Kubernetes 1.9's kubelet vendored the same runc (spec §1.1, §6.2), so the
// kubelet's cgroups follow the same kmem policy as the runtime's unless
// `kubelet_policy` says otherwise. A pod stops as: its tasks exit, the
// runtime removes each container cgroup, the kubelet removes the pod cgroup.
// The node keeps `pods_per_node` pods: each new pod beyond that stops the
// oldest first.

#ifndef KMEMGUARD_SIM_CHURN_H_
#define KMEMGUARD_SIM_CHURN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kmemguard/sim/legacy_kernel_sim.h"
#include "kmemguard/core/resources.h"

namespace kmemguard {

struct ChurnOptions {
  // The runtime's kmem policy (the same flag as `kmemguard apply`).
  KmemPolicy policy = KmemPolicy::kGuarded;
  // The kubelet's; nullopt: the same as `policy`.
  std::optional<KmemPolicy> kubelet_policy;
  int64_t pods_per_node = 30;
  int containers_per_pod = 2;  // e.g. pause + one app container
  double churn_per_hour = 60;  // pod starts per hour
  int64_t total_pods = 50000;  // pods to start (at most)
  LegacyKernelSimOptions kernel;
  // Record a sample every this many pod starts; 0: about 1000 samples.
  int64_t sample_every = 0;
  // Stop at the first pod that cannot be started.
  bool stop_at_first_failure = true;
  int64_t pod_limit_bytes = int64_t{512} << 20;
  int64_t container_limit_bytes = int64_t{256} << 20;
  int64_t container_memsw_bytes = int64_t{256} << 20;
  int64_t container_reservation_bytes = int64_t{128} << 20;
};

struct ChurnSample {
  int64_t pods_started = 0;
  double hours = 0;
  uint32_t ids_in_use = 0;
  uint32_t zombies = 0;
  uint32_t visible = 0;
};

struct ChurnResult {
  KmemPolicy policy = KmemPolicy::kGuarded;
  KmemPolicy kubelet_policy = KmemPolicy::kGuarded;
  int64_t pods_started = 0;   // pods whose cgroups were all created
  int64_t pods_attempted = 0;
  // The 1-based number of the first pod that could not be started because
  // mkdir failed, and when (hours since the first pod).
  std::optional<int64_t> first_failure_pod;
  double first_failure_hours = 0;
  std::string first_failure;  // the error
  SimCounters final_counters;
  std::vector<ChurnSample> samples;
};

// Runs the churn on a fresh LegacyKernelSim. Returns an error when the
// node's own cgroups cannot be set up, or when a pod fails for a reason other
// than memcg ID exhaustion (that would be a bug in the model or the library);
// ID exhaustion is a result, not an error.
absl::StatusOr<ChurnResult> RunChurn(const ChurnOptions& options);

// Runs the churn on `sim` (which must be fresh); for tests and benchmarks
// that inspect the simulator afterwards.
absl::StatusOr<ChurnResult> RunChurnOn(LegacyKernelSim& sim,
                                       const ChurnOptions& options);

// `kmemguard simulate`: the churn under one or all three policies.
struct SimulateOptions {
  std::vector<KmemPolicy> policies;  // empty: legacy, guarded, disabled
  ChurnOptions churn;                // policy fields are overridden
};

struct SimulateReport {
  std::vector<ChurnResult> results;
  ChurnOptions churn;
};

absl::StatusOr<SimulateReport> RunSimulation(const SimulateOptions& options);

// The table `kmemguard simulate` prints: policy, pods started, first mkdir
// failure (pod number and days), peak IDs in use, zombies at the end.
std::string FormatSimulationTable(const SimulateReport& report);

// The CSV: a header line, then
// policy,pods_started,hours,ids_in_use,zombies,visible per sample.
std::string SimulationCsv(const SimulateReport& report);

}  // namespace kmemguard

#endif  // KMEMGUARD_SIM_CHURN_H_
