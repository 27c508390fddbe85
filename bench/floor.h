/* SPDX-License-Identifier: Apache-2.0
 *
 * The floor: the cgroup operations of bench/ as the fewest raw system calls
 * a minimal C program needs (floor.c). Each returns 0, or -errno. */

#ifndef KMEMGUARD_BENCH_FLOOR_H_
#define KMEMGUARD_BENCH_FLOOR_H_

#ifdef __cplusplus
extern "C" {
#endif

/* The typical container memory config written by every variant. */
#define FLOOR_LIMIT "268435456"       /* 256 MiB */
#define FLOOR_MEMSW "268435456"       /* 256 MiB: memory+swap = limit */
#define FLOOR_RESERVATION "134217728" /* 128 MiB */

/* mkdir DIR; write limit, memsw, soft limit in runc's order for a fresh
 * cgroup (limit first: memsw is below the unlimited current limit);
 * rmdir DIR. With `runc_reads`, also reads the four memory.* data files
 * runc's setMemoryAndSwap reads before choosing the order. */
int floor_apply_set_remove(const char* dir, int runc_reads);
/* The same three writes on an existing DIR. */
int floor_set(const char* dir);
/* Reads what runc's GetStats reads: memory.stat, then usage, max_usage,
 * failcnt, limit of memory, memory.memsw, memory.kmem, memory.kmem.tcp,
 * then memory.use_hierarchy; one read(2) per file. */
int floor_getstats(const char* dir);
/* The rest of the wrapper's create, which the wrapper issue requires on top
 * of the cgroup work (docs/process-model.md): read config.toml, the
 * bundle's config.json, /proc/self/mountinfo and /proc/self/cgroup (runc's
 * path resolution) and /proc/<pid>/stat (the record's start time); look
 * the runtime up (stat /proc/self/exe and it, access); realpath the runtime
 * root; uname; claim the record in STATE_DIR (a temporary file written and
 * linked into place), confirm it (one pwrite) and close it; then unlink it
 * so that the next round can claim it again. */
int floor_wrapper_io(const char* state_dir, const char* toml,
                     const char* bundle_config, const char* runtime,
                     const char* root);

#ifdef __cplusplus
}
#endif

#endif /* KMEMGUARD_BENCH_FLOOR_H_ */
