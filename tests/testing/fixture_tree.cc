// SPDX-License-Identifier: Apache-2.0

#include "testing/fixture_tree.h"

#include <stdlib.h>

#include <sstream>
#include <stdexcept>

#include "boost/filesystem.hpp"
#include "boost/filesystem/fstream.hpp"

namespace kmemguard::testing {

namespace fs = boost::filesystem;

Files V1MemoryFiles(V1Options o) {
  Files f = {
      {"cgroup.procs", ""},
      {"memory.limit_in_bytes", std::string(kUnlimited) + "\n"},
      {"memory.usage_in_bytes", "0\n"},
      {"memory.max_usage_in_bytes", "0\n"},
      {"memory.failcnt", "0\n"},
      {"memory.soft_limit_in_bytes", std::string(kUnlimited) + "\n"},
      {"memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"},
      {"memory.swappiness", "60\n"},
      {"memory.use_hierarchy", "1\n"},
      {"memory.force_empty", ""},
      {"memory.stat", "cache 4096\nrss 8192\ntotal_cache 4096\n"
                      "total_rss 8192\nhierarchical_memory_limit "
                      "9223372036854771712\n"},
  };
  if (o.memsw) {
    f["memory.memsw.limit_in_bytes"] = std::string(kUnlimited) + "\n";
    f["memory.memsw.usage_in_bytes"] = "0\n";
    f["memory.memsw.max_usage_in_bytes"] = "0\n";
    f["memory.memsw.failcnt"] = "0\n";
  }
  if (o.kmem) {
    f["memory.kmem.limit_in_bytes"] = std::string(kUnlimited) + "\n";
    f["memory.kmem.usage_in_bytes"] = "0\n";
    f["memory.kmem.max_usage_in_bytes"] = "0\n";
    f["memory.kmem.failcnt"] = "0\n";
  }
  if (o.kmem_tcp) {
    f["memory.kmem.tcp.limit_in_bytes"] = std::string(kUnlimited) + "\n";
    f["memory.kmem.tcp.usage_in_bytes"] = "0\n";
    f["memory.kmem.tcp.max_usage_in_bytes"] = "0\n";
    f["memory.kmem.tcp.failcnt"] = "0\n";
  }
  return f;
}

FixtureTree::FixtureTree() {
  // mkdtemp: a fresh directory only we can have created.
  std::string tmpl =
      (fs::temp_directory_path() / "kmemguard-fixture-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  root_ = tmpl;
}

FixtureTree::~FixtureTree() {
  boost::system::error_code ignored;
  fs::remove_all(root_, ignored);
}

void FixtureTree::Dir(const std::string& rel, const Files& files) {
  fs::create_directories(fs::path(root_) / rel);
  for (const auto& [name, content] : files) Write(rel + "/" + name, content);
}

void FixtureTree::Write(const std::string& rel_file,
                        const std::string& content) {
  fs::ofstream out(fs::path(root_) / rel_file,
                  std::ios::binary | std::ios::trunc);
  out << content;
}

std::string FixtureTree::Read(const std::string& rel_file) const {
  fs::ifstream in(fs::path(root_) / rel_file, std::ios::binary);
  if (!in) return "<missing>";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool FixtureTree::Exists(const std::string& rel) const {
  return fs::exists(fs::path(root_) / rel);
}

std::unique_ptr<RealCgroupFs> FixtureTree::OpenFs() const {
  auto fs = RealCgroupFs::Open(root_, RootCheck::kAllowPlainDir);
  if (!fs.ok()) throw std::runtime_error(std::string(fs.status().message()));
  return *std::move(fs);
}

CgroupPath P(const std::string& relative) {
  auto p = CgroupPath::Parse(relative);
  if (!p.ok()) throw std::runtime_error(std::string(p.status().message()));
  return *p;
}

}  // namespace kmemguard::testing
