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

namespace {

json KernelJson(const DoctorReport& r) {
  return {{"release", OrNull(r.kernel_release)},
          {"class", std::string(KernelClassName(r.kernel.kernel_class))},
          {"summary", r.kernel.summary},
          {"kmem_always_accounted", r.kernel.kmem_always_accounted},
          {"kmem_limit_refused", r.kernel.kmem_limit_refused},
          {"leak_prone", r.kernel.leak_prone},
          {"nokmem_boot", r.nokmem_boot}};
}

json IdsJson(const DoctorReport& r) {
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
  return ids;
}

json KmemJson(const DoctorReport& r) {
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
  return {{"inspected_per_cgroup", r.kmem_inspected},
          {"active_count", r.kmem_active},
          {"method", r.kmem_method},
          {"cgroups", cgroups}};
}

json WatchJson(const DoctorReport& r) {
  if (!r.watch.has_value()) return json();
  return {{"samples", r.watch->samples},
          {"duration_seconds", r.watch->duration_seconds},
          {"dying_per_hour", r.watch->dying_per_hour},
          {"in_use_per_hour", r.watch->in_use_per_hour},
          {"seconds_to_cliff", r.watch->seconds_to_cliff.has_value()
                                   ? json(*r.watch->seconds_to_cliff)
                                   : json()}};
}

json UnguardedJson(const DoctorReport& r) {
  if (!r.unguarded.has_value()) return json();
  const UnguardedStarts& u = *r.unguarded;
  return {
      {"state_dir", r.state_dir},
      {"count", u.count},
      {"last_start_unix",
       u.last.has_value() ? json(absl::ToUnixSeconds(u.last->time)) : json()},
      {"last_container",
       u.last.has_value() ? OrNull(u.last->container_id) : json()},
      {"last_reason", u.last.has_value() ? json(u.last->reason) : json()}};
}

json AssessmentJson(const DoctorReport& r, json* menu) {
  json findings = json::array();
  for (const Finding& f : r.findings) {
    findings.push_back({{"id", f.id},
                        {"severity", std::string(SeverityName(f.severity))},
                        {"message", f.message}});
  }
  *menu = json::array();
  for (const RemediationStep& s : r.remediation) {
    menu->push_back({{"step", s.step},
                     {"id", s.id},
                     {"title", s.title},
                     {"command", OrNull(s.command)},
                     {"link", s.link},
                     {"relevant", s.relevant}});
  }
  return findings;
}

}  // namespace

std::string DoctorReportToJson(const DoctorReport& r) {
  json j;
  j["schema_version"] = 1;
  j["verdict"] = std::string(VerdictName(r.verdict));
  j["exit_code"] = VerdictExitCode(r.verdict);
  j["kernel"] = KernelJson(r);
  j["layout"] = {{"mode", std::string(CgroupLayoutName(r.layout.layout))},
                 {"memory_mount", OrNull(r.layout.memory_mount)},
                 {"unified_mount", OrNull(r.layout.unified_mount)},
                 {"systemd_mount", OrNull(r.layout.systemd_mount)}};
  j["memcg_ids"] = IdsJson(r);
  j["v2"] = r.v2_stat.has_value()
                ? json{{"nr_descendants", r.v2_stat->nr_descendants},
                       {"nr_dying_descendants", r.v2_stat->nr_dying_descendants}}
                : json();
  j["kmem"] = KmemJson(r);
  json runtimes = json::array();
  for (const RuntimeInfo& rt : r.runtimes) runtimes.push_back(RuntimeJson(rt));
  j["runtimes"] = runtimes;
  j["kubelet"] = r.kubelet.has_value() ? RuntimeJson(*r.kubelet) : json();
  j["systemd_run_scopes"] = {
      {"counted", r.run_scopes_counted},
      {"count", r.run_scopes},
      {"threshold", r.run_scope_threshold}};
  j["watch"] = WatchJson(r);
  j["unguarded_starts"] = UnguardedJson(r);
  json menu;
  j["findings"] = AssessmentJson(r, &menu);
  j["remediation"] = menu;
  j["errors"] = r.errors;
  // Paths, mount points and errors are host text: never let dump() throw.
  return GoCoerceJsonStrings(j).dump(2);
}

