// SPDX-License-Identifier: Apache-2.0
//
// Status assertions that print the status on failure.

#ifndef KMEMGUARD_TESTS_STATUS_MATCHERS_H_
#define KMEMGUARD_TESTS_STATUS_MATCHERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "catch2/catch.hpp"

namespace kmemguard::testing {

inline const absl::Status& AsStatus(const absl::Status& s) { return s; }
template <typename T>
absl::Status AsStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

}  // namespace kmemguard::testing

#define REQUIRE_OK(expr)                                              \
  do {                                                                \
    const absl::Status kmg_status_ =                                  \
        ::kmemguard::testing::AsStatus(expr);                         \
    INFO("status: " << kmg_status_.ToString());                       \
    REQUIRE(kmg_status_.ok());                                        \
  } while (0)

#define CHECK_OK(expr)                                                \
  do {                                                                \
    const absl::Status kmg_status_ =                                  \
        ::kmemguard::testing::AsStatus(expr);                         \
    INFO("status: " << kmg_status_.ToString());                       \
    CHECK(kmg_status_.ok());                                          \
  } while (0)

#endif  // KMEMGUARD_TESTS_STATUS_MATCHERS_H_
