// SPDX-License-Identifier: Apache-2.0
//
// Hermetic fixture trees: a declarative description of a cgroup v1 memory
// hierarchy, materialised into a fresh mkdtemp directory and removed again
// by the destructor. Control files are ordinary files there, so the real
// RealCgroupFs (opened with RootCheck::kAllowPlainDir) runs on them
// unchanged. Missing files stay missing: CgroupFs never creates one.

#ifndef KMEMGUARD_TESTS_FIXTURE_TREE_H_
#define KMEMGUARD_TESTS_FIXTURE_TREE_H_

#include <map>
#include <memory>
#include <string>

#include "kmemguard/core/cgroupfs.h"

namespace kmemguard::testing {

// How v1 reports "no limit" with 4 KiB pages (PAGE_COUNTER_MAX * PAGE_SIZE).
inline constexpr char kUnlimited[] = "9223372036854771712";

using Files = std::map<std::string, std::string>;

// The control files of a fresh v1 memory cgroup, values with the kernel's
// trailing newline.
struct V1Options {
  bool memsw = true;   // swap accounting on (memory.memsw.*)
  bool kmem = true;    // memory.kmem.* (absent on some 6.x kernels)
  bool kmem_tcp = true;
};
Files V1MemoryFiles(V1Options options = {});

class FixtureTree {
 public:
  FixtureTree();
  ~FixtureTree();
  FixtureTree(const FixtureTree&) = delete;
  FixtureTree& operator=(const FixtureTree&) = delete;

  // The hierarchy root (absolute).
  const std::string& root() const { return root_; }
  // Creates directory `rel` (and parents) with `files` in it.
  void Dir(const std::string& rel, const Files& files = {});
  // Writes (creating) one file.
  void Write(const std::string& rel_file, const std::string& content);
  // Returns the content of a file, or "<missing>".
  std::string Read(const std::string& rel_file) const;
  bool Exists(const std::string& rel) const;
  // A RealCgroupFs anchored at root().
  std::unique_ptr<RealCgroupFs> OpenFs() const;

 private:
  std::string root_;
};

// Parses a path that tests know is valid.
CgroupPath P(const std::string& relative);

}  // namespace kmemguard::testing

#endif  // KMEMGUARD_TESTS_FIXTURE_TREE_H_