namespace {

// The text report, section by section.
struct TextReport {
  std::string out;
  bool color = false;
  const char* reset = "";
  const char* bold = "";
  void Row(absl::string_view key, absl::string_view value) {
    absl::StrAppendFormat(&out, "  %-24s %s\n", key, value);
  }
  void Heading(absl::string_view title, absl::string_view note = "") {
    absl::StrAppend(&out, "\n", bold, title, reset, note, "\n");
  }
};

void TextHost(const DoctorReport& r, TextReport* t) {
  t->Row("kernel", r.kernel_release.empty() ? "unknown" : r.kernel_release);
  t->Row("kernel class", KernelClassName(r.kernel.kernel_class));
  t->Row("cgroup layout", CgroupLayoutName(r.layout.layout));
  t->Row("memory hierarchy",
      r.layout.memory_mount.empty() ? "-" : r.layout.memory_mount);
  t->Row("cgroup.memory=nokmem", r.nokmem_boot ? "yes" : "no");
}

void TextIds(const DoctorReport& r, TextReport* t) {
  if (r.ids_known) {
    t->Row("in use", absl::StrFormat("%s of %s (%.1f %%)", WithThousands(r.in_use),
                                  WithThousands(r.limit),
                                  100.0 * r.in_use / r.limit));
    t->Row("headroom", WithThousands(std::max<int64_t>(0, r.limit - r.in_use)));
    t->Row("visible", WithThousands(r.visible));
    t->Row("dying", WithThousands(r.dying));
    t->Row("thresholds", absl::StrFormat("warning %.0f %%, critical %.0f %%",
                                      100 * r.warning_ratio,
                                      100 * r.critical_ratio));
    t->Row("source", r.ids_source);
  } else {
    t->Row("in use", "unknown");
  }
  if (r.v2_stat.has_value()) {
    t->Row("v2 nr_dying_descendants", WithThousands(r.v2_stat->nr_dying_descendants));
  }
  if (r.watch.has_value()) {
    t->Row("watched", absl::StrFormat("%d samples over %.0f s", r.watch->samples,
                                   r.watch->duration_seconds));
    t->Row("dying growth", absl::StrFormat("%.1f per hour", r.watch->dying_per_hour));
    t->Row("time to the cliff",
        r.watch->seconds_to_cliff.has_value()
            ? absl::StrFormat("%.1f h", *r.watch->seconds_to_cliff / 3600)
            : std::string("not growing"));
  }
}

void TextKmem(const DoctorReport& r, TextReport* t) {
  t->Row("active cgroups", WithThousands(r.kmem_active));
  t->Row("method", r.kmem_method.empty() ? "-" : r.kmem_method);
  for (const KmemCgroup& c : r.kmem_cgroups) {
    t->Row(c.path, absl::StrCat(c.active ? "active" : "inactive",
                             c.use_hierarchy == 1   ? ", use_hierarchy=1"
                             : c.use_hierarchy == 0 ? ", use_hierarchy=0"
                                                    : "",
                             ", ", c.children, " children; ", c.evidence));
  }
}

void TextRuntimes(const DoctorReport& r, TextReport* t) {
  if (r.runtimes.empty() && !r.kubelet.has_value()) t->Row("(none found)", "");
  auto runtime_row = [t](const RuntimeInfo& rt) {
    std::string v = rt.error.empty() ? rt.version : rt.error;
    if (rt.predates_rc94.has_value()) {
      absl::StrAppend(&v, *rt.predates_rc94 ? ", enables kmem (pre-rc94 runc)"
                                            : ", never enables kmem");
    }
    absl::StrAppend(&v, ", nokmem build: ", rt.nokmem_build, " (", rt.path,
                    ")");
    t->Row(rt.name, v);
  };
  for (const RuntimeInfo& rt : r.runtimes) runtime_row(rt);
  if (r.kubelet.has_value()) runtime_row(*r.kubelet);
  if (r.run_scopes_counted) {
    t->Row("systemd run-*.scope", WithThousands(r.run_scopes));
  }
}

void TextUnguarded(const DoctorReport& r, TextReport* t) {
  t->Row("state directory", r.state_dir.empty() ? "-" : r.state_dir);
  if (r.unguarded.has_value()) {
    const UnguardedStarts& u = *r.unguarded;
    t->Row("unguarded starts", absl::StrCat(WithThousands(u.count), " since boot"));
    if (u.last.has_value()) {
      t->Row("last unguarded start",
          absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", u.last->time,
                                        absl::UTCTimeZone()),
                       u.last->container_id.empty()
                           ? ""
                           : absl::StrCat(" (", u.last->container_id, ")")));
      t->Row("last reason", u.last->reason);
    }
  } else {
    t->Row("unguarded starts", "unknown (counter unreadable)");
  }
}

