// SPDX-License-Identifier: Apache-2.0

#include "cli/cmd_simulate.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/cli_common.h"
#include "kmemguard/core/resources.h"
#include "kmemguard/sim/churn.h"

namespace kmemguard::cli {
namespace {

struct SimulateFlags {
  std::string kmem_policy;  // empty: all three
  std::string kubelet_kmem_policy;
  int64_t pods_per_node = 30;
  int containers_per_pod = 2;
  double churn_per_hour = 60;
  int64_t pods = 50000;
  uint32_t id_limit = 65535;
  std::string csv;
  bool keep_going = false;
};

int RunSimulate(const SimulateFlags& f) {
  SimulateOptions options;
  if (!f.kmem_policy.empty()) {
    absl::StatusOr<KmemPolicy> p = ParseKmemPolicy(f.kmem_policy);
    if (!p.ok()) {
      PrintError(p.status().message());
      return kExitUsage;
    }
    options.policies.push_back(*p);
  }
  if (!f.kubelet_kmem_policy.empty()) {
    absl::StatusOr<KmemPolicy> p = ParseKmemPolicy(f.kubelet_kmem_policy);
    if (!p.ok()) {
      PrintError(p.status().message());
      return kExitUsage;
    }
    options.churn.kubelet_policy = *p;
  }
  options.churn.pods_per_node = f.pods_per_node;
  options.churn.containers_per_pod = f.containers_per_pod;
  options.churn.churn_per_hour = f.churn_per_hour;
  options.churn.total_pods = f.pods;
  options.churn.kernel.id_limit = f.id_limit;
  options.churn.stop_at_first_failure = !f.keep_going;
  absl::StatusOr<SimulateReport> report = RunSimulation(options);
  if (!report.ok()) {
    PrintError(report.status().ToString());
    return kExitError;
  }
  std::fputs(FormatSimulationTable(*report).c_str(), stdout);
  if (!f.csv.empty()) {
    std::ofstream out(f.csv, std::ios::out | std::ios::trunc);
    out << SimulationCsv(*report);
    out.close();
    if (!out) {
      PrintError(absl::StrCat("cannot write ", f.csv));
      return kExitError;
    }
    std::printf("wrote %s\n", f.csv.c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterSimulateCommand(CLI::App& app, std::function<int()>* run) {
  auto flags = std::make_shared<SimulateFlags>();
  CLI::App* sub = app.add_subcommand(
      "simulate",
      "pod churn on a simulated 3.10 kernel (a model, see "
      "docs/simulation.md): when does mkdir fail for want of memcg IDs, "
      "under each kmem policy");
  sub->add_option("--kmem-policy", flags->kmem_policy,
                  "legacy, guarded or disabled (default: all three side by "
                  "side)")
      ->check(CLI::IsMember({"guarded", "legacy", "disabled"}));
  sub->add_option("--kubelet-kmem-policy", flags->kubelet_kmem_policy,
                  "the kubelet's policy for kubepods and pod cgroups "
                  "(default: the same as the runtime's)")
      ->check(CLI::IsMember({"guarded", "legacy", "disabled"}));
  sub->add_option("--pods-per-node", flags->pods_per_node,
                  "live pods at steady state")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  sub->add_option("--containers-per-pod", flags->containers_per_pod,
                  "containers per pod, the pause container included")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  sub->add_option("--churn-per-hour", flags->churn_per_hour,
                  "pod starts per hour")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--pods", flags->pods, "pods to start in total")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  sub->add_option("--id-limit", flags->id_limit,
                  "memcg IDs of the simulated kernel, the root's included")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{2}, uint32_t{1} << 30));
  sub->add_option("--csv", flags->csv,
                  "write policy,pods_started,hours,ids_in_use,zombies,visible "
                  "samples to FILE");
  sub->add_flag("--keep-going", flags->keep_going,
                "keep starting pods after the first mkdir failure");
  sub->callback([run, flags] { *run = [flags] { return RunSimulate(*flags); }; });
}

}  // namespace kmemguard::cli
