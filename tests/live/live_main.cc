// SPDX-License-Identifier: Apache-2.0
//
// Entry of the live test binary. It exits 77 (CTest SKIP_RETURN_CODE) unless
// it runs as root with a writable cgroup v1 memory hierarchy, so a machine
// without one reports the tests as skipped, never as passed.

#define CATCH_CONFIG_RUNNER
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "boost/filesystem.hpp"
#include "boost/filesystem/fstream.hpp"
#include "catch2/catch.hpp"
#include "kmemguard/core/memory.h"
#include "live/live_env.h"

namespace kmemguard::live {
namespace {

CgroupPath g_scratch;
std::atomic<int> g_counter{0};

// Removes the scratch parent with everything below it, children first.
void RemoveScratch() {
  namespace fs = boost::filesystem;
  boost::system::error_code ec;
  fs::path root = fs::path(kMemoryMount) / g_scratch.ToString();
  if (!fs::exists(root, ec)) return;
  std::vector<fs::path> dirs;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (fs::is_directory(it->status(ec))) dirs.push_back(it->path());
  }
  std::sort(dirs.begin(), dirs.end(), [](const auto& a, const auto& b) {
    return a.string().size() > b.string().size();
  });
  for (int round = 0; round < 50; ++round) {
    bool all = true;
    for (const auto& d : dirs) {
      if (rmdir(d.c_str()) != 0 && errno != ENOENT) all = false;
    }
    if (rmdir(root.c_str()) != 0 && errno != ENOENT) all = false;
    if (all) return;
    usleep(100 * 1000);
  }
  std::fprintf(stderr, "live: could not remove scratch %s\n", root.c_str());
}

void OnSignal(int sig) {
  RemoveScratch();
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace

const CgroupPath& Scratch() { return g_scratch; }

CgroupPath FreshChild(const std::string& hint) {
  return g_scratch.Child(absl::StrCat(hint, "-", g_counter++));
}

long MemoryCgroupsInUse() {
  std::ifstream in("/proc/cgroups");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string name;
    long hierarchy, num, enabled;
    if (f >> name >> hierarchy >> num >> enabled && name == "memory") return num;
  }
  return -1;
}

long VisibleMemoryCgroups() {
  long n = 1;  // the root
  namespace fs = boost::filesystem;
  boost::system::error_code ec;
  for (auto it = fs::recursive_directory_iterator(kMemoryMount, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    fs::file_status st = it->symlink_status(ec);
    if (!ec && fs::is_directory(st) && !fs::is_symlink(st)) ++n;
  }
  return n;
}

std::string ReadMemoryFile(const std::string& rel) {
  boost::filesystem::ifstream in(boost::filesystem::path(kMemoryMount) / rel);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace kmemguard::live

int main(int argc, char** argv) {
  using namespace kmemguard::live;
  if (geteuid() != 0) {
    std::printf("live tests skipped: not root\n");
    return 77;
  }
  struct statfs fs;
  if (statfs(kMemoryMount, &fs) != 0 || fs.f_type != 0x27e0eb) {
    std::printf("live tests skipped: no cgroup v1 memory hierarchy at %s\n",
                kMemoryMount);
    return 77;
  }
  // Under ctest the `netns` fixture has made a named network namespace
  // (tests/CMakeLists.txt, issue 10): the tests must see it.
  if (const char* ns = std::getenv("KMEMGUARD_TEST_NETNS"); ns && *ns) {
    std::ifstream mi("/proc/self/mountinfo");
    std::string line;
    bool found = false;
    const std::string want = absl::StrCat(" /run/netns/", ns, " ");
    while (std::getline(mi, line)) {
      if (line.find(" net:[") != std::string::npos &&
          line.find(want) != std::string::npos)
        found = true;
    }
    if (!found) {
      std::printf("live tests: network namespace %s (ctest fixture netns) "
                  "is missing\n", ns);
      return 1;
    }
  }
  g_scratch = kmemguard::CgroupPath::Parse(
                  absl::StrCat("kmemguard-live-", getpid(), "-",
                               static_cast<long>(time(nullptr))))
                  .value();
  std::string scratch = absl::StrCat(kMemoryMount, "/", g_scratch.ToString());
  if (mkdir(scratch.c_str(), 0755) != 0) {
    std::printf("live tests skipped: cannot create %s: %s\n", scratch.c_str(),
                strerror(errno));
    return 77;
  }
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) signal(sig, OnSignal);
  int rc = Catch::Session().run(argc, argv);
  RemoveScratch();
  return rc == 77 ? 1 : rc;
}
