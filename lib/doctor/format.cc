// SPDX-License-Identifier: Apache-2.0
//
// Output formats of `kmemguard doctor`: text, JSON (docs/doctor.schema.json)
// and Prometheus textfile-collector format.

#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "kmemguard/doctor/doctor.h"
#include "kmemguard/core/go_json.h"
#include "nlohmann/json.hpp"

namespace kmemguard {
namespace {

using nlohmann::json;

json OrNull(const std::string& s) { return s.empty() ? json() : json(s); }

json RuntimeJson(const RuntimeInfo& rt) {
  json j = {{"name", rt.name},
            {"path", rt.path},
            {"version", OrNull(rt.version)},
            {"version_output", rt.raw},
            {"nokmem_build", rt.nokmem_build},
            {"error", OrNull(rt.error)}};
  j["predates_rc94"] =
      rt.predates_rc94.has_value() ? json(*rt.predates_rc94) : json();
  return j;
}

const char* Colour(Verdict v) {
  switch (v) {
    case Verdict::kOk: return "\033[32m";
    case Verdict::kWarning: return "\033[33m";
    case Verdict::kCritical: return "\033[31m";
    case Verdict::kUnknown: break;
  }
  return "\033[35m";
}

const char* Colour(Severity s) {
  switch (s) {
    case Severity::kInfo: return "";
    case Severity::kWarning: return "\033[33m";
    case Severity::kCritical: return "\033[31m";
  }
  return "";
}

std::string EscapeLabel(absl::string_view v) {
  return absl::StrReplaceAll(v, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

}  // namespace

std::string DoctorReportToJson(const DoctorReport& r) {
  json j;
  j["schema_version"] = 1;
  j["verdict"] = std::string(VerdictName(r.verdict));
  j["exit_code"] = VerdictExitCode(r.verdict);
  j["kernel"] = {
      {"release", OrNull(r.kernel_release)},
      {"class", std::string(KernelClassName(r.kernel.kernel_class))},
      {"summary", r.kernel.summary},
      {"kmem_always_accounted", r.kernel.kmem_always_accounted},
      {"kmem_limit_refused", r.kernel.kmem_limit_refused},
      {"leak_prone", r.kernel.leak_prone},
      {"nokmem_boot", r.nokmem_boot}};
  j["layout"] = {{"mode", std::string(CgroupLayoutName(r.layout.layout))},
                 {"memory_mount", OrNull(r.layout.memory_mount)},
                 {"unified_mount", OrNull(r.layout.unified_mount)},
                 {"systemd_mount", OrNull(r.layout.systemd_mount)}};
  json ids = {{"known", r.ids_known},
              {"source", OrNull(r.ids_source)},
              {"limit", r.limit},
              {"warning_ratio", r.warning_ratio},
              {"critical_ratio", r.critical_ratio}};
  if (r.ids_known) {
    ids["in_use"] = r.in_use;
    ids["visible"] = r.visible;
    ids["dying"] = r.dying;
    ids["headroom"] = std::max<int64_t>(0, r.limit - r.in_use);
    ids["used_ratio"] = static_cast<double>(r.in_use) / r.limit;
    ids["hierarchy"] = r.hierarchy;
    ids["memory_enabled"] = r.memory_enabled;
  } else {
    for (const char* k : {"in_use", "visible", "dying", "headroom",
                          "used_ratio", "hierarchy", "memory_enabled"})
      ids[k] = json();
  }
  j["memcg_ids"] = ids;
  j["v2"] = r.v2_stat.has_value()
                ? json{{"nr_descendants", r.v2_stat->nr_descendants},
                       {"nr_dying_descendants", r.v2_stat->nr_dying_descendants}}
                : json();
  json cgroups = json::array();
  for (const KmemCgroup& c : r.kmem_cgroups) {
    cgroups.push_back({{"path", c.path},
                       {"well_known", c.well_known},
                       {"inspected", c.inspected},
                       {"active", c.active},
                       {"evidence", c.evidence},
                       {"use_hierarchy", c.use_hierarchy < 0
                                             ? json()
                                             : json(c.use_hierarchy == 1)},
                       {"children", c.children}});
  }
  j["kmem"] = {{"inspected_per_cgroup", r.kmem_inspected},
               {"active_count", r.kmem_active},
               {"method", r.kmem_method},
               {"cgroups", cgroups}};
  json runtimes = json::array();
  for (const RuntimeInfo& rt : r.runtimes) runtimes.push_back(RuntimeJson(rt));
  j["runtimes"] = runtimes;
  j["kubelet"] = r.kubelet.has_value() ? RuntimeJson(*r.kubelet) : json();
  j["systemd_run_scopes"] = {
      {"counted", r.run_scopes_counted},
      {"count", r.run_scopes},
      {"threshold", r.run_scope_threshold}};
  if (r.watch.has_value()) {
    j["watch"] = {{"samples", r.watch->samples},
                  {"duration_seconds", r.watch->duration_seconds},
                  {"dying_per_hour", r.watch->dying_per_hour},
                  {"in_use_per_hour", r.watch->in_use_per_hour},
                  {"seconds_to_cliff", r.watch->seconds_to_cliff.has_value()
                                           ? json(*r.watch->seconds_to_cliff)
                                           : json()}};
  } else {
    j["watch"] = json();
  }
  if (r.unguarded.has_value()) {
    const UnguardedStarts& u = *r.unguarded;
    j["unguarded_starts"] = {
        {"state_dir", r.state_dir},
        {"count", u.count},
        {"last_start_unix",
         u.last.has_value() ? json(absl::ToUnixSeconds(u.last->time)) : json()},
        {"last_container", u.last.has_value() ? OrNull(u.last->container_id)
                                              : json()},
        {"last_reason", u.last.has_value() ? json(u.last->reason) : json()}};
  } else {
    j["unguarded_starts"] = json();
  }
  json findings = json::array();
  for (const Finding& f : r.findings) {
    findings.push_back({{"id", f.id},
                        {"severity", std::string(SeverityName(f.severity))},
                        {"message", f.message}});
  }
  j["findings"] = findings;
  json menu = json::array();
  for (const RemediationStep& s : r.remediation) {
    menu.push_back({{"step", s.step},
                    {"id", s.id},
                    {"title", s.title},
                    {"command", OrNull(s.command)},
                    {"link", s.link},
                    {"relevant", s.relevant}});
  }
  j["remediation"] = menu;
  j["errors"] = r.errors;
  // Paths, mount points and errors are host text: never let dump() throw.
  return GoCoerceJsonStrings(j).dump(2);
}

std::string DoctorReportToText(const DoctorReport& r, bool color) {
  const char* reset = color ? "\033[0m" : "";
  const char* bold = color ? "\033[1m" : "";
  std::string out;
  auto row = [&out](absl::string_view key, absl::string_view value) {
    absl::StrAppendFormat(&out, "  %-24s %s\n", key, value);
  };
  absl::StrAppend(&out, bold, "kmemguard doctor", reset, ": ",
                  color ? Colour(r.verdict) : "",
                  absl::AsciiStrToUpper(VerdictName(r.verdict)), reset, "\n\n");
  absl::StrAppend(&out, bold, "host", reset, "\n");
  row("kernel", r.kernel_release.empty() ? "unknown" : r.kernel_release);
  row("kernel class", KernelClassName(r.kernel.kernel_class));
  row("cgroup layout", CgroupLayoutName(r.layout.layout));
  row("memory hierarchy",
      r.layout.memory_mount.empty() ? "-" : r.layout.memory_mount);
  row("cgroup.memory=nokmem", r.nokmem_boot ? "yes" : "no");
  absl::StrAppend(&out, "\n", bold, "memory cgroup IDs", reset, "\n");
  if (r.ids_known) {
    row("in use", absl::StrFormat("%s of %s (%.1f %%)", WithThousands(r.in_use),
                                  WithThousands(r.limit),
                                  100.0 * r.in_use / r.limit));
    row("headroom", WithThousands(std::max<int64_t>(0, r.limit - r.in_use)));
    row("visible", WithThousands(r.visible));
    row("dying", WithThousands(r.dying));
    row("thresholds", absl::StrFormat("warning %.0f %%, critical %.0f %%",
                                      100 * r.warning_ratio,
                                      100 * r.critical_ratio));
    row("source", r.ids_source);
  } else {
    row("in use", "unknown");
  }
  if (r.v2_stat.has_value()) {
    row("v2 nr_dying_descendants", WithThousands(r.v2_stat->nr_dying_descendants));
  }
  if (r.watch.has_value()) {
    row("watched", absl::StrFormat("%d samples over %.0f s", r.watch->samples,
                                   r.watch->duration_seconds));
    row("dying growth", absl::StrFormat("%.1f per hour", r.watch->dying_per_hour));
    row("time to the cliff",
        r.watch->seconds_to_cliff.has_value()
            ? absl::StrFormat("%.1f h", *r.watch->seconds_to_cliff / 3600)
            : std::string("not growing"));
  }
  absl::StrAppend(&out, "\n", bold, "kmem accounting", reset, "\n");
  row("active cgroups", WithThousands(r.kmem_active));
  row("method", r.kmem_method.empty() ? "-" : r.kmem_method);
  for (const KmemCgroup& c : r.kmem_cgroups) {
    row(c.path, absl::StrCat(c.active ? "active" : "inactive",
                             c.use_hierarchy == 1   ? ", use_hierarchy=1"
                             : c.use_hierarchy == 0 ? ", use_hierarchy=0"
                                                    : "",
                             ", ", c.children, " children; ", c.evidence));
  }
  absl::StrAppend(&out, "\n", bold, "runtimes", reset, "\n");
  if (r.runtimes.empty() && !r.kubelet.has_value()) row("(none found)", "");
  auto runtime_row = [&row](const RuntimeInfo& rt) {
    std::string v = rt.error.empty() ? rt.version : rt.error;
    if (rt.predates_rc94.has_value()) {
      absl::StrAppend(&v, *rt.predates_rc94 ? ", enables kmem (pre-rc94 runc)"
                                            : ", never enables kmem");
    }
    absl::StrAppend(&v, ", nokmem build: ", rt.nokmem_build, " (", rt.path,
                    ")");
    row(rt.name, v);
  };
  for (const RuntimeInfo& rt : r.runtimes) runtime_row(rt);
  if (r.kubelet.has_value()) runtime_row(*r.kubelet);
  if (r.run_scopes_counted) {
    row("systemd run-*.scope", WithThousands(r.run_scopes));
  }
  absl::StrAppend(&out, "\n", bold, "kmemguard-runtime", reset, "\n");
  row("state directory", r.state_dir.empty() ? "-" : r.state_dir);
  if (r.unguarded.has_value()) {
    const UnguardedStarts& u = *r.unguarded;
    row("unguarded starts", absl::StrCat(WithThousands(u.count), " since boot"));
    if (u.last.has_value()) {
      row("last unguarded start",
          absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", u.last->time,
                                        absl::UTCTimeZone()),
                       u.last->container_id.empty()
                           ? ""
                           : absl::StrCat(" (", u.last->container_id, ")")));
      row("last reason", u.last->reason);
    }
  } else {
    row("unguarded starts", "unknown (counter unreadable)");
  }
  absl::StrAppend(&out, "\n", bold, "findings", reset, "\n");
  for (const Finding& f : r.findings) {
    absl::StrAppendFormat(&out, "  %s%-8s%s %s\n",
                          color ? Colour(f.severity) : "",
                          SeverityName(f.severity), color ? reset : "",
                          f.message);
  }
  absl::StrAppend(&out, "\n", bold, "what to do, in order", reset,
                  " (* = suggested for this host)\n");
  for (const RemediationStep& s : r.remediation) {
    absl::StrAppendFormat(&out, "  %d.%s %s\n", s.step, s.relevant ? "*" : " ",
                          s.title);
    if (!s.command.empty()) absl::StrAppendFormat(&out, "       $ %s\n", s.command);
    absl::StrAppendFormat(&out, "       %s\n", s.link);
  }
  return out;
}

std::string DoctorReportToPrometheus(const DoctorReport& r) {
  std::string out;
  auto gauge = [&out](absl::string_view name, absl::string_view help) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name,
                    " gauge\n");
  };
  auto sample = [&out](absl::string_view name, absl::string_view labels,
                       double value) {
    absl::StrAppend(&out, name, labels.empty() ? "" : "{", labels,
                    labels.empty() ? "" : "}", " ",
                    absl::StrFormat("%.17g", value), "\n");
  };
  gauge("kmemguard_doctor_verdict",
        "Doctor verdict: 0 ok, 1 warning, 2 critical, 3 could not inspect.");
  sample("kmemguard_doctor_verdict", "", VerdictExitCode(r.verdict));
  // For staleness alerts (deploy/prometheus/kmemguard-rules.yml): the
  // textfile collector keeps serving an old file after doctor stops.
  gauge("kmemguard_doctor_last_run_timestamp_seconds",
        "Unix time at which this report was written.");
  sample("kmemguard_doctor_last_run_timestamp_seconds", "",
         absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  gauge("kmemguard_doctor_info", "Host facts as labels; value is always 1.");
  sample("kmemguard_doctor_info",
         absl::StrCat("kernel=\"", EscapeLabel(r.kernel_release),
                      "\",kernel_class=\"", KernelClassName(r.kernel.kernel_class),
                      "\",layout=\"", CgroupLayoutName(r.layout.layout),
                      "\",ids_source=\"", EscapeLabel(r.ids_source), "\""),
         1);
  gauge("kmemguard_memcg_ids_limit", "Memory cgroup ID limit (MEM_CGROUP_ID_MAX).");
  sample("kmemguard_memcg_ids_limit", "", r.limit);
  if (r.ids_known) {
    gauge("kmemguard_memcg_ids_in_use",
          "Memory cgroup IDs in use (visible and dying cgroups).");
    sample("kmemguard_memcg_ids_in_use", "", r.in_use);
    gauge("kmemguard_memcg_ids_headroom", "Memory cgroup IDs still free.");
    sample("kmemguard_memcg_ids_headroom", "",
           std::max<int64_t>(0, r.limit - r.in_use));
    gauge("kmemguard_memcg_visible",
          "Memory cgroups visible as directories, the root included.");
    sample("kmemguard_memcg_visible", "", r.visible);
    gauge("kmemguard_memcg_dying",
          "Dying memory cgroups: removed but still holding an ID.");
    sample("kmemguard_memcg_dying", "", r.dying);
  }
  gauge("kmemguard_memcg_kmem_active",
        "Memory cgroups with kernel memory accounting active (a count).");
  sample("kmemguard_memcg_kmem_active", "", r.kmem_active);
  if (!r.kmem_cgroups.empty()) {
    gauge("kmemguard_memcg_kmem_active_parent",
          "Kernel memory accounting active (1) or not (0) on well-known "
          "parents and on inheriting parents.");
    for (const KmemCgroup& c : r.kmem_cgroups) {
      sample("kmemguard_memcg_kmem_active_parent",
             absl::StrCat("cgroup=\"", EscapeLabel(c.path), "\""),
             c.active ? 1 : 0);
    }
  }
  gauge("kmemguard_kmem_nokmem_boot", "1 when booted with cgroup.memory=nokmem.");
  sample("kmemguard_kmem_nokmem_boot", "", r.nokmem_boot ? 1 : 0);
  gauge("kmemguard_kernel_leak_prone",
        "1 when the kernel leaks memory cgroup IDs once kmem is active.");
  sample("kmemguard_kernel_leak_prone", "", r.kernel.leak_prone ? 1 : 0);
  if (r.v2_stat.has_value()) {
    gauge("kmemguard_cgroup2_dying_descendants",
          "nr_dying_descendants of the cgroup v2 root.");
    sample("kmemguard_cgroup2_dying_descendants", "",
           r.v2_stat->nr_dying_descendants);
  }
  if (r.run_scopes_counted) {
    gauge("kmemguard_systemd_run_scopes",
          "systemd run-*.scope cgroups (kubernetes#70324 differential).");
    sample("kmemguard_systemd_run_scopes", "", r.run_scopes);
  }
  if (!r.runtimes.empty() || r.kubelet.has_value()) {
    gauge("kmemguard_runtime_info",
          "Runtimes found; value 1. enables_kmem: pre-rc94 runc or kubelet.");
    auto rt_sample = [&](const RuntimeInfo& rt) {
      sample("kmemguard_runtime_info",
             absl::StrCat("name=\"", EscapeLabel(rt.name), "\",version=\"",
                          EscapeLabel(rt.version), "\",enables_kmem=\"",
                          rt.predates_rc94.value_or(false) ? "true" : "false",
                          "\",nokmem_build=\"", rt.nokmem_build, "\""),
             1);
    };
    for (const RuntimeInfo& rt : r.runtimes) rt_sample(rt);
    if (r.kubelet.has_value()) rt_sample(*r.kubelet);
  }
  if (r.unguarded.has_value()) {
    // Names fixed by issue 10; alert rules are written against them.
    absl::StrAppend(&out,
                    "# HELP kmemguard_unguarded_starts_total Containers "
                    "kmemguard-runtime started without the kmem guard "
                    "(fail-open) since boot.\n"
                    "# TYPE kmemguard_unguarded_starts_total counter\n");
    sample("kmemguard_unguarded_starts_total", "", r.unguarded->count);
    gauge("kmemguard_unguarded_last_start_timestamp_seconds",
          "Unix time of the last start without the kmem guard; 0 when none.");
    sample("kmemguard_unguarded_last_start_timestamp_seconds", "",
           r.unguarded->last.has_value()
               ? static_cast<double>(absl::ToUnixSeconds(r.unguarded->last->time))
               : 0);
  }
  if (r.watch.has_value() && r.watch->samples >= 2) {
    gauge("kmemguard_memcg_dying_growth_per_hour",
          "Growth of dying memory cgroups per hour over the watch window.");
    sample("kmemguard_memcg_dying_growth_per_hour", "", r.watch->dying_per_hour);
    if (r.watch->seconds_to_cliff.has_value()) {
      gauge("kmemguard_memcg_seconds_to_cliff",
            "Estimated seconds until the ID limit at the in-use growth rate.");
      sample("kmemguard_memcg_seconds_to_cliff", "", *r.watch->seconds_to_cliff);
    }
  }
  return out;
}

}  // namespace kmemguard
