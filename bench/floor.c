/* SPDX-License-Identifier: Apache-2.0
 *
 * The floor for bench/: the same cgroup operations as kmemguard's
 * MemoryController, as the fewest raw system calls (open/write/close per
 * value, mkdir, rmdir; one read per file). No error messages, no path
 * checks, no retries: what a minimal C program does.
 *
 * Built twice: into bench_kmemguard (the functions, timed by Google
 * Benchmark next to ours) and as kmemguard_floor with a main, so that
 * `strace -c -f` can count its system calls:
 *
 *   kmemguard_floor OP DIR ITERATIONS
 *     OP: apply_set_remove | apply_set_remove_runc | set | getstats
 *     DIR: the cgroup (apply_set_remove: created and removed each time)
 *   kmemguard_floor wrapper_io STATE_DIR ITERATIONS TOML CONFIG_JSON RUNTIME ROOT
 *     the wrapper's create without its cgroup work (floor.h) */

#define _GNU_SOURCE
#include "floor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* Each operation opens its cgroup directory once and the files beneath it
 * with openat, as a careful minimal program would (kmemguard caches the
 * directory fd across operations, which the floor does not). */
static int open_dir(const char* dir) {
  int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

static int write_value(int dfd, const char* file, const char* value) {
  int fd = openat(dfd, file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  size_t len = strlen(value);
  int rc = write(fd, value, len) == (ssize_t)len ? 0 : -errno;
  close(fd);
  return rc;
}

static int read_file(int dfd, const char* file) {
  char buf[8192];
  int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  int rc = read(fd, buf, sizeof(buf)) >= 0 ? 0 : -errno;
  close(fd);
  return rc;
}

static const char* const kMemoryData[] = {
    "memory.usage_in_bytes", "memory.max_usage_in_bytes", "memory.failcnt",
    "memory.limit_in_bytes"};

static int write_config(int dfd) {
  int rc = write_value(dfd, "memory.limit_in_bytes", FLOOR_LIMIT);
  if (rc == 0) rc = write_value(dfd, "memory.memsw.limit_in_bytes", FLOOR_MEMSW);
  if (rc == 0)
    rc = write_value(dfd, "memory.soft_limit_in_bytes", FLOOR_RESERVATION);
  return rc;
}

int floor_apply_set_remove(const char* dir, int runc_reads) {
  if (mkdir(dir, 0755) != 0) return -errno;
  int dfd = open_dir(dir);
  int rc = dfd < 0 ? dfd : 0;
  if (rc == 0 && runc_reads) {
    for (int i = 0; i < 4 && rc == 0; ++i) rc = read_file(dfd, kMemoryData[i]);
  }
  if (rc == 0) rc = write_config(dfd);
  if (dfd >= 0) close(dfd);
  if (rmdir(dir) != 0 && rc == 0) rc = -errno;
  return rc;
}

int floor_set(const char* dir) {
  int dfd = open_dir(dir);
  if (dfd < 0) return dfd;
  /* The one read the runc semantics need: the current limit decides
   * whether memsw or the limit is written first. */
  int rc = read_file(dfd, "memory.limit_in_bytes");
  if (rc == 0) rc = write_config(dfd);
  close(dfd);
  return rc;
}

int floor_getstats(const char* dir) {
  static const char* const kFiles[] = {
      "memory.stat",
      "memory.usage_in_bytes", "memory.max_usage_in_bytes", "memory.failcnt",
      "memory.limit_in_bytes",
      "memory.memsw.usage_in_bytes", "memory.memsw.max_usage_in_bytes",
      "memory.memsw.failcnt", "memory.memsw.limit_in_bytes",
      "memory.kmem.usage_in_bytes", "memory.kmem.max_usage_in_bytes",
      "memory.kmem.failcnt", "memory.kmem.limit_in_bytes",
      "memory.kmem.tcp.usage_in_bytes", "memory.kmem.tcp.max_usage_in_bytes",
      "memory.kmem.tcp.failcnt", "memory.kmem.tcp.limit_in_bytes",
      "memory.use_hierarchy"};
  int dfd = open_dir(dir);
  if (dfd < 0) return dfd;
  int rc = 0;
  for (size_t i = 0; i < sizeof(kFiles) / sizeof(kFiles[0]) && rc == 0; ++i) {
    rc = read_file(dfd, kFiles[i]);
  }
  close(dfd);
  return rc;
}

/* open, read to the end, close. */
static int read_path(const char* path) {
  char buf[8192];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
  }
  int rc = n < 0 ? -errno : 0;
  close(fd);
  return rc;
}

int floor_wrapper_io(const char* state_dir, const char* toml,
                     const char* bundle_config, const char* runtime,
                     const char* root) {
  char stat_path[64];
  snprintf(stat_path, sizeof(stat_path), "/proc/%d/stat", (int)getpid());
  const char* const inputs[] = {toml, bundle_config, "/proc/self/mountinfo",
                                "/proc/self/cgroup", stat_path};
  for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); ++i) {
    int rc = read_path(inputs[i]);
    if (rc != 0) return rc;
  }
  struct stat st;
  if (stat("/proc/self/exe", &st) != 0 || stat(runtime, &st) != 0 ||
      access(runtime, X_OK) != 0) {
    return -errno;
  }
  char real[PATH_MAX];
  if (realpath(root, real) == NULL && errno != ENOENT) return -errno;
  struct utsname u;
  if (uname(&u) != 0) return -errno;
  char record[PATH_MAX], tmp[PATH_MAX + 32];
  snprintf(record, sizeof(record), "%s/floor.json", state_dir);
  snprintf(tmp, sizeof(tmp), "%s.tmp.%d", record, (int)getpid());
  static const char kRecord[256] = "{}";
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -errno;
  int rc = write(fd, kRecord, 250) == 250 ? 0 : -errno;
  if (rc == 0 && link(tmp, record) != 0) rc = -errno;
  unlink(tmp);
  if (rc == 0 && pwrite(fd, kRecord, sizeof(kRecord), 0) < 0) rc = -errno;
  close(fd);
  if (unlink(record) != 0 && rc == 0) rc = -errno;
  return rc;
}

