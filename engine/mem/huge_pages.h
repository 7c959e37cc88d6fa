// Transparent huge pages for large, long-lived buffers. On this kind of
// machine (a virtual machine) a page fault costs ~18 us, so filling a fresh
// 5 MiB pack piece buffer page by page costs ~23 ms; with huge pages it
// takes three faults. Only advice: where THP is off or unavailable nothing changes.
#pragma once

#include <cstddef>

namespace snap::engine::mem {

// Asks for huge pages on the whole 2 MiB pages inside [data, data + size).
void AdviseHugePages(void* data, size_t size);

}  // namespace snap::engine::mem
