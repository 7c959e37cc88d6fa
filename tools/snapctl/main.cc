#include <malloc.h>

#include "tools/snapctl/cli.h"

int main(int argc, char** argv) {
  // Release builds link tcmalloc_minimal (CMakeLists.txt), which ignores
  // these; they are for builds on glibc's malloc (the sanitizers', or
  // -DSNAPCTL_TCMALLOC=OFF). A capture's threads allocate buffers of every
  // size up to the largest chunk (8 MiB). glibc would raise its mmap threshold to the largest size
  // freed and serve them all from per-thread arenas, which fragment and
  // hold on to their peak: the peak RSS of a snapshot of 80,000 files and
  // 330 MB of media fell from ~172 MB to ~143 MB with these two settings.
  mallopt(M_MMAP_THRESHOLD, 2 << 20);
  mallopt(M_ARENA_MAX, 2);
  return snap::cli::RunCli(argc, argv);
}