#ifdef KMEMGUARD_FLOOR_MAIN
int main(int argc, char** argv) {
  const int wrapper_io = argc > 1 && strcmp(argv[1], "wrapper_io") == 0;
  if (argc != (wrapper_io ? 8 : 4)) {
    fprintf(stderr,
            "usage: %s apply_set_remove|apply_set_remove_runc|set|getstats "
            "DIR ITERATIONS\n"
            "       %s wrapper_io STATE_DIR ITERATIONS TOML CONFIG_JSON "
            "RUNTIME ROOT\n",
            argv[0], argv[0]);
    return 2;
  }
  const char* op = argv[1];
  const char* dir = argv[2];
  long n = strtol(argv[3], NULL, 10);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; ++i) {
    int rc;
    if (strcmp(op, "apply_set_remove") == 0) {
      rc = floor_apply_set_remove(dir, 0);
    } else if (strcmp(op, "apply_set_remove_runc") == 0) {
      rc = floor_apply_set_remove(dir, 1);
    } else if (strcmp(op, "set") == 0) {
      rc = floor_set(dir);
    } else if (strcmp(op, "getstats") == 0) {
      rc = floor_getstats(dir);
    } else if (wrapper_io) {
      rc = floor_wrapper_io(dir, argv[4], argv[5], argv[6], argv[7]);
    } else {
      fprintf(stderr, "unknown op %s\n", op);
      return 2;
    }
    if (rc != 0) {
      fprintf(stderr, "%s %s: %s\n", op, dir, strerror(-rc));
      return 1;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  printf("%s %.0f ns/op\n", op, n > 0 ? ns / n : 0.0);
  return 0;
}
#endif