void TextAssessment(const DoctorReport& r, TextReport* t) {
  for (const Finding& f : r.findings) {
    absl::StrAppendFormat(&t->out, "  %s%-8s%s %s\n",
                          t->color ? Colour(f.severity) : "",
                          SeverityName(f.severity), t->color ? t->reset : "",
                          f.message);
  }
  t->Heading("what to do, in order", " (* = suggested for this host)");
  for (const RemediationStep& s : r.remediation) {
    absl::StrAppendFormat(&t->out, "  %d.%s %s\n", s.step, s.relevant ? "*" : " ",
                          s.title);
    if (!s.command.empty()) absl::StrAppendFormat(&t->out, "       $ %s\n", s.command);
    absl::StrAppendFormat(&t->out, "       %s\n", s.link);
  }
}

}  // namespace

std::string DoctorReportToText(const DoctorReport& r, bool color) {
  TextReport t;
  t.color = color;
  t.reset = color ? "\033[0m" : "";
  t.bold = color ? "\033[1m" : "";
  absl::StrAppend(&t.out, t.bold, "kmemguard doctor", t.reset, ": ",
                  color ? Colour(r.verdict) : "",
                  absl::AsciiStrToUpper(VerdictName(r.verdict)), t.reset, "\n");
  const struct {
    const char* heading;
    void (*write)(const DoctorReport&, TextReport*);
  } sections[] = {
      {"host", TextHost},
      {"memory cgroup IDs", TextIds},
      {"kmem accounting", TextKmem},
      {"runtimes", TextRuntimes},
      {"kmemguard-runtime", TextUnguarded},
      {"findings", TextAssessment},
  };
  for (const auto& s : sections) {
    t.Heading(s.heading);
    s.write(r, &t);
  }
  return t.out;
}

namespace {

// The Prometheus text exposition, section by section.
struct Metrics {
  std::string out;
  void Gauge(absl::string_view name, absl::string_view help) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name,
                    " gauge\n");
  }
  void Sample(absl::string_view name, absl::string_view labels, double value) {
    absl::StrAppend(&out, name, labels.empty() ? "" : "{", labels,
                    labels.empty() ? "" : "}", " ",
                    absl::StrFormat("%.17g", value), "\n");
  }
};

