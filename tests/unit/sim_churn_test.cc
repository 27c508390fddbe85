// SPDX-License-Identifier: Apache-2.0
//
// The churn driver and `kmemguard simulate`'s library entry on the
// simulated 3.10 kernel, with a small ID space so they run fast.

#include <cerrno>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "catch2/catch.hpp"
#include "kmemguard/sim/churn.h"
#include "kmemguard/sim/legacy_kernel_sim.h"
#include "kmemguard/core/resources.h"
#include "testing/status_matchers.h"

namespace kmemguard {
namespace {

ChurnOptions Small(KmemPolicy policy) {
  ChurnOptions o;
  o.policy = policy;
  o.pods_per_node = 10;
  o.containers_per_pod = 2;
  o.churn_per_hour = 10;
  o.total_pods = 2000;
  o.kernel.id_limit = 1000;
  return o;
}

TEST_CASE("churn: legacy hits the ID cliff after about id_limit / 3 pods",
          "[unit]") {
  absl::StatusOr<ChurnResult> r = RunChurn(Small(KmemPolicy::kLegacy));
  REQUIRE_OK(r);
  REQUIRE(r->first_failure_pod.has_value());
  // Node: root + kubepods + burstable + besteffort = 4 IDs. Each stopped pod
  // leaks 3 (two container zombies and the pod they pin); live pods hold
  // up to 3 each.
  const int64_t pod = *r->first_failure_pod;
  CHECK(pod > (1000 - 4 - 3 * 10) / 3);
  CHECK(pod <= (1000 - 4) / 3 + 1);
  CHECK(r->pods_started == pod - 1);
  CHECK(r->first_failure_hours == Approx((pod - 1) / 10.0));
  CHECK(absl::StrContains(r->first_failure, "No space left on device"));
  CHECK(r->final_counters.ids_in_use == 1000);
  CHECK(r->final_counters.peak_ids_in_use == 1000);
  CHECK(r->final_counters.zombies > 900);
  REQUIRE(r->samples.size() >= 2);
  CHECK(r->samples.front().ids_in_use == 4);
  CHECK(r->samples.back().ids_in_use == 1000);
}

TEST_CASE("churn: guarded and disabled stay flat", "[unit]") {
  for (KmemPolicy policy : {KmemPolicy::kGuarded, KmemPolicy::kDisabled}) {
    INFO(KmemPolicyName(policy));
    absl::StatusOr<ChurnResult> r = RunChurn(Small(policy));
    REQUIRE_OK(r);
    CHECK_FALSE(r->first_failure_pod.has_value());
    CHECK(r->pods_started == 2000);
    CHECK(r->final_counters.zombies == 0);
    // 4 node cgroups + 10 live pods of 3 cgroups each.
    CHECK(r->final_counters.peak_ids_in_use == 4 + 10 * 3);
    CHECK(r->final_counters.ids_in_use == 4 + 10 * 3);
  }
}

TEST_CASE("churn: a legacy kubelet leaks through a guarded runtime "
          "(inheritance)", "[unit]") {
  ChurnOptions o = Small(KmemPolicy::kGuarded);
  o.kubelet_policy = KmemPolicy::kLegacy;
  absl::StatusOr<ChurnResult> r = RunChurn(o);
  REQUIRE_OK(r);
  // kubepods is kmem-active, so every pod and container inherits it (R4).
  CHECK(r->first_failure_pod.has_value());
}

TEST_CASE("churn: keep going counts failures without consuming IDs",
          "[unit]") {
  ChurnOptions o = Small(KmemPolicy::kLegacy);
  o.stop_at_first_failure = false;
  o.total_pods = 400;
  absl::StatusOr<ChurnResult> r = RunChurn(o);
  REQUIRE_OK(r);
  REQUIRE(r->first_failure_pod.has_value());
  CHECK(r->pods_attempted == 400);
  CHECK(r->pods_started < 400);
  CHECK(r->final_counters.ids_in_use <= 1000);
}

TEST_CASE("churn: the simulator state after a run is inspectable",
          "[unit]") {
  LegacyKernelSim sim(Small(KmemPolicy::kLegacy).kernel);
  ChurnOptions o = Small(KmemPolicy::kLegacy);
  o.total_pods = 20;
  REQUIRE_OK(RunChurnOn(sim, o));
  // 10 pods stopped: 30 zombies; 10 live pods with 2 containers each.
  CHECK(sim.counters().zombies == 30);
  CHECK(sim.counters().visible == 4 + 30);
  absl::StatusOr<CgroupPath> kubepods = CgroupPath::Parse("kubepods");
  REQUIRE_OK(kubepods);
  CHECK(*sim.IsKmemActive(*kubepods));
}

TEST_CASE("churn: invalid options are InvalidArgument", "[unit]") {
  ChurnOptions o = Small(KmemPolicy::kLegacy);
  o.churn_per_hour = 0;
  CHECK(absl::IsInvalidArgument(RunChurn(o).status()));
}

TEST_CASE("simulate: the three policies side by side, table and CSV",
          "[unit]") {
  SimulateOptions options;
  options.churn = Small(KmemPolicy::kGuarded);
  absl::StatusOr<SimulateReport> report = RunSimulation(options);
  REQUIRE_OK(report);
  REQUIRE(report->results.size() == 3);
  CHECK(report->results[0].policy == KmemPolicy::kLegacy);
  CHECK(report->results[0].first_failure_pod.has_value());
  CHECK_FALSE(report->results[1].first_failure_pod.has_value());
  CHECK_FALSE(report->results[2].first_failure_pod.has_value());

  std::string table = FormatSimulationTable(*report);
  INFO(table);
  std::vector<std::string> lines = absl::StrSplit(table, '\n');
  REQUIRE(lines.size() >= 5);
  CHECK(absl::StrContains(lines[0], "1000 memcg IDs"));
  CHECK(absl::StartsWith(lines[2], "legacy"));
  CHECK(absl::StrContains(lines[2], "pod "));
  CHECK(absl::StrContains(lines[2], ", day "));
  CHECK(absl::StartsWith(lines[3], "guarded"));
  CHECK(absl::StrContains(lines[3], "none"));
  CHECK(absl::StartsWith(lines[4], "disabled"));

  std::string csv = SimulationCsv(*report);
  CHECK(absl::StartsWith(
      csv, "policy,pods_started,hours,ids_in_use,zombies,visible\nlegacy,0,"));
  CHECK(absl::StrContains(csv, "\nguarded,2000,200.000,34,0,34\n"));
  CHECK(absl::StrContains(csv, "\ndisabled,"));
}

TEST_CASE("simulate: one policy only", "[unit]") {
  SimulateOptions options;
  options.policies = {KmemPolicy::kDisabled};
  options.churn = Small(KmemPolicy::kLegacy);
  absl::StatusOr<SimulateReport> report = RunSimulation(options);
  REQUIRE_OK(report);
  REQUIRE(report->results.size() == 1);
  CHECK(report->results[0].policy == KmemPolicy::kDisabled);
}

}  // namespace
}  // namespace kmemguard
