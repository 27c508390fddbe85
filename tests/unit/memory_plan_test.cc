// SPDX-License-Identifier: Apache-2.0
//
// The plan layer of Set (runc@4d6e672 fs/memory.go Set and
// setMemoryAndSwap, spec §2.4 and §2.7) as tables: resources and the current
// limit in, the exact ordered (file, bytes) writes out. Also the rules
// around it: ApplyUnlimitedSwapRule, MemoryAssigned, ValidateMemoryResources.

#include <cstdint>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "catch2/catch.hpp"
#include "kmemguard/core/memory.h"
#include "kmemguard/core/memory_plan.h"
#include "kmemguard/core/resources.h"
#include "testing/status_matchers.h"

namespace kmemguard {
namespace {

std::string Show(const WritePlan& plan) {
  std::ostringstream out;
  for (const ControlWrite& w : plan) out << w.file << "=" << w.value << "; ";
  return out.str();
}

#define CHECK_PLAN(got, ...)                 \
  do {                                       \
    const WritePlan kmg_want_ = __VA_ARGS__; \
    const WritePlan kmg_got_ = (got);        \
    INFO("got:  " << Show(kmg_got_));        \
    INFO("want: " << Show(kmg_want_));       \
    CHECK(kmg_got_ == kmg_want_);            \
  } while (0)

constexpr uint64_t kUnlimitedLimit = 9223372036854771712ULL;

MemoryResources LimitAndSwap(int64_t limit, int64_t memsw) {
  MemoryResources r;
  r.limit_bytes = limit;
  r.memsw_limit_bytes = memsw;
  return r;
}

// ------------------------------------------------------- memory and memsw

TEST_CASE("Plan writes memsw first when it grows past the current limit",
          "[unit]") {
  // A fresh cgroup (current limit "unlimited" is larger) and a shrink are in
  // the next cases; here the current limit is below the new memsw.
  CHECK_PLAN(PlanMemorySet(LimitAndSwap(4096, 8192), 1024),
             {{kMemswLimitInBytes, "8192"}, {kLimitInBytes, "4096"}});
  // Current limit one below the new memsw: still strictly less.
  CHECK_PLAN(PlanMemorySet(LimitAndSwap(4096, 8192), 8191),
             {{kMemswLimitInBytes, "8192"}, {kLimitInBytes, "4096"}});
}

TEST_CASE("Plan writes memsw first when memsw is -1", "[unit]") {
  // Whatever the current limit, -1 is the largest memsw.
  for (uint64_t current : {uint64_t{0}, uint64_t{4096}, kUnlimitedLimit}) {
    INFO("current " << current);
    CHECK_PLAN(PlanMemorySet(LimitAndSwap(4096, -1), current),
               {{kMemswLimitInBytes, "-1"}, {kLimitInBytes, "4096"}});
    CHECK_PLAN(PlanMemorySet(LimitAndSwap(-1, -1), current),
               {{kMemswLimitInBytes, "-1"}, {kLimitInBytes, "-1"}});
  }
}

TEST_CASE("Plan writes the limit first when memsw shrinks or stays equal",
          "[unit]") {
  // Shrinking from an unlimited cgroup: the current limit is above memsw.
  CHECK_PLAN(PlanMemorySet(LimitAndSwap(4096, 8192), kUnlimitedLimit),
             {{kLimitInBytes, "4096"}, {kMemswLimitInBytes, "8192"}});
  CHECK_PLAN(PlanMemorySet(LimitAndSwap(1024, 2048), 4096),
             {{kLimitInBytes, "1024"}, {kMemswLimitInBytes, "2048"}});
  // Equal is not "strictly less": limit first.
  CHECK_PLAN(PlanMemorySet(LimitAndSwap(4096, 8192), 8192),
             {{kLimitInBytes, "4096"}, {kMemswLimitInBytes, "8192"}});
  // An unlimited memory limit with a finite memsw, shrinking.
  CHECK_PLAN(PlanMemorySet(LimitAndSwap(-1, 8192), kUnlimitedLimit),
             {{kLimitInBytes, "-1"}, {kMemswLimitInBytes, "8192"}});
}

TEST_CASE("Plan writes only the limit, or only memsw, when one is zero",
          "[unit]") {
  // No current limit is needed then, so any value is ignored.
  MemoryResources limit_only;
  limit_only.limit_bytes = 1024;
  CHECK_FALSE(PlanNeedsCurrentLimit(limit_only));
  CHECK_PLAN(PlanMemorySet(limit_only, 0), {{kLimitInBytes, "1024"}});
  CHECK_PLAN(PlanMemorySet(limit_only, kUnlimitedLimit),
             {{kLimitInBytes, "1024"}});

  MemoryResources memsw_only;
  memsw_only.memsw_limit_bytes = 2048;
  CHECK_FALSE(PlanNeedsCurrentLimit(memsw_only));
  CHECK_PLAN(PlanMemorySet(memsw_only, 0), {{kMemswLimitInBytes, "2048"}});

  MemoryResources memsw_unlimited;
  memsw_unlimited.memsw_limit_bytes = -1;
  CHECK_PLAN(PlanMemorySet(memsw_unlimited, 0), {{kMemswLimitInBytes, "-1"}});

  CHECK(PlanNeedsCurrentLimit(LimitAndSwap(1, 2)));
  CHECK(PlanNeedsCurrentLimit(LimitAndSwap(-1, -1)));
}

TEST_CASE("An all-zero configuration plans no write", "[unit]") {
  CHECK(PlanMemorySet(MemoryResources{}, 0).empty());
  CHECK(PlanMemorySet(MemoryResources{}, kUnlimitedLimit).empty());
}

// ------------------------------------------------------ the other files

TEST_CASE("Plan orders kernel, reservation, kernel TCP, oom_control, "
          "swappiness after the limits",
          "[unit]") {
  MemoryResources r;
  r.limit_bytes = 1 << 20;
  r.memsw_limit_bytes = 2 << 20;
  r.kernel_limit_bytes = 4 << 20;
  r.reservation_bytes = 512 << 10;
  r.kernel_tcp_limit_bytes = 64 << 10;
  r.oom_kill_disable = true;
  r.swappiness = 0;
  CHECK_PLAN(PlanMemorySet(r, kUnlimitedLimit),
             {{kLimitInBytes, "1048576"},
              {kMemswLimitInBytes, "2097152"},
              {kKmemLimitInBytes, "4194304"},
              {kSoftLimitInBytes, "524288"},
              {kKmemTcpLimitInBytes, "65536"},
              {kOomControl, "1"},
              {kSwappiness, "0"}});
}

TEST_CASE("Plan writes each other file alone when only it is set", "[unit]") {
  MemoryResources kernel;
  kernel.kernel_limit_bytes = -1;
  CHECK_PLAN(PlanMemorySet(kernel, 0), {{kKmemLimitInBytes, "-1"}});

  MemoryResources reservation;
  reservation.reservation_bytes = 1024;
  CHECK_PLAN(PlanMemorySet(reservation, 0), {{kSoftLimitInBytes, "1024"}});

  MemoryResources tcp;
  tcp.kernel_tcp_limit_bytes = 4096;
  CHECK_PLAN(PlanMemorySet(tcp, 0), {{kKmemTcpLimitInBytes, "4096"}});

  MemoryResources oom;
  oom.oom_kill_disable = true;
  CHECK_PLAN(PlanMemorySet(oom, 0), {{kOomControl, "1"}});

  MemoryResources swappiness;
  swappiness.swappiness = 60;
  CHECK_PLAN(PlanMemorySet(swappiness, 0), {{kSwappiness, "60"}});
}

TEST_CASE("Plan never writes oom_control 0 when the OOM killer stays on",
          "[unit]") {
  MemoryResources r;
  r.limit_bytes = 1024;
  r.oom_kill_disable = false;
  for (const ControlWrite& w : PlanMemorySet(r, 0)) CHECK(w.file != kOomControl);
}

TEST_CASE("Swappiness is planned for 0..100 but not for the -1 sentinel or "
          "above 100",
          "[unit]") {
  MemoryResources r;
  r.swappiness = 100;
  CHECK_PLAN(PlanMemorySet(r, 0), {{kSwappiness, "100"}});
  r.swappiness = UINT64_MAX;  // int64 -1: runc's "unset"
  CHECK(PlanMemorySet(r, 0).empty());
  r.swappiness = 101;
  CHECK(PlanMemorySet(r, 0).empty());
  r.swappiness = UINT64_MAX - 1;
  CHECK(PlanMemorySet(r, 0).empty());
  r.swappiness.reset();
  CHECK(PlanMemorySet(r, 0).empty());
}

TEST_CASE("Plan values are plain decimal without a newline", "[unit]") {
  MemoryResources r;
  r.limit_bytes = INT64_MAX;
  r.reservation_bytes = -1;
  for (const ControlWrite& w : PlanMemorySet(r, 0)) {
    CHECK_FALSE(absl::StrContains(w.value, "\n"));
    CHECK_FALSE(absl::StrContains(w.value, " "));
  }
  CHECK_PLAN(PlanMemorySet(r, 0), {{kLimitInBytes, "9223372036854775807"},
                                   {kSoftLimitInBytes, "-1"}});
}

// -------------------------------------------------- ApplyUnlimitedSwapRule

TEST_CASE("An unlimited limit forces memsw to -1 when the memsw file exists",
          "[unit]") {
  MemoryResources asked = LimitAndSwap(-1, 0);
  CHECK(ApplyUnlimitedSwapRule(asked, true).memsw_limit_bytes == -1);
  // Even a positive memsw the caller asked for (runc@4d6e672 overwrote it;
  // changed only in rc91).
  MemoryResources positive = LimitAndSwap(-1, 1 << 30);
  MemoryResources out = ApplyUnlimitedSwapRule(positive, true);
  CHECK(out.memsw_limit_bytes == -1);
  CHECK(out.limit_bytes == -1);
  CHECK_PLAN(PlanMemorySet(out, kUnlimitedLimit),
             {{kMemswLimitInBytes, "-1"}, {kLimitInBytes, "-1"}});
}

TEST_CASE("The unlimited swap rule changes nothing without the memsw file or "
          "a -1 limit",
          "[unit]") {
  MemoryResources positive = LimitAndSwap(-1, 1 << 30);
  positive.reservation_bytes = 7;
  CHECK(ApplyUnlimitedSwapRule(positive, false) == positive);
  MemoryResources finite = LimitAndSwap(4096, 8192);
  finite.swappiness = 5;
  CHECK(ApplyUnlimitedSwapRule(finite, true) == finite);
  MemoryResources none;
  CHECK(ApplyUnlimitedSwapRule(none, true) == none);
}

// ------------------------------------------------------------ MemoryAssigned

TEST_CASE("MemoryAssigned follows runc's memoryAssigned term by term",
          "[unit]") {
  MemoryResources r;
  CHECK_FALSE(MemoryAssigned(r));

  SECTION("limit counts when non-zero, -1 included") {
    r.limit_bytes = 1;
    CHECK(MemoryAssigned(r));
    r.limit_bytes = -1;
    CHECK(MemoryAssigned(r));
  }
  SECTION("reservation counts when non-zero, -1 included") {
    r.reservation_bytes = 1;
    CHECK(MemoryAssigned(r));
    r.reservation_bytes = -1;
    CHECK(MemoryAssigned(r));
  }
  SECTION("memsw counts only when positive") {
    r.memsw_limit_bytes = -1;
    CHECK_FALSE(MemoryAssigned(r));
    r.memsw_limit_bytes = 1;
    CHECK(MemoryAssigned(r));
  }
  SECTION("kernel counts only when positive") {
    r.kernel_limit_bytes = -1;
    CHECK_FALSE(MemoryAssigned(r));
    r.kernel_limit_bytes = 1;
    CHECK(MemoryAssigned(r));
  }
  SECTION("kernel TCP counts only when positive") {
    r.kernel_tcp_limit_bytes = -1;
    CHECK_FALSE(MemoryAssigned(r));
    r.kernel_tcp_limit_bytes = 1;
    CHECK(MemoryAssigned(r));
  }
  SECTION("disabling the OOM killer counts") {
    r.oom_kill_disable = true;
    CHECK(MemoryAssigned(r));
  }
  SECTION("swappiness counts when set and not the -1 sentinel") {
    r.swappiness = 0;
    CHECK(MemoryAssigned(r));
    r.swappiness = 100;
    CHECK(MemoryAssigned(r));
    r.swappiness = UINT64_MAX;
    CHECK_FALSE(MemoryAssigned(r));
    r.swappiness = UINT64_MAX - 1;  // -2 as int64: still "set"
    CHECK(MemoryAssigned(r));
  }
  SECTION("-1 for memsw, kernel and kernel TCP together is not assigned") {
    r.memsw_limit_bytes = -1;
    r.kernel_limit_bytes = -1;
    r.kernel_tcp_limit_bytes = -1;
    r.swappiness = UINT64_MAX;
    CHECK_FALSE(MemoryAssigned(r));
  }
}

// -------------------------------------------------- ValidateMemoryResources

TEST_CASE("Swappiness above 100 is refused with runc's text", "[unit]") {
  MemoryResources r;
  r.swappiness = 101;
  absl::Status s = ValidateMemoryResources(r);
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() == "invalid value:101. valid memory swappiness range is 0-100");
  r.swappiness = UINT64_MAX - 1;
  absl::Status huge = ValidateMemoryResources(r);
  REQUIRE_FALSE(huge.ok());
  // Printed as unsigned decimal.
  CHECK(huge.message() ==
        "invalid value:18446744073709551614. valid memory swappiness range is "
        "0-100");
}

TEST_CASE("Swappiness 0, 100, the sentinel and unset are valid", "[unit]") {
  MemoryResources r;
  CHECK_OK(ValidateMemoryResources(r));
  for (uint64_t v : {uint64_t{0}, uint64_t{60}, uint64_t{100}, UINT64_MAX}) {
    INFO(v);
    r.swappiness = v;
    CHECK_OK(ValidateMemoryResources(r));
  }
}

TEST_CASE("Sizes below -1 are refused, naming the field; -1 and 0 are valid",
          "[unit]") {
  struct Field {
    const char* name;
    int64_t MemoryResources::*member;
  };
  const Field fields[] = {
      {"memory limit", &MemoryResources::limit_bytes},
      {"memory reservation", &MemoryResources::reservation_bytes},
      {"memory+swap limit", &MemoryResources::memsw_limit_bytes},
      {"kernel memory limit", &MemoryResources::kernel_limit_bytes},
      {"kernel TCP memory limit", &MemoryResources::kernel_tcp_limit_bytes},
  };
  for (const Field& f : fields) {
    INFO(f.name);
    MemoryResources r;
    r.*f.member = -2;
    absl::Status s = ValidateMemoryResources(r);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(s.message(), f.name));
    CHECK(absl::StrContains(s.message(), "-2"));
    r.*f.member = INT64_MIN;
    CHECK_FALSE(ValidateMemoryResources(r).ok());
    r.*f.member = -1;
    CHECK_OK(ValidateMemoryResources(r));
    r.*f.member = INT64_MAX;
    CHECK_OK(ValidateMemoryResources(r));
  }
}

TEST_CASE("KmemPolicy names round-trip and unknown names are refused",
          "[unit]") {
  for (KmemPolicy p :
       {KmemPolicy::kGuarded, KmemPolicy::kLegacy, KmemPolicy::kDisabled}) {
    absl::StatusOr<KmemPolicy> back = ParseKmemPolicy(KmemPolicyName(p));
    REQUIRE_OK(back);
    CHECK(*back == p);
  }
  CHECK(KmemPolicyName(KmemPolicy::kGuarded) == "guarded");
  CHECK(KmemPolicyName(KmemPolicy::kLegacy) == "legacy");
  CHECK(KmemPolicyName(KmemPolicy::kDisabled) == "disabled");
  absl::StatusOr<KmemPolicy> bad = ParseKmemPolicy("Guarded");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kmemguard