void MetricsHostAndIds(const DoctorReport& r, Metrics* m) {
  m->Gauge("kmemguard_doctor_verdict",
        "Doctor verdict: 0 ok, 1 warning, 2 critical, 3 could not inspect.");
  m->Sample("kmemguard_doctor_verdict", "", VerdictExitCode(r.verdict));
  // For staleness alerts (deploy/prometheus/kmemguard-rules.yml): the
  // textfile collector keeps serving an old file after doctor stops.
  m->Gauge("kmemguard_doctor_last_run_timestamp_seconds",
        "Unix time at which this report was written.");
  m->Sample("kmemguard_doctor_last_run_timestamp_seconds", "",
         absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  m->Gauge("kmemguard_doctor_info", "Host facts as labels; value is always 1.");
  m->Sample("kmemguard_doctor_info",
         absl::StrCat("kernel=\"", EscapeLabel(r.kernel_release),
                      "\",kernel_class=\"", KernelClassName(r.kernel.kernel_class),
                      "\",layout=\"", CgroupLayoutName(r.layout.layout),
                      "\",ids_source=\"", EscapeLabel(r.ids_source), "\""),
         1);
  m->Gauge("kmemguard_memcg_ids_limit", "Memory cgroup ID limit (MEM_CGROUP_ID_MAX).");
  m->Sample("kmemguard_memcg_ids_limit", "", r.limit);
  if (r.ids_known) {
    m->Gauge("kmemguard_memcg_ids_in_use",
          "Memory cgroup IDs in use (visible and dying cgroups).");
    m->Sample("kmemguard_memcg_ids_in_use", "", r.in_use);
    m->Gauge("kmemguard_memcg_ids_headroom", "Memory cgroup IDs still free.");
    m->Sample("kmemguard_memcg_ids_headroom", "",
           std::max<int64_t>(0, r.limit - r.in_use));
    m->Gauge("kmemguard_memcg_visible",
          "Memory cgroups visible as directories, the root included.");
    m->Sample("kmemguard_memcg_visible", "", r.visible);
    m->Gauge("kmemguard_memcg_dying",
          "Dying memory cgroups: removed but still holding an ID.");
    m->Sample("kmemguard_memcg_dying", "", r.dying);
  }
}

void MetricsKmem(const DoctorReport& r, Metrics* m) {
  m->Gauge("kmemguard_memcg_kmem_active",
        "Memory cgroups with kernel memory accounting active (a count).");
  m->Sample("kmemguard_memcg_kmem_active", "", r.kmem_active);
  if (!r.kmem_cgroups.empty()) {
    m->Gauge("kmemguard_memcg_kmem_active_parent",
          "Kernel memory accounting active (1) or not (0) on well-known "
          "parents and on inheriting parents.");
    for (const KmemCgroup& c : r.kmem_cgroups) {
      m->Sample("kmemguard_memcg_kmem_active_parent",
             absl::StrCat("cgroup=\"", EscapeLabel(c.path), "\""),
             c.active ? 1 : 0);
    }
  }
  m->Gauge("kmemguard_kmem_nokmem_boot", "1 when booted with cgroup.memory=nokmem.");
  m->Sample("kmemguard_kmem_nokmem_boot", "", r.nokmem_boot ? 1 : 0);
  m->Gauge("kmemguard_kernel_leak_prone",
        "1 when the kernel leaks memory cgroup IDs once kmem is active.");
  m->Sample("kmemguard_kernel_leak_prone", "", r.kernel.leak_prone ? 1 : 0);
  if (r.v2_stat.has_value()) {
    m->Gauge("kmemguard_cgroup2_dying_descendants",
          "nr_dying_descendants of the cgroup v2 root.");
    m->Sample("kmemguard_cgroup2_dying_descendants", "",
           r.v2_stat->nr_dying_descendants);
  }
  if (r.run_scopes_counted) {
    m->Gauge("kmemguard_systemd_run_scopes",
          "systemd run-*.scope cgroups (kubernetes#70324 differential).");
    m->Sample("kmemguard_systemd_run_scopes", "", r.run_scopes);
  }
}

void MetricsRuntimes(const DoctorReport& r, Metrics* m) {
  if (!r.runtimes.empty() || r.kubelet.has_value()) {
    m->Gauge("kmemguard_runtime_info",
          "Runtimes found; value 1. enables_kmem: pre-rc94 runc or kubelet.");
    auto rt_sample = [m](const RuntimeInfo& rt) {
      m->Sample("kmemguard_runtime_info",
             absl::StrCat("name=\"", EscapeLabel(rt.name), "\",version=\"",
                          EscapeLabel(rt.version), "\",enables_kmem=\"",
                          rt.predates_rc94.value_or(false) ? "true" : "false",
                          "\",nokmem_build=\"", rt.nokmem_build, "\""),
             1);
    };
    for (const RuntimeInfo& rt : r.runtimes) rt_sample(rt);
    if (r.kubelet.has_value()) rt_sample(*r.kubelet);
  }
}

void MetricsUnguarded(const DoctorReport& r, Metrics* m) {
  if (r.unguarded.has_value()) {
    // Names fixed by issue 10; alert rules are written against them.
    absl::StrAppend(&m->out,
                    "# HELP kmemguard_unguarded_starts_total Containers "
                    "kmemguard-runtime started without the kmem guard "
                    "(fail-open) since boot.\n"
                    "# TYPE kmemguard_unguarded_starts_total counter\n");
    m->Sample("kmemguard_unguarded_starts_total", "", r.unguarded->count);
    m->Gauge("kmemguard_unguarded_last_start_timestamp_seconds",
          "Unix time of the last start without the kmem guard; 0 when none.");
    m->Sample("kmemguard_unguarded_last_start_timestamp_seconds", "",
           r.unguarded->last.has_value()
               ? static_cast<double>(absl::ToUnixSeconds(r.unguarded->last->time))
               : 0);
  }
}

void MetricsWatch(const DoctorReport& r, Metrics* m) {
  if (r.watch.has_value() && r.watch->samples >= 2) {
    m->Gauge("kmemguard_memcg_dying_growth_per_hour",
          "Growth of dying memory cgroups per hour over the watch window.");
    m->Sample("kmemguard_memcg_dying_growth_per_hour", "", r.watch->dying_per_hour);
    if (r.watch->seconds_to_cliff.has_value()) {
      m->Gauge("kmemguard_memcg_seconds_to_cliff",
            "Estimated seconds until the ID limit at the in-use growth rate.");
      m->Sample("kmemguard_memcg_seconds_to_cliff", "", *r.watch->seconds_to_cliff);
    }
  }
}

}  // namespace

std::string DoctorReportToPrometheus(const DoctorReport& r) {
  Metrics m;
  MetricsHostAndIds(r, &m);
  MetricsKmem(r, &m);
  MetricsRuntimes(r, &m);
  MetricsUnguarded(r, &m);
  MetricsWatch(r, &m);
  return m.out;
}

}  // namespace kmemguard
